"""Numbers in a text, in one canonical form, however they are written.

Design choices:
- The claim check (``kb.verify``) requires every number an answer states to be in its source,
  so the same number must compare equal in its forms: "750,000" (an English answer) is the
  source's "750 000", "2.5" its "2,5", "2.3 billion" its "2,3 miljarder", and "femtiotusen
  kronor" (spelled out) its "50 000 kronor". Without the last, an invented amount written in
  words passed the check.
- Spelled-out numbers count only when they reach a hundred or carry a magnitude ("tusen",
  "million"): "sex principer" and "two roles" are counts the model may make itself from a
  list, and reading them as numbers would remove right answers. Small digits still count.
- A number with a magnitude word is its value ("2 miljoner" → 2000000). A source's number
  is known in both forms (``known_numbers``: "2,3 miljarder" also as "2.3"), so a claim that
  repeats only the digits still matches.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_TOKEN = re.compile(r"\d[\d\s]*(?:[.,]\d+)*|[^\W\d_]+")
_GROUPING = re.compile(r"(?<=\d)[.,\s](?=\d{3}(?!\d))")  # "750 000", "750,000", "750.000"

_MAGNITUDES = {"hundra": 100, "hundred": 100, "tusen": 1000, "thousand": 1000, "tkr": 1000,
               "miljon": 10**6, "miljoner": 10**6, "million": 10**6, "millions": 10**6, "mkr": 10**6,
               "mnkr": 10**6, "miljard": 10**9, "miljarder": 10**9, "billion": 10**9, "billions": 10**9,
               "mdkr": 10**9}
_EN_UNITS = {w: n for n, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"])}
_EN_TENS = {w: 10 * n for n, w in enumerate(["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"], 0)
            if w != "_"}
# Swedish numerals are written as one word ("tvåhundrafemtiotusen"): its parts, longest first
_SV_PARTS = {"noll": 0, "en": 1, "ett": 1, "två": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6, "sju": 7,
             "åtta": 8, "nio": 9, "tio": 10, "elva": 11, "tolv": 12, "tretton": 13, "fjorton": 14,
             "femton": 15, "sexton": 16, "sjutton": 17, "arton": 18, "nitton": 19, "tjugo": 20,
             "trettio": 30, "fyrtio": 40, "femtio": 50, "sextio": 60, "sjuttio": 70, "åttio": 80,
             "nittio": 90, "hundra": 100, "tusen": 1000}
_SV_PART = re.compile("|".join(sorted(_SV_PARTS, key=len, reverse=True)))


def _canonical(digits: str) -> str:
    n = _GROUPING.sub("", digits.strip().rstrip(".,"))
    return re.sub(r"\s", "", n).replace(",", ".")


def _format(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _word_parts(word: str) -> list[int] | None:
    """A word's numeral parts ("femtiotusen" → [50, 1000]), or None when it is no numeral."""
    word = word.lower()
    if word in _EN_UNITS:
        return [_EN_UNITS[word]]
    if word in _EN_TENS:
        return [_EN_TENS[word]]
    if word in _MAGNITUDES:
        return [_MAGNITUDES[word]]
    parts, at = [], 0
    while at < len(word):
        m = _SV_PART.match(word, at)
        if not m:
            return None
        parts.append(_SV_PARTS[m.group()])
        at = m.end()
    return parts


def _value(parts: list[int]) -> int:
    """"two hundred fifty thousand" as [2, 100, 50, 1000] → 250000."""
    total = current = 0
    for p in parts:
        if p == 100:
            current = (current or 1) * 100
        elif p >= 1000:  # thousand, million, billion close a group
            total += (current or 1) * p
            current = 0
        else:
            current += p
    return total + current


_CURRENCY = {"kr", "kronor", "krona", "sek", "euro", "euros", "eur", "dollar", "dollars", "procent", "percent"}
# "miljoner kronor", "millions of euros": a magnitude alone is no number; "tusen kronor" is one
_NEEDS_NUMERAL = {w for w, v in _MAGNITUDES.items() if v >= 10**6 or w.endswith("kr")}


@dataclass(frozen=True)
class _Found:
    claimed: str  # canonical value ("2000000" for "2 miljoner")
    bare: str  # the digits as written, when a magnitude word follows them ("2"), else ""
    spelled: bool  # written in words
    next_word: str  # the word after the number ("kronor")


def _scan(text: str) -> list[_Found]:
    tokens = _TOKEN.findall(text)
    found: list[_Found] = []

    def after(k: int) -> str:
        return tokens[k].lower() if k < len(tokens) else ""

    k = 0
    while k < len(tokens):
        token = tokens[k]
        if token[0].isdigit():
            bare = _canonical(token)
            if after(k + 1) in _MAGNITUDES and bare:
                with contextlib.suppress(InvalidOperation):
                    found.append(_Found(_format(Decimal(bare) * _MAGNITUDES[after(k + 1)]), bare, False, after(k + 2)))
                    k += 2
                    continue
            if bare:
                found.append(_Found(bare, "", False, after(k + 1)))
            k += 1
            continue
        parts: list[int] = []
        end = k
        while end < len(tokens) and not tokens[end][0].isdigit():
            word = tokens[end].lower()
            if word in ("and", "och") and parts and _word_parts(after(end + 1)):  # "two hundred and fifty"
                end += 1
                continue
            more = _word_parts(word)
            if more is None or (not parts and (word in _NEEDS_NUMERAL or (
                    word in ("en", "ett", "one") and after(end + 1) not in _MAGNITUDES))):
                break
            parts += more
            end += 1
        if parts and max(parts) >= 100:
            found.append(_Found(str(_value(parts)), "", True, after(end)))
        k = max(end, k + 1)
    return found


def numbers(text: str) -> set[str]:
    """The numbers a text states, each in its canonical form ("2 miljoner" → "2000000")."""
    return {f.claimed for f in _scan(text)}


def known_numbers(text: str) -> set[str]:
    """The numbers a source states, also as their bare digits ("2,3 miljarder" → "2300000000", "2.3")."""
    return {form for f in _scan(text) for form in (f.claimed, f.bare) if form}


def spelled_amount(text: str) -> bool:
    """Does the text state an amount in words ("femtiotusen kronor", "two million euros")?"""
    return any(f.spelled and f.next_word in _CURRENCY for f in _scan(text))


COUNT_WORDS = {"sv": ["noll", "en", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio", "tio"],
               "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]}


def count_word(n: int, language: str) -> str:
    """A small count in words ("sex", "six"): written by us into a prompt, it cannot become a digit
    the model repeats and the claim check then finds in no source."""
    words = COUNT_WORDS.get(language, COUNT_WORDS["sv"])
    return words[n] if 0 <= n < len(words) else str(n)
