"""Text normalisation shared by ingest, retrieval and evaluation.

Design choices:
- ``fold`` is the one definition of "diacritic-insensitive": NFKD, drop combining marks,
  casefold, collapse whitespace. Swedish å/ä/ö fold to a/a/o, which is also what damaged OCR
  and users typing on foreign keyboards produce, so folded text is the common ground.
- Folding keeps string length roughly stable but not exactly; never use folded offsets to
  slice the original text.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, strip diacritics and collapse whitespace (å→a, ä→a, ö→o, é→e)."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped.casefold()).strip()


SV_WORDS = frozenset(["och", "att", "det", "som", "en", "är", "av", "för", "på", "med", "den", "till", "inte", "har", "de", "ett", "om", "vi", "kan", "ska", "eller", "från", "även", "också", "samt", "vilka", "hur", "vad", "när", "var", "får", "bör"])
EN_WORDS = frozenset(["the", "and", "of", "to", "is", "in", "that", "for", "on", "with", "as", "are", "be", "by", "this", "it", "from", "or", "can", "what", "which", "how", "does", "do", "an", "at", "should", "their", "about",
                      # none of these is a Swedish word: "Must we register?" has no other function word
                      "must", "we", "our", "you", "your", "who", "where", "when", "why", "will", "would",
                      "could", "there", "any", "have", "has", "was", "were", "they", "if", "into", "than"])


def guess_language(text: str) -> str:
    """'sv' or 'en' by function words, plus lower-case words with å/ä/ö (capitalised ones are
    often Swedish place names in English questions: "Örebro", "Göteborg"). Ties go to Swedish,
    the corpus's language."""
    raw = re.findall(r"[A-Za-zÅÄÖÉåäöé]+", text)
    words = [w.casefold() for w in raw]
    swedish_letters = sum(1 for w in raw if w[:1].islower() and any(c in "åäö" for c in w))
    sv = sum(w in SV_WORDS for w in words) + 1.5 * swedish_letters
    en = sum(w in EN_WORDS for w in words)
    return "en" if en > sv else "sv"


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(•A-ZÅÄÖÉ0-9])|\n+")
_ABBREVIATION_END = re.compile(r"\b(prop|skr|jfr|bl\.a|t\.ex|m\.m|dvs|ca|resp|nr|kap|s|e\.g|i\.e|etc|govt)\.$",
                               re.IGNORECASE)


_DOUBLE_QUOTES = re.compile(r"[”“\"]")


def quoted(sentence: str) -> str:
    """A source sentence in quotation marks, ”…”, its own quotation marks made single (’…’), as
    Swedish nests them: ”… av typen ”vanliga frågor” med …” would read as two quotes with the
    words between them outside. The citation keeps the sentence exactly as the source has it."""
    return f"”{_DOUBLE_QUOTES.sub('’', sentence.strip())}”"


_LIST_NUMBER = re.compile(r"^\d{1,2}\.$")  # "2." on its own: the number of the item that follows
_LEAD_NUMBER = re.compile(r"(?<=:)\s+(\d{1,2}\.)$")  # "… enligt följande: 1." (not "SOU 2016:13.")


def split_sentences(text: str) -> list[str]:
    """Sentences (and list lines); no split after abbreviations such as "Prop." or "bl.a.".

    A numbered list written on one line ("… enligt följande: 1. Partnerskapet är … 2. Det
    syftar …") splits into its lead-in and one sentence per item, each item keeping its number:
    split at every ". ", the numbers would stand alone or end the lead-in ("… följande: 1."),
    and the model, given that stub, wrote "as follows: 1"."""
    out: list[str] = []
    number = ""
    for piece in (p.strip() for p in _SENTENCE.split(text) if p and p.strip()):
        if number:
            piece, number = f"{number} {piece}", ""
        if _LIST_NUMBER.match(piece):
            number = piece
            continue
        lead = _LEAD_NUMBER.search(piece)
        if lead:
            number, piece = lead.group(1), piece[:lead.start()]
        if out and _ABBREVIATION_END.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    if number:
        out.append(number)
    return out
