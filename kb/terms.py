"""What the Swedish domain terms in a source sentence mean in English: the glossary read backwards.

Design choices:
- ``kb/glossary.toml`` maps English domain phrases to the corpus's Swedish terms so English
  questions reach Swedish passages. Read backwards it says what a Swedish term means in English,
  in the words of the corpus's own English summary ("idéburna" → "values-based"). No other
  bilingual resource ships offline here (MODELS.md), and a term list is checked by tests against
  the corpus, which a translation model would not be.
- An English reader meets Swedish twice: in quoted source sentences (extractive answers, and
  quotes standing in for removed claims), which get a line of glosses, and in the 1.5B model's
  answers, which sometimes leave domain terms untranslated ("roles: röstbärare (rallye),
  demokratiskola …") and are rewritten the way the prompt asks, "voice (röstbärare)"
  (``english_first``, after the support check: the claim checked is the model's own).
- Giving the model these glosses in the prompt was measured and rejected: on the 32 English dev
  questions with answers, 8 glosses per question gave key facts 0.555 → 0.603 but cost 2.1 s of
  first token (median), and 4 of the rarest gave 0.555 → 0.503; a 1.5B model's answers shift with
  any change of prompt, so neither is a gain one can count on.
- Only terms a reader may not know: one spelled like its English ("dialog", "kvalitet" vs
  "quality" is kept) or common in Swedish (Zipf ≥ ``COMMON_ZIPF``, "forskning") is left out, and
  so are the corpus's everywhere-words ("civilsamhälle", "handlingsplan"). Under a long quote
  the rarest come first, so a list's line of glosses stays readable.
- Matching is by whole words with Swedish inflection endings, not by stems: the stemmer joins
  "brukar" (usually) and "brukare" (users). A longer term wins over the terms inside it
  ("ideella föreningar" over "föreningar").
- A Swedish term's English is the glossary key that lists it earliest among its values (its best
  equivalent), British spelling first; spelling variants and plurals of one key are one rendering.
  When two keys list it equally early, both are given ("insyn = openness / transparency"): the
  glossary's order serves retrieval (making "insyn" the first value of "transparency" cost one
  held-out English question its rank 1), not this reading.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from difflib import SequenceMatcher
from functools import lru_cache

from kb.retrieval import EVERYWHERE, glossary, tokens
from kb.text import EN_WORDS, SV_WORDS, fold, quoted
from kb.wordlist import swedish_frequencies

COMMON_ZIPF = 4.5  # Swedish words at least this common need no gloss (Zipf: log10 per billion words)
COGNATE_RATIO = 0.7  # a Swedish term spelled this much like its English needs none either
TERMS_PER_QUOTE = 10  # glosses under one quoted sentence: the rarest, so a long list stays readable
_ENDINGS = frozenset({"", "a", "e", "n", "s", "t", "en", "et", "na", "ne", "ns", "ar", "er", "or", "ens", "ets",
                      "nas", "arna", "erna", "orna", "arnas", "ernas", "ornas"})
_WORD = re.compile(r"[a-zåäöéü0-9]+(?:[-:][a-zåäöéü0-9]+)*", re.IGNORECASE)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _zipf(word: str) -> float:
    share = swedish_frequencies().get(word, 0.0)
    return math.log10(share * 1e9) if share > 0 else 0.0


def _variant_key(english: str) -> str:
    """One form for spelling variants and plurals of one rendering ("organizations" = "organisation")."""
    key = fold(english).replace("-", " ").replace("iz", "is").replace("yz", "ys").replace("our", "or")
    return "".join(w[:-1] if w.endswith("s") and len(w) > 3 else w for w in key.split())  # "non-profit" = "nonprofit"


Entry = tuple[tuple[str, ...], str, str]  # a term's words, the term as the glossary writes it, its English


@lru_cache(maxsize=2)
def _index(every: bool = False) -> dict[str, list[Entry]]:
    """First word of a Swedish term → (its words, the term, its English), longest terms first.
    Only the terms a reader needs glossed, or with ``every`` all of them (a translator's hints:
    "handlingsplan" = "action plan" keeps a small model from writing "handling plan")."""
    renderings: dict[str, list[tuple[int, int, str]]] = {}
    for order, (english, swedish) in enumerate(glossary().items()):
        for position, term in enumerate(swedish):
            renderings.setdefault(term, []).append((position, order, english))
    index: dict[str, list[Entry]] = {}
    for term, found in renderings.items():
        best = min(position for position, _, _ in found)  # keys that give it as their best equivalent
        tied = [key for position, _, key in sorted(found) if position == best]
        keys = list({_variant_key(k): k for k in reversed(tied)}.values())[::-1][:2]
        english = " / ".join(keys)
        words = tuple(_words(term))
        if not words:
            continue
        if not every and (all(t in EVERYWHERE for t in tokens(term))
                          or SequenceMatcher(None, fold(term), fold(keys[0])).ratio() >= COGNATE_RATIO
                          or min(_zipf(w) for w in words) >= COMMON_ZIPF):
            continue
        index.setdefault(words[0], []).append((words, term, english))
    for entries in index.values():
        entries.sort(key=lambda e: -len(e[0]))
    return index


def _inflected(term: tuple[str, ...], words: list[str]) -> bool:
    return len(term) <= len(words) and all(
        w.startswith(t) and w[len(t):] in _ENDINGS for t, w in zip(term, words, strict=False))


def _term_at(words: list[str], i: int, joined: Callable[[int], bool] = lambda n: True,
             every: bool = False) -> Entry | None:
    """The longest glossary term starting at ``words[i]`` (its words in any inflection), or None.
    ``joined(n)``: whether the n words it would span stand together in the text."""
    word = words[i]
    return next((e for k in range(len(word), 2, -1) for e in _index(every).get(word[:k], ())
                 if _inflected(e[0], words[i:i + len(e[0])]) and joined(len(e[0]))), None)


def english_terms(text: str, limit: int | None = None, every: bool = False) -> list[tuple[str, str]]:
    """(Swedish terms as the glossary writes them, their English) for the domain terms in ``text``
    that need a gloss (with ``every``: all of them), in the order they occur; terms with one
    English go together ("öppenhet, insyn"). With ``limit``, only that many glosses: those with
    the rarest terms."""
    words = _words(text)
    found: dict[str, list[str]] = {}  # English → its Swedish terms, in the text's order
    i = 0
    while i < len(words):
        match = _term_at(words, i, every=every)
        if match is None:
            i += 1
            continue
        term_words, term, english = match
        i += len(term_words)
        if any(_inflected(tuple(_words(t)), list(term_words)) or _inflected(term_words, _words(t))
               for same in found.values() for t in same):
            continue  # "upphandling" and "upphandlingar": one word, glossed once
        same = found.setdefault(_cased(english, term), [])
        if term not in same:
            same.append(term)
    glosses = [(", ".join(terms), english) for english, terms in found.items()]
    if limit is not None and len(glosses) > limit:
        rarest = sorted(glosses, key=lambda g: min(_zipf(w) for w in _words(g[0])))[:limit]
        glosses = [g for g in glosses if g in rarest]
    return glosses


def quote_glosses(sentence: str, language: str, source_language: str) -> str:
    """The gloss line for a sentence quoted from a ``source_language`` source in an answer in
    ``language``: only an English reader of a non-English source gets one (``TERMS_PER_QUOTE``
    glosses at most; "" for none)."""
    if language != "en" or source_language == "en":
        return ""
    return gloss_line(english_terms(sentence, TERMS_PER_QUOTE))


def gloss_line(terms: list[tuple[str, str]]) -> str:
    """'”långsiktighet, långsiktiga” = long-term; ”mångfald” = diversity' (empty for no terms): the
    Swedish quoted, as the source's own words are everywhere in an answer."""
    return "; ".join(f"{quoted(sv)} = {en}" for sv, en in terms)


_KEPT = re.compile(r"”[^”]*”|\([^()]*\)|\[\d+\]")  # quotes, the glosses the prompt asks for, citation marks
# the first bracket after a term in its clause: the model may have glossed a whole phrase there
_LATER_GLOSS = re.compile(r"[^.;:()\[\]]*\(([^()]*)\)")
# the model's own gloss right after a term ("röstbärare (rallye)"): a few words, no numbers
_AFTER = re.compile(r"\s*\((?:[^()\d\s]+\s?){1,5}\)")
_NOT_GLOSS = re.compile(r"\((?:see|cf|e\.g|i\.e|jfr|se)\b", re.IGNORECASE)  # "(see below)": a pointer, kept


def english_first(answer: str) -> str:
    """An English answer with the Swedish domain terms it left untranslated written the way the
    prompt asks, "English (Swedish)": "roles: röstbärare (rallye), demokratiskola" → "roles: voice
    (röstbärare), school of democracy (demokratiskola)". The model's own gloss after such a term
    gives way to the glossary's; quotes and terms already in brackets stay as they are."""
    kept = [m.span() for m in _KEPT.finditer(answer)]
    words = [m for m in _WORD.finditer(answer) if not any(a <= m.start() < b for a, b in kept)]
    folded = [m.group().casefold() for m in words]
    out: list[str] = []
    pos = i = 0
    while i < len(words):
        match = _term_at(folded, i, lambda n, i=i: all(words[j + 1].start() - words[j].end() <= 1
                                                        for j in range(i, i + n - 1)))
        if match is None:
            i += 1
            continue
        first, last = words[i], words[i + len(match[0]) - 1]
        if _in_swedish_phrase(answer, words, i, i + len(match[0]) - 1):
            i += len(match[0])
            continue
        end = last.end()
        gloss = _AFTER.match(answer, end)
        later = _LATER_GLOSS.match(answer, end)  # "forum, nätverk, projekt (… forums, networks, projects)"
        if later and _agrees(later.group(1), match[2]):  # "demokratiskola (democracy school)": translated
            i += len(match[0])
            continue
        if gloss and not _NOT_GLOSS.match(gloss.group().strip()) and not english_terms(gloss.group()):
            end = gloss.end()  # "röstbärare (rallye)": the model's gloss is wrong
        english = _cased(match[2].split(" / ")[0], answer[first.start():last.end()])
        out.append(f"{answer[pos:first.start()]}{english} ({answer[first.start():last.end()]})")
        pos = end
        i += len(match[0])
    out.append(answer[pos:])
    return "".join(out)


def _agrees(gloss: str, english: str) -> bool:
    """Whether the model's gloss shares a word with the glossary's English ("democracy school" and
    "school of democracy"; "create community" and "community"; "co-operation" and "cooperation")."""
    ours = {w.replace("-", "")[:5] for w in _words(english) if len(w) > 3}
    return any(w.replace("-", "")[:5] in ours for w in _words(gloss) if len(w) > 3)


_SMALL = frozenset({"of", "and", "for", "the", "on", "in", "to", "a"})


def _cased(english: str, swedish: str) -> str:
    """The glossary's lower-case English cased like the Swedish it stands for: "EES" → "EEA",
    "EU-kommissionen" → "European Commission" (a capital starts a name or a sentence), "EU-rättsliga"
    → "EU Law" (an acronym stays one)."""
    if swedish.isupper() and len(swedish) > 1:
        return english.upper()
    words = english.split(" ")
    if swedish[:1].isupper():
        words = [w if w in _SMALL and k else w[:1].upper() + w[1:] for k, w in enumerate(words)]
    acronyms = {a.casefold() for a in re.findall(r"\b[A-ZÅÄÖ]{2,}\b", swedish)}
    return " ".join(w.upper() if w.casefold() in acronyms else w for w in words)


_SWEDISH_ONLY = SV_WORDS - EN_WORDS


def _in_swedish_phrase(answer: str, words: list[re.Match], first: int, last: int) -> bool:
    """Is the term part of a Swedish phrase the model kept ("motvikt eller ett alternativ till
    offentliga eller vinstdrivande aktörer och sammanhang"): a Swedish function word right beside
    it, with nothing but a space between? Half-translating such a phrase reads worse than leaving it."""
    before = words[first - 1] if first > 0 else None
    after = words[last + 1] if last + 1 < len(words) else None
    return ((before is not None and answer[before.end():words[first].start()] == " "
             and before.group().casefold() in _SWEDISH_ONLY)
            or (after is not None and answer[words[last].end():after.start()] == " "
                and after.group().casefold() in _SWEDISH_ONLY))
