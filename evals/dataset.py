"""The development questions and the one rule for "this passage answers it".

Design choices:
- A passage is relevant when it contains (folded: no diacritics, no case, whitespace
  collapsed) one of the question's evidence phrases. Folding makes the rule hold for the raw
  OCR text, the repaired text and text typed without å/ä/ö alike.
- Every retriever — ours, the baseline, an experiment — is scored by the same code: this rule
  gives the rank of the first relevant passage, ``evals.metrics`` turns ranks into hit@k, MRR
  and nDCG (``rank_metrics`` is re-exported here for older callers).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evals.metrics import rank_metrics
from kb.text import fold

__all__ = ["QUESTIONS_FILE", "Question", "first_relevant_rank", "is_relevant", "load_questions", "rank_metrics",
           "select_questions", "spread"]

QUESTIONS_FILE = Path(__file__).with_name("questions.jsonl")


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    topic: str
    user: str
    question: str
    doc_id: str | None
    evidence: tuple[str, ...]
    key_facts: tuple[tuple[str, ...], ...]
    answerable: bool


def load_questions(path: Path = QUESTIONS_FILE) -> list[Question]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        out.append(Question(d["id"], d["lang"], d["topic"], d["user"], d["question"], d["doc_id"],
                            tuple(d["evidence"]), tuple(tuple(g) for g in d["key_facts"]), d["answerable"]))
    return out


def is_relevant(question: Question, text: str) -> bool:
    folded = fold(text.replace("-\n", ""))
    return any(fold(phrase) in folded for phrase in question.evidence)


def first_relevant_rank(question: Question, texts: Sequence[str]) -> int | None:
    """1-based rank of the first passage holding the evidence, or None."""
    for rank, text in enumerate(texts, 1):
        if is_relevant(question, text):
            return rank
    return None


def select_questions(questions: Sequence[Question], *, ids: Sequence[str] | None = None,
                     langs: Sequence[str] | None = None, topics: Sequence[str] | None = None,
                     n: int | None = None) -> list[Question]:
    """The questions matching every filter given, then (``n``) a spread subset of them."""
    chosen = [q for q in questions
              if (not ids or q.id in ids) and (not langs or q.lang in langs) and (not topics or q.topic in topics)]
    return spread(chosen, n) if n is not None else chosen


def spread(questions: Sequence[Question], n: int) -> list[Question]:
    """``n`` questions spread over languages and topics, about a quarter of them unanswerable.

    Deterministic (no sampling): evenly spaced picks in file order, which is grouped by
    topic, so a small subset still touches most topics; the file order is kept.
    """
    if n >= len(questions):
        return list(questions)
    unanswerable = [q for q in questions if not q.answerable]
    answerable = [q for q in questions if q.answerable]
    n_un = min(len(unanswerable), max(1, round(n / 4)) if n >= 2 else 0)
    if len(answerable) < n - n_un:
        n_un = n - len(answerable)
    picked = {q.id for q in _balanced(unanswerable, n_un) + _balanced(answerable, n - n_un)}
    return [q for q in questions if q.id in picked]


def _balanced(questions: Sequence[Question], m: int) -> list[Question]:
    """``m`` questions, split evenly over the languages, evenly spaced within each."""
    by_lang: dict[str, list[Question]] = {}
    for q in questions:
        by_lang.setdefault(q.lang, []).append(q)
    shares = dict.fromkeys(by_lang, 0)
    langs = sorted(by_lang, key=lambda lang: (lang != "sv", lang))
    while sum(shares.values()) < m and langs:
        for lang in langs:
            if sum(shares.values()) < m and shares[lang] < len(by_lang[lang]):
                shares[lang] += 1
        langs = [lang for lang in langs if shares[lang] < len(by_lang[lang])]
    out: list[Question] = []
    for lang, k in shares.items():
        items = by_lang[lang]
        out += [items[i * len(items) // k] for i in range(k)] if k else []
    return out
