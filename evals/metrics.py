"""The numbers of an evaluation: rank metrics, rates, percentiles, grouped summaries.

Design choices:
- Pure functions over plain values (ranks, graded rows as dicts): no models, no files, so
  every number in a report can be unit-tested on hand-made inputs, and ours and the
  baseline are summarised by the same code.
- Relevance is binary and a question has one target: the first retrieved passage holding an
  evidence phrase (``evals.dataset.first_relevant_rank``). With one target, nDCG@k is
  ``1 / log2(rank + 1)`` (ideal DCG = 1); MRR is ``1 / rank``; a miss scores 0 in all.
  Counting every evidence-holding passage would reward retrievers that return overlapping
  copies of one passage, which says nothing about the answer.
- Rates are over the questions they apply to (refusing the unanswerable: over unanswerable
  questions only) and are ``None`` when no question applies, so a report never shows 0.0
  for "not measured".
- Percentiles use the nearest-rank method on the sorted values: no interpolation between
  two questions' latencies, which on 10–100 questions would invent values.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

KS = (1, 3, 5)


def hit_at_k(rank: int | None, k: int) -> float:
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(rank: int | None) -> float:
    return 1.0 / rank if rank else 0.0


def ndcg_at_k(rank: int | None, k: int = 10) -> float:
    return 1.0 / math.log2(rank + 1) if rank and rank <= k else 0.0


def rank_metrics(ranks: Sequence[int | None], ks: Sequence[int] = KS) -> dict[str, float]:
    """hit@k for each k, MRR and nDCG@10 averaged over ``ranks`` (1-based rank of the target, or None)."""
    n = len(ranks) or 1
    out: dict[str, float] = {f"hit@{k}": sum(hit_at_k(r, k) for r in ranks) / n for k in ks}
    out["mrr"] = sum(reciprocal_rank(r) for r in ranks) / n
    out["ndcg@10"] = sum(ndcg_at_k(r, 10) for r in ranks) / n
    out["n"] = len(ranks)
    return out


def percentile(values: Iterable[float | None], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of the values that are not None."""
    data = sorted(v for v in values if v is not None)
    if not data:
        return None
    index = max(0, math.ceil(p / 100 * len(data)) - 1)
    return data[min(index, len(data) - 1)]


def latency_summary(values: Iterable[float | None]) -> dict[str, float | None]:
    data = [v for v in values if v is not None]
    return {"p50": percentile(data, 50), "p95": percentile(data, 95), "n": len(data)}


def rate(flags: Iterable[bool | None]) -> float | None:
    """Share of True among the flags that are not None; None when none apply."""
    data = [bool(f) for f in flags if f is not None]
    return sum(data) / len(data) if data else None


def mean(values: Iterable[float | None]) -> float | None:
    data = [v for v in values if v is not None]
    return statistics.fmean(data) if data else None


def grouped(rows: Sequence[dict], key: Callable[[dict], str], summarise: Callable[[list[dict]], dict]) -> dict[str, dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return {name: summarise(group) for name, group in sorted(groups.items())}


def retrieval_summary(rows: Sequence[dict]) -> dict:
    """Rank metrics overall, per language and per topic.

    ``rows``: one per answerable question, with ``lang``, ``topic``, ``rank`` (or None) and
    ``latency_s``.
    """

    def summarise(group: list[dict]) -> dict:
        return rank_metrics([r["rank"] for r in group])

    return {
        "overall": summarise(list(rows)),
        "by_language": grouped(rows, lambda r: r["lang"], summarise),
        "by_topic": grouped(rows, lambda r: r["topic"], summarise),
        "latency_s": latency_summary(r.get("latency_s") for r in rows),
    }


def answer_summary(rows: Sequence[dict]) -> dict:
    """The answer measures over graded rows (``evals.grading.grade``), overall and per language.

    - key_fact_recall: mean share of key-fact groups present, over answerable questions
      that were answered (a refusal is counted by answerable_refused, not here);
      key_fact_recall_all counts refused answerable questions as 0.
    - evidence_cited: answerable questions whose citations include an evidence passage.
    - citation_support: share of the answer's checkable claims that the passages they
      cite support (see ``evals.grading``).
    - refusal_accuracy: refused exactly when unanswerable; unanswerable_refused and
      answerable_refused split it.
    - language_match: the answer is in the question's language.
    - errors / fallbacks: answers that failed / that fell back to extraction because the LLM
      failed or timed out (counts); quoted: answers where nothing the model wrote held and the
      sources' best sentences were shown instead (``KB_UNVERIFIED=extractive``).
    """

    def summarise(group: list[dict]) -> dict:
        answerable = [r for r in group if r["answerable"]]
        unanswerable = [r for r in group if not r["answerable"]]
        answered = [r for r in answerable if not r["refused"]]
        return {
            "n": len(group),
            "key_fact_recall": mean(r["key_facts"] for r in answered),
            "key_fact_recall_all": mean((0.0 if r["refused"] else r["key_facts"]) for r in answerable
                                        if r["key_facts"] is not None),
            "evidence_cited": rate(r["evidence_cited"] for r in answerable),
            "citation_support": mean(r["citation_support"] for r in answered),
            "refusal_accuracy": rate(r["refused"] == (not r["answerable"]) for r in group),
            "unanswerable_refused": rate(r["refused"] for r in unanswerable),
            "answerable_refused": rate(r["refused"] for r in answerable),
            "language_match": rate(r["language_right"] for r in group),
            "errors": sum(bool(r.get("error")) for r in group),
            "fallbacks": sum(bool(r.get("fallback")) for r in group),
            "quoted": sum(bool(r.get("quoted")) for r in group),
        }

    return {
        "overall": summarise(list(rows)),
        "by_language": grouped(rows, lambda r: r["lang"], summarise),
        "latency_s": {name: latency_summary(r.get(f"{name}_s") for r in rows)
                      for name in ("sources", "first_token", "total")},
    }
