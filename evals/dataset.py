"""The development questions and the one rule for "this passage answers it".

Design choices:
- A passage is relevant when it contains (folded: no diacritics, no case, whitespace
  collapsed) one of the question's evidence phrases. Folding makes the rule hold for the raw
  OCR text, the repaired text and text typed without å/ä/ö alike.
- Rank metrics (hit@k, MRR, nDCG) are computed here from a ranked list of passage texts, so
  every retriever — ours, the baseline, an experiment — is scored by the same code.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kb.text import fold

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


def rank_metrics(ranks: Sequence[int | None], ks: Sequence[int] = (1, 3, 5)) -> dict[str, float]:
    n = len(ranks) or 1
    out = {f"hit@{k}": sum(r is not None and r <= k for r in ranks) / n for k in ks}
    out["mrr"] = sum(1 / r for r in ranks if r) / n
    out["ndcg@10"] = sum(1 / math.log2(r + 1) for r in ranks if r and r <= 10) / n
    out["n"] = len(ranks)
    return out
