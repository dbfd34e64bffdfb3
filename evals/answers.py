"""Answer quality on (a subset of) the development questions, with the real LLM.

Per question: refused or not (and whether it should be), answer language, key facts found
(a group counts when any of its phrasings occurs in the folded answer), whether the evidence
passage is among the citations, and the timings. ``python -m evals.answers [--n 12] [--extractive]``
"""

from __future__ import annotations

import argparse
import json
import statistics

from evals.dataset import Question, is_relevant, load_questions
from kb.assistant import Assistant
from kb.text import fold, guess_language


def grade(q: Question, result) -> dict:  # noqa: ANN001 - kb.answer.Answer
    folded = fold(result.answer)
    facts = [any(fold(p) in folded for p in group) for group in q.key_facts]
    return {
        "id": q.id, "lang": q.lang, "answerable": q.answerable, "refused": result.refused,
        "refusal_right": result.refused == (not q.answerable),
        "language_right": guess_language(_strip_quotes(result.answer)) == q.lang,
        "key_facts": sum(facts) / len(facts) if facts else None,
        "evidence_cited": any(is_relevant(q, c.text) for c in result.citations) if q.answerable else None,
        "first_token_s": result.timings.get("first_token_s"), "total_s": result.timings.get("total_s"),
        "answer": result.answer, "removed": result.removed_claims,
    }


def _strip_quotes(text: str) -> str:
    import re

    return re.sub(r"[”\"“].*?[”\"“]", " ", text)


def summarise(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    facts = [r["key_facts"] for r in answerable if r["key_facts"] is not None and not r["refused"]]
    firsts = sorted(r["first_token_s"] for r in rows if r["first_token_s"] is not None)
    return {
        "n": len(rows),
        "key_fact_recall": round(statistics.mean(facts), 3) if facts else None,
        "evidence_cited": round(sum(bool(r["evidence_cited"]) for r in answerable) / (len(answerable) or 1), 3),
        "unanswerable_refused": round(sum(r["refused"] for r in unanswerable) / (len(unanswerable) or 1), 3),
        "answerable_refused": round(sum(r["refused"] for r in answerable) / (len(answerable) or 1), 3),
        "language_right": round(sum(r["language_right"] for r in rows) / (len(rows) or 1), 3),
        "first_token_s_median": round(statistics.median(firsts), 2) if firsts else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=12, help="answerable questions per language (spread over topics)")
    parser.add_argument("--extractive", action="store_true")
    args = parser.parse_args()
    questions = load_questions()
    subset = []
    for lang in ("sv", "en"):  # answerable ones spread over topics, and every unanswerable one
        mine = [q for q in questions if q.lang == lang and q.answerable]
        step = max(1, len(mine) // args.n)
        subset += mine[::step][: args.n]
    subset += [q for q in questions if not q.answerable]
    assistant = Assistant()
    rows = []
    for q in subset:
        result = assistant.ask(q.question, mode="extractive" if args.extractive else None)
        rows.append(grade(q, result))
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    print(json.dumps(summarise(rows), ensure_ascii=False))


if __name__ == "__main__":
    main()
