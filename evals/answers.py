"""Answer quality on (a subset of) the development questions, with the real LLM.

Prints one graded JSON line per question and a summary (``evals.grading``, ``evals.metrics``).
``python -m evals.answers [--n 12] [--extractive]``; ``kb eval`` does the same with a report
and the baseline beside it.
"""

from __future__ import annotations

import argparse
import json

from evals.dataset import load_questions
from evals.grading import grade_answer as grade
from evals.metrics import answer_summary
from kb.assistant import Assistant

__all__ = ["grade", "main"]


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
    print(json.dumps(answer_summary(rows)["overall"], ensure_ascii=False))


if __name__ == "__main__":
    main()
