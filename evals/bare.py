"""The Swedish dev questions as typed on a keyboard without å, ä and ö.

Volunteers write "Kan man fa pengar fran Socialfonden?"; the held-out set has such questions, the
dev set one. This derives a set from the dev questions instead of writing more by hand: every
fourth answerable Swedish question (spread over the topics, in file order) and every Swedish
unanswerable one, with å/ä/ö typed as a/a/o. Ids, evidence and key facts stay: the grading folds
diacritics. ``python -m evals.bare > bare.jsonl`` writes it;
``kb eval --questions bare.jsonl --n 19 --answers 19 --no-baseline`` measures it (~7 min).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, replace

from evals.dataset import Question, load_questions

_BARE = str.maketrans("åäöÅÄÖ", "aaoAAO")


def bare(text: str) -> str:
    return text.translate(_BARE)


def bare_questions(questions: list[Question], every: int = 4) -> list[Question]:
    swedish = [q for q in questions if q.lang == "sv"]
    chosen = [q for q in swedish if q.answerable][::every] + [q for q in swedish if not q.answerable]
    return [replace(q, question=bare(q.question)) for q in chosen]


def main() -> None:
    for q in bare_questions(load_questions()):
        sys.stdout.write(json.dumps(asdict(q), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
