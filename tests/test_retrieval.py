"""Retrieval quality on the real, full index (both languages), plus filters and boosts.

The thresholds sit just under what evals/retrieval.py measured on the dev questions (see the
README's numbers), so a regression fails here.
"""

from __future__ import annotations

import os

import pytest

from evals.dataset import QUESTIONS_FILE, first_relevant_rank, load_questions, rank_metrics
from kb.config import Settings
from kb.retrieval import Retriever, expand_english, named_documents, tokens

HOLDOUT_FILE = QUESTIONS_FILE.with_name("questions_holdout.jsonl")
FRESH_FILE = QUESTIONS_FILE.with_name("questions_fresh.jsonl")

pytestmark = pytest.mark.slow

# Measured 2026-11-28 (dev: sv 1.00 / 0.90, en 0.98 / 0.90; held-out, never tuned on: sv 1.00 /
# 0.889, en 0.905 / 0.796); the limits leave room for a rebuilt index's HNSW graph differing.
THRESHOLDS = {"sv": {"hit@5": 0.97, "mrr": 0.87}, "en": {"hit@5": 0.95, "mrr": 0.82}}
HOLDOUT_THRESHOLDS = {"sv": {"hit@5": 0.95, "mrr": 0.83}, "en": {"hit@5": 0.80, "mrr": 0.72}}
# The fresh set (session 15; plain English, written without the glossary): sv 1.00 / 1.00, en 0.92 /
# 0.81 with the glossary's everyday-English entries (0.83 / 0.75 before them, as first measured).
FRESH_THRESHOLDS = {"sv": {"hit@5": 0.95, "mrr": 0.90}, "en": {"hit@5": 0.87, "mrr": 0.77}}


@pytest.fixture(scope="module")
def retriever() -> Retriever:
    r = Retriever(Settings.from_env())
    if not r.store.ledger():
        if os.environ.get("KB_FULL_INDEX"):
            pytest.fail("the full index is missing")
        pytest.skip("no full index here; scripts/test.sh builds it")
    return r


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_dev_questions_find_their_passage(retriever: Retriever, lang: str) -> None:
    questions = [q for q in load_questions() if q.answerable and q.lang == lang]
    ranks = [first_relevant_rank(q, [p.text for p in retriever.retrieve(q.question, k=10)]) for q in questions]
    metrics = rank_metrics(ranks)
    misses = [q.id for q, r in zip(questions, ranks) if r is None or r > 5]
    assert metrics["hit@5"] >= THRESHOLDS[lang]["hit@5"], (metrics, misses)
    assert metrics["mrr"] >= THRESHOLDS[lang]["mrr"], (metrics, misses)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_held_out_questions_find_their_passage(retriever: Retriever, lang: str) -> None:
    """The held-out set was never used for tuning: this is the check that tuning generalised."""
    questions = [q for q in load_questions(HOLDOUT_FILE) if q.answerable and q.lang == lang]
    ranks = [first_relevant_rank(q, [p.text for p in retriever.retrieve(q.question, k=10)]) for q in questions]
    metrics = rank_metrics(ranks)
    for metric, limit in HOLDOUT_THRESHOLDS[lang].items():
        assert metrics[metric] >= limit, (metric, metrics)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_fresh_questions_find_their_passage(retriever: Retriever, lang: str) -> None:
    """A partner's own English ("community organisations", "come into force") reaching Swedish passages."""
    questions = [q for q in load_questions(FRESH_FILE) if q.answerable and q.lang == lang]
    ranks = [first_relevant_rank(q, [p.text for p in retriever.retrieve(q.question, k=10)]) for q in questions]
    metrics = rank_metrics(ranks)
    misses = [q.id for q, r in zip(questions, ranks) if r is None or r > 5]
    for metric, limit in FRESH_THRESHOLDS[lang].items():
        assert metrics[metric] >= limit, (metric, metrics, misses)


def test_plan_outranks_sous_for_plan_questions(retriever: Retriever) -> None:
    for q in ["Vilka grundläggande principer gäller för relationen till civilsamhället?",
              "What principles guide the relationship between the public sector and civil society?"]:
        assert retriever.retrieve(q, k=3)[0].doc_id == "plan", q


def test_sou_questions_reach_the_sou(retriever: Retriever) -> None:
    top = retriever.retrieve("Vad föreslår SOU 2016:78 om vinstbegränsning?", k=3)
    assert top[0].doc_id.startswith("sou-2016-78")
    top = retriever.retrieve("What does the inquiry SOU 2019:56 propose about registration of values-based actors?", k=3)
    assert top[0].doc_id.startswith("sou-2019-56")


@pytest.mark.parametrize(("question", "doc_id"), [
    ("Can contracting authorities reserve contracts for values-based actors under SOU 2019:56?", "sou-2019-56-en"),
    ("Får upphandlande myndigheter reservera kontrakt för idéburna aktörer enligt SOU 2019:56?", "sou-2019-56"),
])
def test_a_summary_in_the_questions_language_comes_first(retriever: Retriever, question: str, doc_id: str) -> None:
    """SOU 2019:56's summary exists in Swedish and English: each question gets its own language's first."""
    top = retriever.retrieve(question, k=5)
    assert top[0].doc_id == doc_id, [(p.doc_id, p.section) for p in top]


@pytest.mark.parametrize(("question", "section"), [
    ("Vilka roller tillskriver handlingsplanen civilsamhället och den sociala ekonomin?", "Roller"),
    ("Which roles does the plan say civil society and the social economy play?", "Roller"),
    ("Vilka andra regionala styrdokument nämns som stöd för civilsamhälle och social ekonomi?",
     "Andra styrande dokument på regional nivå"),  # the compound "styrdokument" names it
])
def test_the_plans_section_the_question_names_comes_first(retriever: Retriever, question: str, section: str) -> None:
    """Without ``SECTION_NAMED_BOOST`` an Insatsområde 1 passage about activities on "principer och
    roller" ranked above "Roller", and "Handlingsplanens syfte" above the other governing documents."""
    top = retriever.retrieve(question, k=5)
    assert (top[0].doc_id, top[0].section) == ("plan", section), [(p.doc_id, p.section) for p in top]


def test_filters(retriever: Retriever) -> None:
    only_sou = retriever.retrieve("föreningsbidrag", k=5, filters={"kind": "sou"})
    assert only_sou and all(p.kind == "sou" for p in only_sou)
    one_doc = retriever.retrieve("idéburet offentligt partnerskap", k=5, filters={"doc_id": "sou-2019-56"})
    assert one_doc and all(p.doc_id == "sou-2019-56" for p in one_doc)
    topic = retriever.retrieve("stöd", k=5, filters={"topic": "Insatsområde 2"})
    assert topic and all(p.section.startswith("Insatsområde 2") for p in topic)
    assert retriever.retrieve("stöd", k=5, filters={"doc_id": "no-such-doc"}) == []


def test_folded_query_matches(retriever: Retriever) -> None:
    lex = retriever.lexical()
    assert lex.search(tokens("foreningsstod i orebro lan"), 10, None) == lex.search(tokens("föreningsstöd i Örebro län"), 10, None)
    typed = {p.id for p in retriever.retrieve("foreningsstod i orebro lan", k=5)}
    proper = {p.id for p in retriever.retrieve("föreningsstöd i Örebro län", k=5)}
    assert len(typed & proper) >= 3


def test_helpers() -> None:
    assert "föreningsbidrag" in expand_english("Are there association grants?")
    assert named_documents("Vad säger SOU 2016:13?") == {"sou-2016-13"}
    assert tokens("Föreningarna") == tokens("foreningarna")
