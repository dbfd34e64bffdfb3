"""Grade one answer against its question: the facts a report is built from.

Design choices:
- Graded by string rules, not by another model: key facts count when any accepted phrasing
  occurs in the folded answer; evidence counts when a cited passage holds an evidence phrase
  (``evals.dataset.is_relevant``, the same rule as for retrieval). Reproducible, fast, and a
  failure can be read off the row.
- Citation support uses the product's own support judge (``kb.verify.support``: word
  overlap or cross-language embedding similarity, numbers must match), applied to every
  checkable claim the LLM wrote: support = claims kept / (kept + removed). It measures how
  often the model's claims are backed by what it cites; an independent judge (NLI) would need
  a model we do not ship. Extractive answers quote their sources, so they score 1 by construction.
- A system that does not cite (the baseline) gets ``None`` for citation measures, never 0:
  the report shows "—", not a fake failure.
- Answer language: the answer with quotations and their source labels removed (an English
  answer may quote Swedish documents, whose titles and sections are Swedish).
"""

from __future__ import annotations

import re

from evals.dataset import Question, is_relevant
from kb.text import fold, guess_language

_QUOTED = re.compile(r"[”\"“].*?[”\"“]", re.DOTALL)
_SOURCE_LABEL = re.compile(r"^\s*•[^\n]*?:\s*(?=[”\"“])", re.MULTILINE)  # "• Title (s. 4, Section): ”quote”"


_GLOSS = re.compile(r"\([^()\n]{1,60}\)")  # "openness (öppenhet)": the source's word, as the prompt asks


def strip_quotes(text: str) -> str:
    """The answer's own words: quotations, the source labels in front of them and the Swedish
    words glossed in brackets removed (a six-item list with a gloss each read as Swedish)."""
    return _GLOSS.sub(" ", _QUOTED.sub(" ", _SOURCE_LABEL.sub(" ", text)))


def key_facts(q: Question, answer: str) -> tuple[float | None, list[str]]:
    """(share of key-fact groups present, the first phrasing of each missing group)."""
    if not q.key_facts:
        return None, []
    folded = fold(answer)
    present = [any(fold(p) in folded for p in group) for group in q.key_facts]
    return sum(present) / len(present), [group[0] for group, ok in zip(q.key_facts, present) if not ok]


def grade(q: Question, *, answer: str, refused: bool, cited_texts: list[str] | None = None,
          claims_kept: int | None = None, claims_removed: int | None = None,
          timings: dict | None = None, error: str | None = None, **extra: object) -> dict:
    """One row: what was asked, what came back, and each measure for it.

    ``cited_texts`` None means the system does not cite; ``claims_kept``/``claims_removed``
    None means it has no claim check.
    """
    timings = timings or {}
    share, missing = key_facts(q, answer)
    checked = (claims_kept or 0) + (claims_removed or 0)
    return {
        "id": q.id, "lang": q.lang, "topic": q.topic, "answerable": q.answerable, "question": q.question,
        "answer": answer, "refused": refused,
        "refusal_right": refused == (not q.answerable),
        "language_right": guess_language(strip_quotes(answer)) == q.lang,
        "key_facts": share if q.answerable else None,
        "key_facts_missing": missing if q.answerable and not refused else [],
        "evidence_cited": (any(is_relevant(q, t) for t in cited_texts)
                           if q.answerable and cited_texts is not None else None),
        "citation_support": (claims_kept / checked if claims_kept is not None and checked else None),
        "sources_s": timings.get("sources_s"), "first_token_s": timings.get("first_token_s"),
        "total_s": timings.get("total_s"), "error": error, **extra,
    }


def grade_answer(q: Question, result) -> dict:  # noqa: ANN001 - kb.answer.Answer
    """Grade one of our answers (``kb.assistant.Assistant.ask``)."""
    from kb.verify import split_claims

    cited_claims = sum(1 for c in split_claims(result.answer) if c.cites) if not result.refused else 0
    timings = {"sources_s": result.timings.get("retrieve_s"), "first_token_s": result.timings.get("first_token_s"),
               "total_s": result.timings.get("total_s")}
    return grade(q, answer=result.answer, refused=result.refused, cited_texts=[c.text for c in result.citations],
                 claims_kept=cited_claims, claims_removed=len(result.removed_claims), timings=timings,
                 backend=result.backend, notices=list(result.notices), removed_claims=list(result.removed_claims),
                 fallback=result.backend == "extractive" and bool(result.notices),  # the LLM failed or timed out
                 quoted=result.backend.endswith("+extractive") and not result.refused,  # nothing it wrote held
                 citations=[{"n": c.n, "doc_id": c.doc_id, "page": c.page, "section": c.section, "quote": c.quote}
                            for c in result.citations])
