"""What reaches the model: key facts and evidence in the context ``kb.context`` builds.

Design choices:
- The LLM can only state what its context holds, so the share of key facts present in the
  context is a ceiling on the answers' key facts. It needs no LLM: the whole dev set runs in
  about a minute, where a 24-question answer run takes ten. Context changes are screened here
  first and then confirmed with ``kb eval --answers``.
- Same rules as the answer grading (``evals.grading.key_facts``: any accepted phrasing in the
  folded text; evidence: ``evals.dataset.is_relevant`` on the numbered sentences), applied to
  the prompt's source lines instead of the answer. English questions' key facts list Swedish
  phrasings too, so they can be found in Swedish sources.
- The context comes from ``Assistant.context``, the same steps ``Assistant.ask_stream`` takes
  (after the same warm-up), so the numbers describe what the product sends; a question refused
  before the LLM has an empty context and counts with no key facts.

``python -m evals.context [--questions FILE.jsonl]``
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from evals.dataset import QUESTIONS_FILE, is_relevant, load_questions
from evals.grading import key_facts


def measure(assistant, questions: list) -> list[dict]:  # noqa: ANN001 - kb.assistant.Assistant
    """One row per answerable question: key-fact share in the context, evidence sentence present, size."""
    rows = []
    for q in questions:
        if not q.answerable:
            continue
        context, refs = assistant.context(q.question)
        share, missing = key_facts(q, context)
        rows.append({"id": q.id, "lang": q.lang, "key_facts": share, "missing": missing,
                     "evidence_sentence": any(is_relevant(q, r.sentence) for r in refs), "chars": len(context)})
    return rows


def summary(rows: list[dict]) -> dict[str, dict[str, float]]:
    out = {}
    for lang in sorted({r["lang"] for r in rows}):
        mine = [r for r in rows if r["lang"] == lang]
        shares = [r["key_facts"] for r in mine if r["key_facts"] is not None]
        out[lang] = {"n": len(mine), "key_facts": statistics.mean(shares) if shares else 0.0,
                     "evidence_sentence": statistics.mean(r["evidence_sentence"] for r in mine),
                     "chars_median": statistics.median(r["chars"] for r in mine)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS_FILE, help="question file (default: the dev set)")
    parser.add_argument("--missing", action="store_true", help="list each question's missing key facts")
    args = parser.parse_args(argv)
    from kb.assistant import Assistant

    assistant = Assistant()
    assistant.retriever.warm_sentences()
    rows = measure(assistant, load_questions(args.questions))
    for lang, s in summary(rows).items():
        print(f"{lang}: key facts in context {s['key_facts']:.2f}, evidence sentence {s['evidence_sentence']:.2f}, "
              f"context {s['chars_median']:.0f} chars (median), n={s['n']}")
    if args.missing:
        for r in rows:
            if r["missing"]:
                print(f"  {r['id']}: {', '.join(r['missing'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
