"""Retrieval quality on the development questions, per language and topic.

A question counts as found at rank r when the r-th passage holds one of its evidence phrases
(``evals.dataset``). Run against the configured index: ``python -m evals.retrieval [--k 10]``;
``--ablate`` repeats it with each part of retrieval switched off in turn.
Prints JSON: overall, per language, per topic, and the misses with what was retrieved.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from evals.dataset import first_relevant_rank, load_questions, rank_metrics
from kb.config import Settings
from kb.retrieval import Retriever


def evaluate(retriever: Retriever, k: int = 10, questions_file: Path | None = None) -> dict:
    questions = [q for q in (load_questions(questions_file) if questions_file else load_questions()) if q.answerable]
    ranks: dict[str, int | None] = {}
    misses = []
    latencies = []
    for q in questions:
        t0 = time.perf_counter()
        passages = retriever.retrieve(q.question, k=k)
        latencies.append(time.perf_counter() - t0)
        rank = first_relevant_rank(q, [p.text for p in passages])
        ranks[q.id] = rank
        if rank is None or rank > 5:
            misses.append({"id": q.id, "question": q.question, "expected": q.doc_id, "evidence": q.evidence[0],
                           "rank": rank, "got": [f"{p.doc_id} {p.location()}" for p in passages[:5]]})
    by_lang: dict[str, list] = defaultdict(list)
    by_topic: dict[str, list] = defaultdict(list)
    for q in questions:
        by_lang[q.lang].append(ranks[q.id])
        by_topic[q.topic].append(ranks[q.id])
    latencies.sort()
    return {
        "overall": rank_metrics(list(ranks.values())),
        "by_language": {lang: rank_metrics(r) for lang, r in sorted(by_lang.items())},
        "by_topic": {t: rank_metrics(r) for t, r in sorted(by_topic.items())},
        "latency_ms": {"p50": round(1000 * latencies[len(latencies) // 2], 1),
                       "p95": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1)},
        "misses": misses,
    }


# Each ablation switches one part of the default off through kb.retrieval's module constants.
ABLATIONS: dict[str, dict] = {
    "default": {},
    "without best-sentence reordering": {"SENTENCE_W": 0.0},
    "without compound splitting": {"Decompounder.MIN_WORD": 10**6},
    "without the overview factor": {"OVERVIEW_FACTOR": 1.0},
    "without the plan / summary priors": {"PLAN_BOOST": 1.0, "SUMMARY_BOOST": 1.0, "NAMED_DOC_BOOST": 1.0},
    "without the same-language preference": {"SAME_LANGUAGE_BOOST": 1.0},
    "without the named-section preference": {"SECTION_NAMED_BOOST": 1.0},
}


def ablate(settings: Settings, k: int, questions_file: Path | None = None) -> list[dict]:
    """The per-language numbers with each part of retrieval switched off in turn."""
    import kb.retrieval as R

    rows = []
    embedder = None
    for name, changes in ABLATIONS.items():
        saved = {}
        for key, value in changes.items():
            owner, attr = (R.Decompounder, key.split(".")[1]) if "." in key else (R, key)
            saved[(owner, attr)] = getattr(owner, attr)
            setattr(owner, attr, value)
        try:
            retriever = Retriever(settings, embedder=embedder)
            embedder = retriever.embedder
            by_lang = evaluate(retriever, k, questions_file)["by_language"]
        finally:
            for (owner, attr), value in saved.items():
                setattr(owner, attr, value)
        rows.append({"retriever": name} | {f"{lang} {m}": round(v[m], 3) for lang, v in by_lang.items()
                                            for m in ("hit@5", "mrr")})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--brief", action="store_true", help="only the per-language numbers")
    parser.add_argument("--ablate", action="store_true", help="the per-language numbers with each part switched off")
    parser.add_argument("--questions", type=Path, help="another question file (e.g. evals/questions_holdout.jsonl)")
    args = parser.parse_args()
    if args.ablate:
        for row in ablate(Settings.from_env(), args.k, args.questions):
            print(json.dumps(row, ensure_ascii=False))
        return
    retriever = Retriever(Settings.from_env())
    retriever.retrieve("uppvärmning", k=1)  # load models and the lexical index outside the timing
    retriever.warm_sentences()  # as the app does at start
    result = evaluate(retriever, args.k, args.questions)
    if args.brief:
        result = {k: result[k] for k in ("overall", "by_language", "latency_ms")}
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
