"""Cost of reading documents in the limited worker process (``ingest.sandbox``) vs. in-process.

    python benchmarks/bench_load_worker.py [--rounds 3]

Reads every document of the real corpus (the plan and the SOU texts from the mirror) the way
ingest does (``load_source``: parse, OCR-damage check, repair), first in this process and then
through one ``LoadWorker``, alternating, ``--rounds`` times. Start-up is timed separately:
in-process it is building the repair lexicon; for the worker it is the interpreter, the
imports and the lexicon, paid once per ingest run before the first document's clock starts.
Prints per-document medians and the totals.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.sandbox import LoadWorker  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.manifest import load_manifest, locate  # noqa: E402


def in_process() -> tuple[float, dict[str, float]]:
    # a fresh interpreter, so the lexicon is built as it is in a fresh `kb ingest`
    code = ("import json,sys,time; sys.path.insert(0, sys.argv[1]); t=time.perf_counter();"
            "from ingest.repair import lexicon; lexicon(); s=time.perf_counter()-t;"
            "from ingest.index import load_source; from kb.config import Settings;"
            "from kb.manifest import load_manifest, locate; st=Settings.from_env(); out={}\n"
            "for src in load_manifest(st.corpus_dir):\n"
            "    if not src.has_text: continue\n"
            "    p,_=locate(src, st.corpus_dir, st.corpus_mirror); t=time.perf_counter(); load_source(p, src, st)\n"
            "    out[src.id]=time.perf_counter()-t\n"
            "print(json.dumps([s, out]))")
    import json

    result = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, check=True)
    start, times = json.loads(result.stdout.strip().splitlines()[-1])
    return start, times


def in_worker(docs: list, settings: Settings) -> tuple[float, dict[str, float]]:  # noqa: ANN001
    times = {}
    with LoadWorker(settings) as worker:
        t0 = time.perf_counter()
        worker._start()
        start = time.perf_counter() - t0
        for source, path in docs:
            t = time.perf_counter()
            worker.load(path, source)
            times[source.id] = time.perf_counter() - t
    return start, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings = Settings.from_env()
    docs = []
    for source in load_manifest(settings.corpus_dir):
        if source.has_text:
            path, _ = locate(source, settings.corpus_dir, settings.corpus_mirror)
            if path:
                docs.append((source, path))
    runs: dict[str, list[tuple[float, dict[str, float]]]] = {"in-process": [], "worker": []}
    for _ in range(args.rounds):
        runs["in-process"].append(in_process())
        runs["worker"].append(in_worker(docs, settings))
    print(f"{'document':<20} {'in-process s':>13} {'worker s':>9}")
    for source, path in docs:
        a = statistics.median(r[1][source.id] for r in runs["in-process"])
        b = statistics.median(r[1][source.id] for r in runs["worker"])
        print(f"{source.id:<20} {a:>13.2f} {b:>9.2f}   ({path.stat().st_size / 1e6:.2f} MB)")
    for mode, rs in runs.items():
        start = statistics.median(r[0] for r in rs)
        total = statistics.median(sum(r[1].values()) for r in rs)
        print(f"{mode:<11} start-up {start:.2f} s, documents {total:.2f} s, together {start + total:.2f} s "
              f"(median of {len(rs)})")


if __name__ == "__main__":
    main()
