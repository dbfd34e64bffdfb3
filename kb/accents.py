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
- Only a question with no å, ä or ö at all is respelled (whoever typed one has the letters), and
  only a Swedish one: an English "for" or "man" must stay English.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from kb.text import fold

RATIO = 5  # how much more frequent the corpus's spelling must be than the bare word (measured: see above)
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


def needs_accents(text: str, language: str) -> bool:
    return language == "sv" and not _SWEDISH_LETTERS.search(text)


def restore(text: str, spelled: dict[str, str], split: Callable[[str], tuple[str, ...]] | None = None) -> str:
    """``text`` with every bare word the corpus spells otherwise respelled, capitals kept.

    With ``split`` (the retrieval's compound splitter), a compound the corpus never writes is
    respelled by its halves: "kulturforening" → "kultur" + "förening"."""
    def one(match: re.Match) -> str:
        word = match.group(0)
        low = word.casefold()
        found = spelled.get(low)
        if found is None and split is not None and (halves := split(low)):
            head, tail = halves
            link = low[len(head):len(low) - len(tail)]  # the joining "s" of "förening-s-bidrag"
            found = spelled.get(head, head) + link + spelled.get(tail, tail)
            if found == low:
                return word
        if found is None:
            return word
        return found[:1].upper() + found[1:] if word[:1].isupper() else found

    return _WORD.sub(one, text)
