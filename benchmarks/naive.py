"""The naive llama-index baseline (``evals.baseline``) measured the same way as ours, in its own process.

    python benchmarks/naive.py build|retrieve|answer --data-dir DIR [--questions N] [--k K]

Prints one JSON object. Run by ``benchmarks/run.py`` as a child process so the baseline's
torch and MiniLM never share a process (threads, memory) with the measurements of ours.
``build`` times constructing the baseline index (a build when ``DIR/baseline`` has none, a
load from disk otherwise: the baseline's counterpart of an unchanged re-ingest).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from measure import summary  # noqa: E402


def _settings(data_dir: Path):  # noqa: ANN202
    from kb.config import Settings

    return replace(Settings.from_env(), data_dir=data_dir)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(args: argparse.Namespace) -> dict:
    t0 = time.perf_counter()
    from evals.baseline import Baseline

    imported = time.perf_counter() - t0
    baseline = Baseline(_settings(args.data_dir), log=lambda m: print(m, file=sys.stderr))
    return {"seconds": time.perf_counter() - t0, "import_s": imported, "index_s": baseline.load_s,
            "built": baseline.built, "chunks": baseline.chunks, "documents": baseline.documents,
            "peak_rss_mb": _peak_mb()}


def retrieve(args: argparse.Namespace) -> dict:
    from evals.baseline import Baseline
    from evals.dataset import load_questions

    baseline = Baseline(_settings(args.data_dir), log=lambda m: print(m, file=sys.stderr))
    baseline.retrieve("uppvärmning", k=args.k)  # model and retriever loaded outside the timing
    latencies = []
    for q in load_questions():
        t0 = time.perf_counter()
        baseline.retrieve(q.question, k=args.k)
        latencies.append(time.perf_counter() - t0)
    return {"latency_s": summary(latencies), "k": args.k, "peak_rss_mb": _peak_mb()}


def answer(args: argparse.Namespace) -> dict:
    from evals.baseline import Baseline
    from kb.llm import load_llm

    settings = _settings(args.data_dir)
    baseline = Baseline(settings, log=lambda m: print(m, file=sys.stderr))
    backend = load_llm(settings)
    from kb.llm import LLMError

    rows = []
    for question in json.loads(args.questions):
        t0 = time.perf_counter()
        try:
            out = baseline.ask(question, backend)
            row = {"question": question, **out["timings"], "chars": len(out["answer"])}
        except LLMError as exc:  # the baseline has no fallback: a time-out is its answer
            row = {"question": question, "error": str(exc), "total_s": time.perf_counter() - t0}
        rows.append(row)
        print(json.dumps({"row": row}, ensure_ascii=False), flush=True)  # kept even if the process dies later
    return {"answers": rows, "backend": backend.name, "timeout_s": backend.timeout_s, "peak_rss_mb": _peak_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["build", "retrieve", "answer"])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--questions", default="[]", help="JSON list of questions (answer)")
    args = parser.parse_args()
    try:
        import evals.baseline  # noqa: F401
    except ImportError as exc:
        print(json.dumps({"skipped": f"evals.baseline is not available ({exc})"}))
        return
    result = {"build": build, "retrieve": retrieve, "answer": answer}[args.what](args)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    # Leave without running destructors: llama.cpp's server thread and torch tearing down together
    # crashed this process at exit once (SIGSEGV) after all its work was done.
    os._exit(0)


if __name__ == "__main__":
    main()
