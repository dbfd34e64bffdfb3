"""The Swedish word list, read once per process for everyone who needs general Swedish.

Design choices:
- One list, ``wordfreq``'s Swedish "large" list (~336k words with frequencies), serves two jobs
  that need the language rather than the corpus: the OCR repair at ingest (``ingest.repair``) and
  putting å/ä/ö back into a question typed without them (``kb.accents``). Read here, it is read
  once in a process that does both, and ``ingest`` keeps importing from ``kb``, not the reverse.
- Only alphabetic words with a positive frequency: numbers, abbreviations with dots and
  hyphenated forms are never what either job looks up.
- Frequencies stay raw (a share of all words); each user turns them into what it compares
  (Zipf values for the repair, ratios for the respelling).
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def swedish_frequencies() -> dict[str, float]:
    """word → its share of all Swedish words (about 0.5 s the first time)."""
    import wordfreq

    return {w: f for w, f in wordfreq.get_frequency_dict("sv", wordlist="large").items() if w.isalpha() and f > 0}
