"""Repair OCR-damaged Swedish text at ingest (issue 3).

The plan's only text is an OCR extraction in which most å/ä/ö became a/a/o and the rest became
odd characters (``&r`` = är, ``6kad`` = ökad, ``I6pande`` = löpande, ``krdver`` = kräver,
``sérskilt`` = särskilt, ``l4n`` = län).  This module restores real Swedish.

Design choices
--------------
* **Lexicon indexed by folded form.**  The Swedish word list (``kb.wordlist``: ``wordfreq``'s
  "large", ~336k alphabetic words, here on the Zipf scale) is indexed by its folded form
  (å/ä→a, ö→o, é→e, via :func:`kb.text.fold` semantics).  A stripped token such as
  ``samhallet`` is then one dictionary look-up away from ``{samhället}``; the choice among
  variants (``for``/``för``, ``var``/``vår``) is by frequency.  The lexicon is built once per process (:func:`lexicon`, ``lru_cache``).
* **Confusion model only for the garbage.**  Characters that are never Swedish letters inside a
  word (``&``, ``@``, ``6``, ``4``, ``1``, ``|``) and letters OCR substitutes for ä/ö (``é``, ``d``,
  ``g``, an upper-case ``I`` for ``l``) expand into candidates in *folded* space; each candidate
  costs the sum of its edit costs (0 for garbage characters, more for real letters such as ``d``)
  and is scored ``zipf - cost``.  Only a bounded number of costly edits is tried per token.
* **Compounds.**  Swedish compounds missing from the word list (``foreningsstodet``,
  ``samverkanspartner``) are split into two or three known parts (a part may carry a linking
  ``s``), and each part is restored on its own.  Fewer parts win, then the rarest part's frequency.
* **Document mode decides about real words.**  A stripped token that is itself a real word
  (``for``, ``bor``, ``far``) is only replaced when the document as a whole looks stripped: many
  tokens whose far more frequent variant carries å/ä/ö, and few tokens that actually contain å/ä/ö.
  In a correct ("intact") document known words are never touched, which keeps correct Swedish a
  fixed point; unknown tokens and garbage are handled the same way in both modes, which keeps
  ``repair_text`` idempotent.
* **Context for real ties.**  A few frequent ambiguous forms (``ar`` är/år, ``har`` har/här,
  ``var``/``vara``/``vart`` possessive or not, ``bor`` bor/bör, ``starka`` adjective/verb) are
  decided by small hand-written rules over the neighbouring words (a tiny "bigram" model).
* **English is left alone.**  Paragraphs whose function words are English are not repaired
  (``later`` must not become ``låter``); neither are URLs, numbers, references (``SOU 2016:13``),
  abbreviations with internal dots (``bl.a.``, ``t.ex.``), short all-caps acronyms that are known
  (``EU``, ``LOV``, ``SOU``), and tokens with digits in all-caps words (``CO2``).
* **When unsure, leave it.**  A candidate must clear a score threshold; a token that looks damaged
  but has no good candidate is left unchanged and listed in ``RepairResult.unresolved``.
* **Layout is preserved.**  Only word characters change: whitespace, line breaks and the single
  leading space that marks a page break stay.  Bullet glyphs at line start (``¢``, ``°``, ``«``,
  U+F0B7, a lone ``e``/``o``) become ``•``.  A word hyphenated across a line break is joined on the
  first line and the rest of the second line stays on the second line, so the line count is equal.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from kb.text import fold
from kb.wordlist import swedish_frequencies

__all__ = [
    "REPAIR_VERSION",
    "Lexicon",
    "RepairResult",
    "damage_rate",
    "format_report",
    "lexicon",
    "looks_damaged",
    "repair_file",
    "repair_text",
]

# --------------------------------------------------------------------------------------------
# Lexicon

REPAIR_VERSION = "4"  # bump when the repair of a given text changes (3: dropped letter over compound; 4: "ss…")

_FAST_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "è": "e", "ü": "u", "á": "a"})
_DIACRITIC = frozenset("åäöÅÄÖ")
_ASCII_PLUS = re.compile(r"^[a-zåäöéèüá]+$")


def _fold_word(word: str) -> str:
    """Fold one lower-case word: å/ä→a, ö→o, é→e (fast path for the common alphabet)."""
    if _ASCII_PLUS.match(word):
        return word.translate(_FAST_FOLD)
    return fold(word).replace(" ", "")


@dataclass(frozen=True)
class Lexicon:
    """Swedish word frequencies (Zipf scale) and an index by folded form."""

    zipf: dict[str, float]
    by_fold: dict[str, tuple[tuple[str, float], ...]]  # variants, most frequent first

    def z(self, word: str) -> float:
        """Zipf frequency of a lower-case word (0.0 when unknown)."""
        return self.zipf.get(word, 0.0)

    def best(self, folded: str) -> tuple[str, float] | None:
        """The most frequent word whose folded form is ``folded``."""
        variants = self.by_fold.get(folded)
        return variants[0] if variants else None


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """Load the Swedish word list once per process (about 0.5 s)."""
    zipf: dict[str, float] = {}
    groups: dict[str, list[tuple[str, float]]] = {}
    for word, freq in swedish_frequencies().items():
        z = round(math.log10(freq) + 9.0, 2)
        zipf[word] = z
        groups.setdefault(_fold_word(word), []).append((word, z))
    by_fold = {key: tuple(sorted(vs, key=lambda v: (-v[1], v[0]))) for key, vs in groups.items()}
    return Lexicon(zipf=zipf, by_fold=by_fold)


# --------------------------------------------------------------------------------------------
# Confusion model (operates on lower-cased tokens; candidates are produced in folded space)

_GARBAGE_CHARS = frozenset("&@|0123456789")
_ACCEPT = 1.5  # minimum score (zipf - cost) for a repair of an unknown token
_KNOWN_MARGIN = 0.0  # stripped mode: a variant must be at least this much more frequent
_MAX_COSTLY = 2
_MAX_VARIANTS = 600
_PART_ZIPF = 2.3  # a compound's last part (4+ letters) must be at least this frequent
_AE = "äå"

# A variant is (folded spelling, cost, positions read as I→l, constraints); a constraint
# (position, letters) says which real letter the folded a/o/e at that position must be: OCR
# garbage always stands for a letter with a diacritic (``&`` is ä, never a plain a).
_Variant = tuple[str, float, frozenset[int], tuple[tuple[int, str], ...]]


def _variants(token: str, insert: bool = False) -> list[_Variant]:
    """Folded candidate spellings of ``token`` (original case, so ``I`` can be recognised).

    Zero-cost rules cover characters that are never letters inside a word (``& @ 6 4 1 |``,
    ``é`` next to a/o); costly rules cover real letters OCR reads for å/ä/ö (``d``, ``g``, ``i``,
    ``a``) and, with ``insert``, a dropped ö/å/ä.
    """
    out: list[_Variant] = []
    n = len(token)

    def walk(
        i: int,
        acc: str,
        cost: float,
        costly: int,
        lpos: frozenset[int],
        cons: tuple[tuple[int, str], ...],
        inserted: bool,
    ) -> None:
        if len(out) >= _MAX_VARIANTS:
            return
        if i == n:
            out.append((acc, cost, lpos, cons))
            return
        ch = token[i]
        low = ch.lower()
        nxt = token[i + 1].lower() if i + 1 < n else ""
        prv = token[i - 1].lower() if i > 0 else ""
        k = len(acc)
        if insert and not inserted and i > 0 and costly < _MAX_COSTLY:
            walk(i, acc + "o", cost + 1.5, costly + 1, lpos, (*cons, (k, "ö")), True)
            walk(i, acc + "a", cost + 1.7, costly + 1, lpos, (*cons, (k, _AE)), True)
        if insert and not inserted and i == 0:
            walk(i, acc + "o", cost + 1.5, costly + 1, lpos, (*cons, (k, "ö")), True)
        if low in "&@4":
            walk(i + 1, acc + "a", cost, costly, lpos, (*cons, (k, "ä")), inserted)
            return
        if low in "60":
            walk(i + 1, acc + "o", cost + (0.3 if low == "0" else 0.0), costly, lpos, (*cons, (k, "ö")), inserted)
            return
        if low == "1":
            walk(i + 1, acc + "l", cost, costly, lpos, cons, inserted)
            if nxt == "a":  # "l1an": "1a" read for ä
                walk(i + 2, acc + "a", cost + 1.5, costly, lpos, (*cons, (k, "ä")), inserted)
            return
        if low == "|":
            walk(i + 1, acc + "l", cost, costly, lpos, cons, inserted)
            return
        if low == "é":
            if prv and prv in "ao" and k > 0:  # "aé", "oé", "aéa": the vowel is the letter
                letter = "ä" if prv == "a" else "ö"
                step = 2 if prv == "a" and nxt == "a" else 1
                walk(i + step, acc, cost, costly, lpos, (*cons, (k - 1, letter)), inserted)
            if nxt == "a":  # "éa" (vägledning, består)
                walk(i + 2, acc + "a", cost, costly, lpos, (*cons, (k, "ä")), inserted)
                walk(i + 2, acc + "a", cost + 0.6, costly, lpos, (*cons, (k, "å")), inserted)
            walk(i + 1, acc + "a", cost, costly, lpos, (*cons, (k, "ä")), inserted)
            walk(i + 1, acc + "a", cost + 0.6, costly, lpos, (*cons, (k, "å")), inserted)
            walk(i + 1, acc + "o", cost, costly, lpos, (*cons, (k, "ö")), inserted)
            walk(i + 1, acc + "e", cost + 0.1, costly, lpos, (*cons, (k, "é")), inserted)
            return
        if low in "åäö":
            walk(i + 1, acc + _fold_word(low), cost, costly, lpos, (*cons, (k, low)), inserted)
            return
        base = _fold_word(low) if low.isalpha() else low
        walk(i + 1, acc + base, cost, costly, lpos, cons, inserted)
        if ch == "I" and n > 1:
            walk(i + 1, acc + "l", cost + 0.3, costly, lpos | {i}, cons, inserted)
            return
        if costly >= _MAX_COSTLY:
            return
        if low == "d":
            walk(i + 1, acc + "o", cost + 0.5, costly + 1, lpos, (*cons, (k, "ö")), inserted)
            walk(i + 1, acc + "a", cost + 0.6, costly + 1, lpos, (*cons, (k, _AE)), inserted)
            if nxt in ("a", "o"):  # "vdagledande": d+a read for ä
                letter = _AE if nxt == "a" else "ö"
                walk(i + 2, acc + nxt, cost + 0.8, costly + 1, lpos, (*cons, (k, letter)), inserted)
            if prv == "é":  # "intédkten"
                walk(i + 1, acc, cost + 0.5, costly + 1, lpos, cons, inserted)
        elif low == "g":
            walk(i + 1, acc + "o", cost + 1.0, costly + 1, lpos, (*cons, (k, "ö")), inserted)
        elif low == "i" and i > 0:
            walk(i + 1, acc + "l", cost + 1.5, costly + 1, lpos, cons, inserted)
            walk(i + 1, acc + "a", cost + 1.5, costly + 1, lpos, (*cons, (k, "ä")), inserted)
        elif low == "a":
            walk(i + 1, acc + "o", cost + 1.2, costly + 1, lpos, (*cons, (k, "ö")), inserted)
        elif low == "s" and nxt == "s":
            walk(i + 1, acc + "a", cost + 1.5, costly + 1, lpos, cons, inserted)
        elif low == "s" and i == 1 and prv == "s":  # no Swedish word starts "ss": "ssmmanvagt"
            walk(i + 1, acc + "a", cost + 0.5, costly + 1, lpos, cons, inserted)

    walk(0, "", 0.0, 0, frozenset(), (), False)
    return out


def _lookup(lex: Lexicon, folded: str, cons: tuple[tuple[int, str], ...]) -> tuple[str, float] | None:
    """Most frequent word with this folded form that satisfies the letter constraints."""
    for word, z in lex.by_fold.get(folded, ()):
        if _satisfies(word, cons):
            return word, z
    return None


def _satisfies(word: str, cons: tuple[tuple[int, str], ...]) -> bool:
    if not cons:
        return True
    if len(word) != len(_fold_word(word)):
        return False
    return all(p < len(word) and word[p] in allowed for p, allowed in cons)


def _split(folded: str, lex: Lexicon, depth: int = 0) -> list[tuple[str, float]] | None:
    """Best split of a folded compound into known parts: [(restored part, zipf), ...].

    Parts are scored as a product of probabilities (sum of Zipf values minus 9 per extra part),
    so two common parts beat three and a rare long part beats two short ones.
    """
    best: list[tuple[str, float]] | None = None
    best_score = -1e9
    n = len(folded)
    for i in range(3, n - 2):
        left, right = folded[:i], folded[i:]
        r = lex.best(right)
        if r is None or r[1] < (_PART_ZIPF if len(right) >= 4 else 4.0):
            continue
        lefts: list[list[tuple[str, float]]] = []
        lbest = lex.best(left)
        if lbest is not None and lbest[1] >= 2.5:
            lefts.append([lbest])
        if left.endswith("s") and len(left) >= 4:
            stem = lex.best(left[:-1])
            if stem is not None and stem[1] >= 2.5:
                lefts.append([(stem[0] + "s", stem[1])])
        if depth == 0 and len(left) >= 6:
            sub = _split(left, lex, depth + 1)
            if sub is not None:
                lefts.append(sub)
        for parts in lefts:
            cand = [*parts, r]
            score = sum(p[1] for p in cand) - 9.0 * (len(cand) - 1)
            if score > best_score:
                best, best_score = cand, score
    return best


@dataclass(frozen=True)
class _Choice:
    word: str | None  # lower-case replacement (may equal the token); None = no candidate
    score: float
    lpos: frozenset[int] = frozenset()
    direct: bool = True  # a whole known word (not a compound or an inserted letter)


@lru_cache(maxsize=65536)
def _resolve_unknown(token: str) -> _Choice:
    """Best repair for a token that is not a known word (or contains OCR garbage)."""
    lex = lexicon()
    best = _Choice(None, -99.0)
    variants = _variants(token)
    for folded, cost, lpos, cons in variants:
        hit = _lookup(lex, folded, cons)
        if hit is not None and hit[1] - cost > best.score:
            best = _Choice(hit[0], hit[1] - cost, lpos)
    if best.word is not None and best.score >= _ACCEPT:
        return best
    # compounds: accepted on their own terms (every part known), best product of parts
    comp = _Choice(None, -1e9)
    for folded, cost, lpos, cons in variants:
        if cost > 1.0 or len(folded) < 6:
            continue
        parts = _split(folded, lex)
        if parts is None:
            continue
        word = "".join(p[0] for p in parts)
        if not _satisfies(word, cons):
            continue
        score = sum(p[1] for p in parts) - 9.0 * (len(parts) - 1) - 3.0 * cost
        if score > comp.score:
            comp = _Choice(word, score, lpos)
    # a dropped ö/å/ä ("behver", "sdana", "vervaganden")
    if len(token) >= 3:
        for folded, cost, lpos, cons in _variants(token, insert=True):
            hit = _lookup(lex, folded, cons)
            if hit is not None and hit[1] - cost > best.score:
                best = _Choice(hit[0], hit[1] - cost, lpos, direct=False)
    if comp.word is not None:
        # the token is damaged either way; a whole word with one letter put back beats a less
        # likely compound ("vervaganden": "överväganden" 1.1, not "ver|väg|änden" -5.4)
        if best.word is not None and best.score > comp.score:
            return _Choice(best.word, _ACCEPT, best.lpos, direct=False)
        return _Choice(comp.word, _ACCEPT, comp.lpos, direct=False)
    return best


@lru_cache(maxsize=65536)
def _confusion_known(token: str) -> _Choice:
    """A much more frequent confusion variant of a known token (``dr``→är, ``Ian``→län)."""
    lex = lexicon()
    best = _Choice(None, -99.0)
    for folded, cost, lpos, cons in _variants(token):
        if cost <= 0.0 or cost > 1.0:
            continue
        hit = _lookup(lex, folded, cons)
        if hit is not None and hit[1] - cost > best.score:
            best = _Choice(hit[0], hit[1] - cost, lpos)
    return best


# --------------------------------------------------------------------------------------------
# Context rules for frequent ties (stripped mode only; operate on folded neighbours)

_YEAR_BEFORE = frozenset(
    [
        "samma",
        "detta",
        "varje",
        "flera",
        "manga",
        "nasta",
        "forra",
        "ett",
        "per",
        "tva",
        "tre",
        "fyra",
        "fem",
        "tio",
        "hela",
        "foregaende",
        "senaste",
        "kommande",
    ]
)
_MODAL = frozenset(
    [
        "att",
        "ska",
        "skall",
        "kan",
        "kunna",
        "bor",
        "maste",
        "vill",
        "skulle",
        "kommer",
        "ma",
        "inte",
        "ocksa",
        "aven",
        "far",
        "kunde",
    ]
)
_PREPOSITION = frozenset(
    [
        "i",
        "av",
        "for",
        "till",
        "med",
        "pa",
        "om",
        "fran",
        "inom",
        "genom",
        "at",
        "under",
        "efter",
        "mot",
        "vid",
        "utan",
        "hos",
    ]
)
_DETERMINER = frozenset(
    [
        "de",
        "dess",
        "deras",
        "sina",
        "sin",
        "vara",
        "era",
        "mina",
        "dina",
        "hans",
        "hennes",
        "dessa",
        "alla",
        "manga",
        "mycket",
        "sa",
        "tva",
    ]
)
_LIVE_AFTER = frozenset(
    [
        "i",
        "pa",
        "hos",
        "kvar",
        "med",
        "tillsammans",
        "har",
        "dar",
        "nara",
        "utomlands",
        "ensam",
        "ensamma",
        "hemma",
        "sjalv",
    ]
)
_HERE_VERBS = frozenset(["definieras", "avses", "beskrivs", "anvands", "menas", "redovisas", "ges", "presenteras"])
_SENTENCE_HERE = frozenset(
    ["kan", "finns", "handlar", "ar", "galler", "ska", "maste", "bor", "visas", "beskrivs", "redovisas", "presenteras"]
)
_DEFINITE_END = ("en", "et", "na")
_NOT_NOUN = frozenset(["en", "ett", "ingen", "inget", "det", "den", "de", "detta", "denna", "dessa"])


def _context_choice(key: str, prev: str, nxt: str, sentence_start: bool) -> str | None:
    """Choose among variants of an ambiguous folded ``key`` from its neighbours."""
    if key == "ar":
        return "år" if prev in _YEAR_BEFORE or prev.isdigit() else "är"
    if key == "aren":
        return "åren"
    if key == "har":
        if sentence_start and nxt in _SENTENCE_HERE:
            return "här"
        if prev in _HERE_VERBS:
            return "här"
        definite = len(nxt) >= 4 and nxt not in _NOT_NOUN and nxt.endswith(_DEFINITE_END)
        if prev in ("den", "det") and definite:
            return "här"
        return "har"
    if key == "var":
        return "vår" if prev in _PREPOSITION and nxt not in _PREPOSITION else "var"
    if key == "vara":
        if prev in _MODAL or prev in _PREPOSITION or not nxt.endswith("a") or len(nxt) < 4:
            return "vara"
        return "våra"
    if key == "vart":
        return "vårt" if len(nxt) >= 4 and nxt.endswith(("a", "t")) else "vart"
    if key == "bor":
        return "bor" if nxt in _LIVE_AFTER else "bör"
    if key == "starka":
        return "starka" if prev in _DETERMINER else "stärka"
    return None


_CONTEXT_KEYS = frozenset(["ar", "aren", "har", "var", "vara", "vart", "bor", "starka"])

# --------------------------------------------------------------------------------------------
# Tokenisation

_LINE_BULLETS = frozenset({"¢", "°", "«", "\uf0b7", "e", "o", "»", "©"})
_CHUNK = re.compile(r"\S+")
_WORD = re.compile(r"[\w&@]+(?:[.:'’][\w&@]+)*")
_URLISH = re.compile(r"(://|^www\.|^[\w.-]+\.(se|eu|com|org|nu|net)\b)", re.IGNORECASE)
_SENT_END = re.compile(r"[.!?:]$")
_EN_WORDS = frozenset(
    [
        "the",
        "and",
        "of",
        "to",
        "is",
        "that",
        "with",
        "are",
        "be",
        "by",
        "this",
        "which",
        "or",
        "it",
        "was",
        "have",
        "has",
        "not",
        "their",
        "will",
        "these",
        "been",
        "its",
        "from",
        "an",
        "on",
        "as",
        "would",
        "should",
        "could",
        "they",
        "there",
        "we",
        "our",
    ]
)
_SV_WORDS = frozenset(
    [
        "och",
        "att",
        "det",
        "som",
        "den",
        "med",
        "till",
        "av",
        "en",
        "ett",
        "inte",
        "om",
        "de",
        "kan",
        "ska",
        "eller",
        "samt",
        "ocksa",
        "vid",
        "detta",
        "dessa",
        "ar",
        "pa",
        "for",
        "fran",
        "sin",
        "sina",
        "har",
        "finns",
    ]
)


def _language_counts(block: str) -> tuple[int, int]:
    """(English, Swedish) function-word counts of a block of text."""
    words = [w.lower() for w in re.findall(r"[A-Za-zÅÄÖåäöé]+", block)]
    en = sum(w in _EN_WORDS for w in words)
    sv = sum(_fold_word(w) in _SV_WORDS for w in words)
    return en, sv


def _english_lines(lines: list[str]) -> list[bool]:
    """Mark lines of English paragraphs (blank-line separated blocks).

    A block with too few function words to tell (a heading, a short bullet) takes the language
    of the whole text.
    """
    blocks: list[tuple[int, int]] = []
    start = 0
    for i in range(len(lines) + 1):
        if i == len(lines) or not lines[i].strip():
            if i > start:
                blocks.append((start, i))
            start = i + 1
    counts = [_language_counts("\n".join(lines[a:b])) for a, b in blocks]
    doc_en = sum(c[0] for c in counts) > max(1, sum(c[1] for c in counts))
    flags = [False] * len(lines)
    for (a, b), (en, sv) in zip(blocks, counts, strict=True):
        if en >= 2 and en > sv:
            english = True
        elif sv >= 2 and sv > en:
            english = False
        else:
            english = doc_en
        for j in range(a, b):
            flags[j] = english
    return flags


def _case_like(original: str, word: str, lpos: frozenset[int]) -> str:
    letters = [c for c in original if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters) and not lpos:
        return word.upper()
    if original[:1].isupper() and 0 not in lpos:
        return word[:1].upper() + word[1:]
    return word


# --------------------------------------------------------------------------------------------
# Result


@dataclass
class RepairResult:
    """Repaired text plus what was changed and what could not be resolved."""

    text: str
    changes: Counter[tuple[str, str]] = field(default_factory=Counter)
    unresolved: list[str] = field(default_factory=list)
    tokens: int = 0
    changed: int = 0
    mode: str = "intact"  # "stripped" when the document had lost its å/ä/ö

    @property
    def change_rate(self) -> float:
        return self.changed / self.tokens if self.tokens else 0.0


@dataclass
class _Tok:
    line: int
    start: int
    end: int
    text: str
    kind: str  # "word" | "garbage" | "skip"
    english: bool


def _kind(t: str) -> str:
    """Classify a word-like token: "word", "garbage" (OCR junk inside letters) or "skip"."""
    if t.isalpha():
        return "word"
    if any(c in ".:'’_" for c in t) or t.isdigit():
        return "skip"  # bl.a, 2016:13, EU:s, numbers
    if any(c in _GARBAGE_CHARS for c in t):
        letters = [c for c in t if c.isalpha()]
        if not letters or (len(letters) >= 2 and all(c.isupper() for c in letters)):
            return "skip"  # CO2, 4G, 1990
        return "garbage"
    return "skip"


def _tokens(lines: list[str], english: list[bool]) -> Iterator[_Tok]:
    for ln, line in enumerate(lines):
        for chunk in _CHUNK.finditer(line):
            if _URLISH.search(chunk.group()):
                continue
            for m in _WORD.finditer(chunk.group()):
                t = m.group()
                s, e = chunk.start() + m.start(), chunk.start() + m.end()
                yield _Tok(ln, s, e, t, _kind(t), english[ln])


def _has_diacritic(word: str) -> bool:
    return any(c in _DIACRITIC for c in word)


def _stripped_signal(token: str, lex: Lexicon) -> bool:
    """A real-looking token whose far more frequent variant carries å/ä/ö (``for``, ``pa``)."""
    low = token.lower()
    if len(low) < 2 or any(c in _DIACRITIC for c in low):
        return False
    hit = lex.best(_fold_word(low))
    if hit is None or hit[0] == low or not any(c in _DIACRITIC for c in hit[0]):
        return False
    return hit[1] >= 4.0 and hit[1] >= lex.z(low) + 1.0


def _document_stripped(toks: list[_Tok], lex: Lexicon) -> bool:
    with_diacritics = 0
    stripped = 0
    for t in toks:
        if t.english or t.kind != "word":
            continue
        if any(c in _DIACRITIC for c in t.text):
            with_diacritics += 1
        elif _stripped_signal(t.text, lex):
            stripped += 1
    if with_diacritics == 0 and stripped == 0:
        # no evidence either way (a short text): a Swedish word spelled without å/ä/ö that
        # exists only with them means the text was stripped
        return any(t.kind == "word" and not t.english and _stripped_unknown(t.text, lex) for t in toks)
    return stripped >= 1 and stripped > 0.5 * with_diacritics


def _stripped_unknown(token: str, lex: Lexicon) -> bool:
    low = token.lower()
    if lex.z(low) >= 2.5 or _has_diacritic(low):
        return False
    choice = _resolve_unknown(token)
    return choice.word is not None and choice.score >= _ACCEPT and _has_diacritic(choice.word)


# --------------------------------------------------------------------------------------------
# Line-level fixes: bullets and hyphenation


def _fix_bullet(line: str) -> str:
    stripped = line.lstrip(" ")
    lead = line[: len(line) - len(stripped)]
    if len(lead) > 1:  # only plain lines or the single page-break space
        return line
    head, sep, rest = stripped.partition(" ")
    if head in _LINE_BULLETS and sep and rest[:1].isalpha():
        return lead + "•" + sep + rest
    if stripped[:1] == "\uf0b7":
        return lead + "•" + stripped[1:]
    return line


_HYPHEN_END = re.compile(r"(\S*[A-Za-zÅÄÖåäöé])-$")
_NEXT_WORD = re.compile(r"^( ?)([a-zåäöé][\w&@]*)([.,;:!?)]*)(\s*)")
_NO_JOIN = frozenset(["och", "eller", "samt", "som", "men", "respektive"])


def _join_hyphens(lines: list[str]) -> list[str]:
    out = list(lines)
    for i in range(len(out) - 1):
        m = _HYPHEN_END.search(out[i])
        if not m or _URLISH.search(m.group(1)):
            continue
        n = _NEXT_WORD.match(out[i + 1])
        if not n or n.group(2) in _NO_JOIN:
            continue
        prefix = m.group(1)
        keep_hyphen = prefix.isupper() or prefix[-1:].isdigit()
        joined = prefix + ("-" if keep_hyphen else "") + n.group(2) + n.group(3)
        out[i] = out[i][: m.start()] + joined
        out[i + 1] = n.group(1) + out[i + 1][n.end() :]
    return out


# --------------------------------------------------------------------------------------------
# Main entry points


def _decide_unknown(tok: _Tok, lex: Lexicon, sentence_start: bool, stripped_mode: bool) -> tuple[str | None, bool]:
    """Mode-independent decision for garbage and unknown tokens: (replacement, unresolved)."""
    t = tok.text
    low = t.lower()
    own = lex.z(low)
    if not stripped_mode and tok.kind == "word" and ("é" not in low or _has_diacritic(low)):
        # an unknown word in a correct text: only a clear OCR confusion of one known word
        # ("aktdrer", "internationelit") is repaired, never a compound or a foreign word
        choice = _resolve_unknown(t)
        if own == 0.0 and choice.direct and choice.word and choice.score >= 2.5:
            return _case_like(t, choice.word, choice.lpos), False
        return None, False
    if tok.kind == "word" and t[:1].isupper() and not sentence_start and own > 0.0:
        hit = lex.best(_fold_word(low))
        if hit is None or hit[1] < own + 1.5:
            return None, False  # a rare proper noun
    choice = _resolve_unknown(t)
    if choice.word is not None and choice.score >= _ACCEPT:
        if choice.word == low:
            return None, False
        return _case_like(t, choice.word, choice.lpos), False
    return None, tok.kind == "garbage" or (own == 0.0 and t.islower())


def _decide_known(
    tok: _Tok,
    lex: Lexicon,
    evidence: Counter[str],
    prev: str,
    nxt: str,
    sentence_start: bool,
) -> str | None:
    """Stripped-mode decision for a token that is itself a (possibly stripped) known word."""
    t = tok.text
    low = t.lower()
    if any(c in _DIACRITIC for c in low):
        return None
    own = lex.z(low)
    key = _fold_word(low)
    if key in _CONTEXT_KEYS:
        word = _context_choice(key, prev, nxt, sentence_start)
        return _case_like(t, word, frozenset()) if word and word != low else None
    variants = lex.by_fold.get(key, ())
    seen = [(evidence[w], z, w) for w, z in variants if w != low and evidence[w]]
    if seen:  # the document itself spells this word with å/ä/ö elsewhere
        return _case_like(t, max(seen)[2], frozenset())
    hit = variants[0] if variants else None
    if hit is not None and hit[0] != low and hit[1] >= max(own + _KNOWN_MARGIN, _ACCEPT):
        if t[:1].isupper() and not sentence_start and hit[1] < own + 1.5 and own < 2.5:
            return None  # a rare proper noun
        return _case_like(t, hit[0], frozenset())
    conf = _confusion_known(t)
    if conf.word is not None and conf.word != low and conf.score >= own + _KNOWN_MARGIN:
        return _case_like(t, conf.word, conf.lpos)
    if own < 2.5:  # a rare spelling: treat like an unknown token
        return _decide_unknown(tok, lex, sentence_start, True)[0]
    return None


def _is_known(tok: _Tok, lex: Lexicon) -> bool:
    return tok.kind == "word" and lex.z(tok.text.lower()) >= 2.5


def repair_text(text: str) -> RepairResult:
    """Repair OCR-damaged Swedish in ``text``; see the module docstring for the rules."""
    lex = lexicon()
    # bullets again after joining: a join can bring a bullet glyph to the start of a line
    lines = [_fix_bullet(line) for line in _join_hyphens([_fix_bullet(line) for line in text.split("\n")])]
    english = _english_lines(lines)
    toks = list(_tokens(lines, english))
    stripped_mode = _document_stripped(toks, lex)

    # sentence starts (a token after . ! ? : or at the start of a paragraph)
    starts: list[bool] = []
    prev_end = True
    for tok in toks:
        starts.append(prev_end)
        after = lines[tok.line][tok.end : tok.end + 1]
        prev_end = bool(_SENT_END.match(after))

    # pass 1: garbage and unknown tokens; words the document spells with å/ä/ö are evidence
    decided: dict[int, str | None] = {}
    unresolved: set[str] = set()
    evidence: Counter[str] = Counter()
    for i, tok in enumerate(toks):
        if tok.kind == "skip" or tok.english or len(tok.text) < 2:
            continue
        if any(c in _DIACRITIC for c in tok.text) and _is_known(tok, lex):
            evidence[tok.text.lower()] += 1
            continue
        if tok.kind == "word" and lex.z(tok.text.lower()) > 0.0:
            if tok.text.isupper() and len(tok.text) <= 4 and lex.z(tok.text.lower()) >= 3.0:
                decided[i] = None  # a known acronym: EU, LOV, SOU
            continue  # a known (maybe stripped) word: pass 2
        rep, bad = _decide_unknown(tok, lex, starts[i], stripped_mode)
        decided[i] = rep
        if rep is not None:
            evidence[rep.lower()] += 1
        elif bad:
            unresolved.add(tok.text)

    # pass 2: known words, only in a stripped document
    changes: Counter[tuple[str, str]] = Counter()
    edits: dict[int, list[tuple[int, int, str]]] = {}
    prev = ""
    n_tokens = 0
    for i, tok in enumerate(toks):
        if tok.kind == "skip":
            prev = tok.text.lower()
            continue
        n_tokens += 1
        if i in decided:
            rep = decided[i]
        elif stripped_mode and not tok.english and tok.kind == "word" and len(tok.text) >= 2:
            nxt = _fold_word(toks[i + 1].text.lower().translate(_NEXT_NORMALISE)) if i + 1 < len(toks) else ""
            rep = _decide_known(tok, lex, evidence, prev, nxt, starts[i])
        else:
            rep = None
        if rep is not None and rep != tok.text:
            edits.setdefault(tok.line, []).append((tok.start, tok.end, rep))
            changes[(tok.text, rep)] += 1
            prev = _fold_word(rep.lower())
        else:
            prev = _fold_word(tok.text.lower().translate(_NEXT_NORMALISE))

    out_lines: list[str] = []
    for ln, line in enumerate(lines):
        for s, e, rep in sorted(edits.get(ln, []), reverse=True):
            line = line[:s] + rep + line[e:]
        out_lines.append(_fix_pipes(line, out_lines, changes))
    return RepairResult(
        text="\n".join(out_lines),
        changes=changes,
        unresolved=sorted(unresolved),
        tokens=n_tokens,
        changed=sum(changes.values()),
        mode="stripped" if stripped_mode else "intact",
    )


_NEXT_NORMALISE = str.maketrans({"&": "a", "@": "a", "6": "o", "4": "a"})
_PIPE = re.compile(r"(?<!\S)\|(?= [A-Za-zÅÄÖåäöé])|(?<= )\|$")


def _fix_pipes(line: str, previous: list[str], changes: Counter[tuple[str, str]]) -> str:
    def repl(m: re.Match[str]) -> str:
        before = line[: m.start()].rstrip()
        if not before:
            prior = next((p for p in reversed(previous) if p.strip()), "")
            blank_before = bool(previous) and not previous[-1].strip()
            upper = not prior or blank_before or bool(_SENT_END.search(prior.rstrip()))
        else:
            upper = bool(_SENT_END.search(before))
        rep = "I" if upper else "i"
        changes[("|", rep)] += 1
        return rep

    return _PIPE.sub(repl, line)


def repair_file(path: str | Path) -> RepairResult:
    """Repair a UTF-8 text file (for ``kb repair-text FILE``)."""
    return repair_text(Path(path).read_text(encoding="utf-8"))


def format_report(result: RepairResult, max_items: int = 40) -> str:
    """A short human report: counts, the most frequent changes and the unresolved words."""
    lines = [
        f"mode: {result.mode}",
        f"tokens: {result.tokens}  changed: {result.changed} ({100 * result.change_rate:.1f}%)"
        f"  distinct changes: {len(result.changes)}  unresolved: {len(result.unresolved)}",
    ]
    if result.changes:
        top = ", ".join(f"{a}→{b}×{n}" for (a, b), n in result.changes.most_common(max_items))
        lines.append(f"changes: {top}")
    if result.unresolved:
        lines.append("unresolved: " + ", ".join(result.unresolved[:max_items]))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Damage detection


def damage_rate(text: str) -> float:
    """Share of Swedish word tokens that look OCR-damaged (0.0 for English or empty text)."""
    lex = lexicon()
    lines = text.split("\n")
    english = _english_lines(lines)
    damaged = total = 0
    for tok in _tokens(lines, english):
        if tok.english or tok.kind == "skip":
            continue
        total += 1
        if tok.kind == "garbage":
            damaged += _resolve_unknown(tok.text).word is not None
            continue
        low = tok.text.lower()
        if _stripped_signal(tok.text, lex):
            damaged += 1
        elif lex.z(low) == 0.0 and len(low) > 2:
            choice = _resolve_unknown(tok.text)
            damaged += choice.word is not None and choice.word != low and choice.score >= _ACCEPT
    return damaged / total if total else 0.0


def looks_damaged(text: str, threshold: float = 0.05) -> bool:
    """True when :func:`damage_rate` of ``text`` reaches ``threshold``."""
    return damage_rate(text) >= threshold
