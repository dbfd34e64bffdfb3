"""Retrieval quality on the development questions, per language and topic.

A question counts as found at rank r when the r-th passage holds one of its evidence phrases
(``evals.dataset``). Run against the configured index: ``python -m evals.retrieval [--k 10]``.
Prints JSON: overall, per language, per topic, and the misses with what was retrieved.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict

from evals.dataset import first_relevant_rank, load_questions, rank_metrics
from kb.config import Settings
from kb.retrieval import Retriever


def evaluate(retriever: Retriever, k: int = 10) -> dict:
    questions = [q for q in load_questions() if q.answerable]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--brief", action="store_true", help="only the per-language numbers")
    args = parser.parse_args()
    retriever = Retriever(Settings.from_env())
    retriever.retrieve("uppvärmning", k=1)  # load models and the lexical index outside the timing
    result = evaluate(retriever, args.k)
    if args.brief:
        result = {k: result[k] for k in ("overall", "by_language", "latency_ms")}
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
