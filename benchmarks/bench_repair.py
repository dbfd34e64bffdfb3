"""Time ingest.repair: lexicon load and repair of the whole plan (python benchmarks/bench_repair.py)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.repair import lexicon, repair_text  # noqa: E402

PLAN = ROOT / "corpus" / "handlingsplan-civilsamhalle-social-ekonomi-2026-2030.ocr.txt"


def main() -> None:
    t0 = time.perf_counter()
    lexicon()
    t1 = time.perf_counter()
    text = PLAN.read_text(encoding="utf-8")
    result = repair_text(text)
    t2 = time.perf_counter()
    runs = 5
    for _ in range(runs):
        repair_text(text)
    t3 = time.perf_counter()
    print(f"lexicon load: {t1 - t0:.3f} s")
    print(f"plan repair (first, cold token cache): {t2 - t1:.3f} s ({result.tokens} tokens)")
    print(f"plan repair (warm, mean of {runs}): {(t3 - t2) / runs:.3f} s")


if __name__ == "__main__":
    main()
