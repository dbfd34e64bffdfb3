"""Å, ä and ö put back into a Swedish question typed without them, spelt as the corpus spells it.

Design choices:
- Volunteers on foreign keyboards write "vi ar en kulturforening, namns kulturlivet nagonstans i
  planen?". BM25 folds diacritics and does not mind, but the embedding model and the LLM do: on
  the Swedish dev questions with å/ä/ö stripped, MRR fell 0.89 → 0.84 and hit@5 1.00 → 0.96, and
  the model echoed the bare words into its answer ("Kulturlivet nagonstans i planen är …").
- No dictionary ships here, so the corpus is the dictionary: a bare word becomes the spelling the
  corpus uses for it ("fran" → "från", "malardalen" → "Mälardalen"), choosing the most frequent
  when several fold alike ("ar": "är" over "år").
- A bare word that is itself common stays as typed: "vara" (892 times) is not turned into "våra"
  (4), "var" (314) not into "vår" (22). Only a spelling ``RATIO`` times as frequent as the bare
  one (or any, when the bare one never occurs) replaces it. A wrong guess costs little: the
  bare word was already the weaker spelling.
- Swedish writes compounds as one word, and a question's compound is often one the corpus never
  wrote ("kulturforening"): it is respelled by the halves the retrieval's compound splitter finds.
- A word the corpus never writes in any spelling ("vadret", "lordag": the weather, not civil
  society) is looked up in the Swedish word list (``kb.wordlist``, which the OCR repair also
  reads), under the same rule. Left bare, such words are noise to the embedding model: "Hur
  blir vadret i Orebro pa lordag?" scored a best similarity of 0.857 against the corpus, over the
  refusal threshold, and went to the LLM; respelled it scores 0.829, as the question typed with
  its letters does, and is refused at once. A word the corpus writes bare keeps the corpus's
  judgement: the general word list never overrides the documents.
- Only a question with no å, ä or ö at all is respelled (whoever typed one has the letters), and
  only a Swedish one: an English "for" or "man" must stay English.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Container, Mapping
from functools import lru_cache

from kb.text import fold
from kb.wordlist import swedish_frequencies

RATIO = 5  # how much more frequent the corpus's spelling must be than the bare word (measured: see above)
MIN_ZIPF = 2.0  # a word-list spelling rarer than this (about once in 10 million words) is no guess
_WORD = re.compile(r"\w+", re.UNICODE)
_SWEDISH_LETTERS = re.compile(r"[åäöÅÄÖ]")


def word_counts(texts: list[str]) -> Counter[str]:
    """How often the corpus writes each (lower-case) word."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_WORD.findall(text.casefold()))
    return counts


def spellings(counts: Counter[str]) -> dict[str, str]:
    """bare (folded) word → the corpus's spelling, for words the corpus writes with diacritics more
    often (``RATIO``) than without; ``counts`` from ``word_counts``."""
    best: dict[str, tuple[int, str]] = {}
    for word, n in counts.items():
        bare = fold(word)
        if bare != word and n > best.get(bare, (0, ""))[0]:
            best[bare] = (n, word)
    return {bare: word for bare, (n, word) in best.items() if n >= RATIO * counts.get(bare, 0)}


@lru_cache(maxsize=1)
def word_list_spellings() -> dict[str, str]:
    """bare word → its spelling in wordfreq's Swedish list, by the ``RATIO`` rule over the list's
    frequencies ("vadret" → "vädret"; "manad" → "månad": the bare form is a rare word of its own).
    Loaded once per process, on the first bare question (about 0.5 s)."""
    freqs = swedish_frequencies()
    best: dict[str, tuple[float, str]] = {}
    for word, f in freqs.items():
        bare = fold(word)
        if bare != word and f > best.get(bare, (0.0, ""))[0]:
            best[bare] = (f, word)
    floor = 10 ** (MIN_ZIPF - 9)
    return {bare: word for bare, (f, word) in best.items() if f >= floor and f >= RATIO * freqs.get(bare, 0.0)}


def needs_accents(text: str, language: str) -> bool:
    return language == "sv" and not _SWEDISH_LETTERS.search(text)


def restore(text: str, spelled: Mapping[str, str], split: Callable[[str], tuple[str, ...]] | None = None,
            fallback: Mapping[str, str] | None = None, known: Container[str] = ()) -> str:
    """``text`` with every bare word the corpus spells otherwise respelled, capitals kept.

    With ``split`` (the retrieval's compound splitter), a compound the corpus never writes is
    respelled by its halves: "kulturforening" → "kultur" + "förening". A word still unchanged
    and not ``known`` to the corpus (folded words) takes the ``fallback`` spelling, if any
    (``word_list_spellings``)."""
    def one(match: re.Match) -> str:
        word = match.group(0)
        low = word.casefold()
        found = spelled.get(low)
        if found is None and split is not None and (halves := split(low)):
            head, tail = halves
            link = low[len(head):len(low) - len(tail)]  # the joining "s" of "förening-s-bidrag"
            found = spelled.get(head, head) + link + spelled.get(tail, tail)
            if found == low:
                found = None
        if found is None and fallback is not None and low not in known:
            found = fallback.get(low)
        if found is None:
            return word
        return found[:1].upper() + found[1:] if word[:1].isupper() else found

    return _WORD.sub(one, text)
