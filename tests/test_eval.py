"""The evaluation harness (``kb eval``): metrics, grading, question selection, the report, and a
regression subset against the real full index.

The metric tests use hand-made rankings and rows with known answers. The report test runs the
whole harness (ours, extractive, and the real llama-index baseline with MiniLM) on the small
index. The ``slow`` tests run the real system on the dev questions with thresholds just under
what `kb eval` measured (README "Evaluation"), so a regression fails CI.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from evals.dataset import Question, first_relevant_rank, load_questions, select_questions, spread
from evals.grading import grade, strip_quotes
from evals.metrics import (
    answer_summary,
    hit_at_k,
    ndcg_at_k,
    percentile,
    rank_metrics,
    rate,
    reciprocal_rank,
    retrieval_summary,
)
from kb.config import PROJECT_ROOT
from kb.text import fold, guess_language


def _q(qid: str = "en-roles-01", answerable: bool = True, lang: str = "en", topic: str = "roles") -> Question:
    if not answerable:
        return Question(qid, lang, "unanswerable", "partner", "How much money?", None, (), (), False)
    return Question(qid, lang, topic, "partner", "Which roles?", "plan", ("civilsamhället har fem roller",),
                    (("five", "fem"), ("school of democracy", "demokratiskola")), True)


# --------------------------------------------------------------------------- rank metrics


def test_rank_metrics_on_hand_made_ranks() -> None:
    ranks = [1, 2, 5, None]
    m = rank_metrics(ranks)
    assert m["hit@1"] == 0.25
    assert m["hit@3"] == 0.5
    assert m["hit@5"] == 0.75
    assert m["mrr"] == pytest.approx((1 + 0.5 + 0.2 + 0) / 4)
    assert m["ndcg@10"] == pytest.approx((1 + 1 / math.log2(3) + 1 / math.log2(6)) / 4)
    assert m["n"] == 4


def test_rank_metric_edges() -> None:
    assert hit_at_k(None, 5) == 0 and hit_at_k(5, 5) == 1 and hit_at_k(6, 5) == 0
    assert reciprocal_rank(None) == 0 and reciprocal_rank(4) == 0.25
    assert ndcg_at_k(1) == 1.0 and ndcg_at_k(3) == 0.5 and ndcg_at_k(11) == 0 and ndcg_at_k(None) == 0
    assert rank_metrics([])["mrr"] == 0 and rank_metrics([])["n"] == 0


def test_first_relevant_rank_is_diacritic_insensitive() -> None:
    q = _q()
    texts = ["Inget här.", "Vid sidan av dessa principer ... att CIVILSAMHALLET har  fem\nroller.", "fem roller"]
    assert first_relevant_rank(q, texts) == 2
    assert first_relevant_rank(q, texts[:1]) is None


def test_percentile_rate_mean_are_none_when_nothing_applies() -> None:
    assert percentile([], 50) is None and rate([None, None]) is None
    assert percentile([3.0, 1.0, 2.0, None], 50) == 2.0  # nearest rank, None ignored
    assert percentile([float(i) for i in range(1, 21)], 95) == 19.0
    assert rate([True, False, None, True]) == pytest.approx(2 / 3)


def test_retrieval_summary_groups_by_language_and_topic() -> None:
    rows = [{"lang": "sv", "topic": "roles", "rank": 1, "latency_s": 0.1},
            {"lang": "sv", "topic": "financing", "rank": None, "latency_s": 0.3},
            {"lang": "en", "topic": "roles", "rank": 2, "latency_s": 0.2}]
    s = retrieval_summary(rows)
    assert s["by_language"]["sv"]["hit@5"] == 0.5 and s["by_language"]["en"]["mrr"] == 0.5
    assert s["by_topic"]["roles"]["hit@1"] == 0.5 and s["by_topic"]["financing"]["n"] == 1
    assert s["latency_s"]["p50"] == 0.2 and s["latency_s"]["p95"] == 0.3


# --------------------------------------------------------------------------- grading


def test_grade_counts_key_facts_evidence_refusal_and_language() -> None:
    q = _q()
    row = grade(q, answer="The plan names five roles, for example a school of democracy [1].", refused=False,
                cited_texts=["... civilsamhället har fem roller ..."], claims_kept=1, claims_removed=1)
    assert row["key_facts"] == 1.0 and row["evidence_cited"] is True and row["language_right"]
    assert row["citation_support"] == 0.5 and row["refusal_right"]
    row = grade(q, answer="Planen nämner roller [1].", refused=False, cited_texts=["något annat"])
    assert row["key_facts"] == 0.0 and row["evidence_cited"] is False and not row["language_right"]
    assert row["key_facts_missing"] == ["five", "school of democracy"]
    row = grade(q, answer="It names five.", refused=False)  # a system that does not cite
    assert row["evidence_cited"] is None and row["citation_support"] is None
    row = grade(_q("en-unanswerable-01", answerable=False), answer="Sorry, the documents do not cover it.",
                refused=True)
    assert row["refusal_right"] and row["key_facts"] is None and row["evidence_cited"] is None


def test_language_ignores_quotations_and_their_swedish_source_labels() -> None:
    extractive = ("What the sources say (quoted in their original language):\n"
                  "• Handlingsplanen 2026–2030 (s. 6–7, Aktörer som berörs av planen): ”Många aktörer i länet.” [1]")
    assert "Aktörer" not in strip_quotes(extractive) and "Många" not in strip_quotes(extractive)
    assert grade(_q(), answer=extractive, refused=False)["language_right"]
    glossed = ("The principles are: openness (öppenhet), dialogue (dialog), quality (kvalitet), long-term "
               "commitment (långsiktighet), openness and transparency (öppenhet och insyn), and diversity (mångfald) [1].")
    assert guess_language(glossed) == "sv" and grade(_q(), answer=glossed, refused=False)["language_right"]


def test_answer_summary_splits_refusals() -> None:
    q_ok, q_no = _q(), _q("en-unanswerable-01", answerable=False)
    rows = [grade(q_ok, answer="Five roles, a school of democracy [1].", refused=False,
                  cited_texts=["civilsamhället har fem roller"], claims_kept=2, claims_removed=0,
                  timings={"sources_s": 0.1, "first_token_s": 2.0, "total_s": 4.0}),
            grade(q_ok, answer="Sorry.", refused=True, cited_texts=[]),
            grade(q_no, answer="It is 5 000 kronor.", refused=False, cited_texts=[])]
    s = answer_summary(rows)["overall"]
    assert s["key_fact_recall"] == 1.0  # over answered questions
    assert s["key_fact_recall_all"] == 0.5  # the refusal counts 0
    assert s["evidence_cited"] == 0.5 and s["citation_support"] == 1.0
    assert s["refusal_accuracy"] == pytest.approx(1 / 3)
    assert s["unanswerable_refused"] == 0.0 and s["answerable_refused"] == 0.5


def test_baseline_refusal_wording() -> None:
    from evals.baseline import html_to_text, looks_refused

    assert looks_refused("The context does not provide information about grant amounts.")
    assert looks_refused("Det framgår inte av sammanhanget.") and looks_refused("Empty Response")
    assert not looks_refused("The plan names five roles of civil society.")
    assert html_to_text("<p>F&ouml;rening</p><script>x()</script><p>två</p>") == "Förening\n\ntvå"


# --------------------------------------------------------------------------- selection


def test_question_set_meets_the_issue() -> None:
    qs = load_questions()
    assert len(qs) >= 60
    assert sum(q.lang == "sv" for q in qs) >= 25 and sum(q.lang == "en" for q in qs) >= 25
    assert sum(not q.answerable for q in qs) >= 8
    assert all(q.evidence and q.key_facts for q in qs if q.answerable)


def test_spread_is_deterministic_balanced_and_covers_unanswerable() -> None:
    qs = load_questions()
    subset = spread(qs, 12)
    assert [q.id for q in subset] == [q.id for q in spread(qs, 12)]
    assert len(subset) == 12 and len({q.id for q in subset}) == 12
    assert 5 <= sum(q.lang == "sv" for q in subset) <= 7
    assert 2 <= sum(not q.answerable for q in subset) <= 4
    assert len({q.topic for q in subset}) >= 7
    only = select_questions(qs, langs=["en"], topics=["roles"])
    assert only and all(q.lang == "en" and q.topic == "roles" for q in only)
    assert [q.id for q in select_questions(qs, ids=["sv-roles-01"])] == ["sv-roles-01"]


def test_the_wider_check_is_every_second_question_the_usual_24_leave_out() -> None:
    """evals/wider_dev_ids.txt (README "Evaluation"): 41 dev questions beside `--n 24`, none of them
    among the 24, so it stays a check on what tuning on the 24 hides."""
    qs = load_questions()
    usual = {q.id for q in spread(qs, 24)}
    wider = (Path(__file__).parents[1] / "evals" / "wider_dev_ids.txt").read_text().split()
    assert wider == [q.id for q in qs if q.id not in usual][::2]
    assert len(wider) == 41 and not usual & set(wider)


def test_cli_rejects_unknown_ids_with_a_message(capsys: pytest.CaptureFixture) -> None:
    from kb.cli import main

    assert main(["eval", "--retrieval-only", "--ids", "no-such-question"]) == 2
    err = capsys.readouterr().err
    assert "unknown question id" in err and "Traceback" not in err


# --------------------------------------------------------------------------- a tiny real run


TINY_IDS = ["sv-principles-01", "en-principles-01", "sv-sou_2019_56-01", "sv-unanswerable-01"]


def test_ablations_switch_one_part_off_each_and_restore_it(small_index, tmp_path: Path) -> None:  # noqa: ANN001
    import kb.retrieval as R
    from evals.retrieval import ABLATIONS, ablate

    before = (R.SENTENCE_W, R.PLAN_BOOST, R.Decompounder.MIN_WORD)
    lines = [line for line in (Path("evals/questions.jsonl").read_text(encoding="utf-8").splitlines())
             if json.loads(line)["id"] in TINY_IDS]
    (tmp_path / "q.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = ablate(small_index, 5, tmp_path / "q.jsonl")
    assert [r["retriever"] for r in rows] == list(ABLATIONS)
    assert all(0.0 <= r["sv mrr"] <= 1.0 for r in rows)
    assert before == (R.SENTENCE_W, R.PLAN_BOOST, R.Decompounder.MIN_WORD)


def test_tiny_run_writes_report_with_baseline(small_index, tmp_path: Path) -> None:
    from evals.report import write_report
    from evals.run import Options, run_eval

    settings = replace(small_index, data_dir=small_index.data_dir)  # the baseline caches under data_dir/baseline
    questions = select_questions(load_questions(), ids=TINY_IDS)
    result = run_eval(settings, questions, Options(extractive=True), log=lambda m: None)

    assert result["meta"]["baseline"]["chunks"] > 0
    assert set(result["meta"]["baseline"]["documents"]) == {"plan", "sou-2019-56", "sou-2019-56-en"}
    ours = result["ours"]["retrieval"]["overall"]
    assert ours["n"] == 3 and ours["hit@5"] >= 2 / 3  # the plan questions are found in the small index
    assert result["baseline"]["retrieval"]["overall"]["n"] == 3
    assert result["ours"]["answers"]["overall"]["n"] == 4
    assert result["memory"]["ours_peak_rss_mb"] > 50
    rows = {r["id"]: r for r in result["questions"]}
    assert rows["sv-principles-01"]["answer"]["evidence_cited"] is True
    assert rows["sv-principles-01"]["ours"]["retrieved"][0]["snippet"]

    paths = write_report(result, tmp_path / "reports")
    md = paths[0].read_text(encoding="utf-8")
    assert "| all | ours |" in md and "| all | baseline |" in md and "## Failures" in md
    from evals.report import answer_problems

    failures = md.split("## Failures", 1)[1]
    for r in result["questions"]:
        if answer_problems(r["answer"]) or (r["answerable"] and (r["ours"]["rank"] or 99) > 5):
            assert f"**{r['id']}**" in failures
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(paths[1].read_text(encoding="utf-8"))["questions"][0]["id"] == questions[0].id
    assert (tmp_path / "reports" / "latest.md").read_text(encoding="utf-8").count("latest.png") == 1

    from evals.baseline import Baseline

    again = Baseline(settings, {"plan", "sou-2019-56", "sou-2019-56-en"}, log=lambda m: None)
    assert not again.built and again.key == result["meta"]["baseline"]["index_key"]  # cached, not re-embedded


def test_the_bare_question_set_is_swedish_without_swedish_letters(tmp_path) -> None:  # noqa: ANN001
    out = subprocess.run([sys.executable, "-m", "evals.bare"], capture_output=True, text=True, check=True,
                         cwd=PROJECT_ROOT).stdout
    path = tmp_path / "bare.jsonl"
    path.write_text(out, encoding="utf-8")
    questions = load_questions(path)
    dev = {q.id: q for q in load_questions()}
    assert len(questions) == 19 and sum(q.answerable for q in questions) == 13
    for q in questions:
        assert q.lang == "sv" and not set("åäöÅÄÖ") & set(q.question)
        assert fold(q.question) == fold(dev[q.id].question) and q.key_facts == dev[q.id].key_facts


# --------------------------------------------------------------------------- regression on the full index

# Just under what `kb eval` measured on the full index (README "Evaluation"): sv hit@5 1.00, MRR 0.89,
# nDCG@10 0.92; en 0.98, 0.86, 0.90. One more miss per language still passes, two fail.
RETRIEVAL_THRESHOLDS = {"sv": {"hit@5": 0.97, "mrr": 0.87, "ndcg@10": 0.90},
                        "en": {"hit@5": 0.95, "mrr": 0.82, "ndcg@10": 0.86}}
# Extractive answers on 16 spread questions (12 answerable, 4 unanswerable), measured: evidence cited 1.00,
# key facts 0.54, refusal accuracy 0.81 (the extractive mode refuses only off-topic questions), no
# answerable question refused, language 1.00.
EXTRACTIVE_N = 16
# measured (`kb eval --extractive --n 16 --no-baseline`): key facts 0.86, evidence 1.00, refusals 1.00;
# quoting the best-scoring sentences instead of the context's first ones gave 0.63, 1.00, 0.94
EXTRACTIVE_THRESHOLDS = {"evidence_cited": 0.90, "key_fact_recall": 0.78, "answerable_refused_max": 0.0,
                         "refusal_accuracy": 0.90, "language_match": 0.95}


@pytest.fixture(scope="module")
def full_settings():  # noqa: ANN201
    from kb.config import Settings
    from kb.embeddings import embedder_name
    from kb.store import Store

    settings = Settings.from_env()
    if not Store(settings, embedder_name(settings)).ledger():
        if os.environ.get("KB_FULL_INDEX"):
            pytest.fail("the full index is missing")
        pytest.skip("no full index here; scripts/test.sh builds it")
    return settings


@pytest.mark.slow
def test_retrieval_regression_on_dev_questions(full_settings) -> None:  # noqa: ANN001
    from evals.run import Options, run_eval

    questions = [q for q in load_questions() if q.answerable]
    result = run_eval(full_settings, questions, Options(retrieval_only=True, baseline=False), log=lambda m: None)
    by_lang = result["ours"]["retrieval"]["by_language"]
    misses = [r["id"] for r in result["questions"] if (r["ours"]["rank"] or 99) > 5]
    for lang, limits in RETRIEVAL_THRESHOLDS.items():
        for metric, limit in limits.items():
            assert by_lang[lang][metric] >= limit, (lang, metric, by_lang[lang], misses)


# The Swedish dev questions with å/ä/ö typed as a/a/o, as on a foreign keyboard. Measured on the
# full index: hit@5 1.00, MRR 0.863 with the letters restored (kb.accents; 0.88 when first measured,
# before later retrieval changes); 0.96 / 0.84 without. The limit leaves room for a rebuilt index's
# HNSW graph, as in tests/test_retrieval.py.
BARE_THRESHOLDS = {"hit@5": 0.97, "mrr": 0.85}


@pytest.mark.slow
def test_swedish_questions_typed_without_swedish_letters_find_their_passages(full_settings) -> None:  # noqa: ANN001
    from evals.bare import bare
    from kb.assistant import Assistant

    assistant = Assistant(full_settings)
    questions = [q for q in load_questions() if q.answerable and q.lang == "sv"]
    ranks = [first_relevant_rank(q, [p.text for p in assistant.retrieve(bare(q.question), k=10)[1]])
             for q in questions]
    m = rank_metrics(ranks)
    assert all(m[metric] >= limit for metric, limit in BARE_THRESHOLDS.items()), m


@pytest.mark.slow
def test_extractive_answers_regression(full_settings) -> None:  # noqa: ANN001
    from evals.run import Options, run_eval

    questions = spread(load_questions(), EXTRACTIVE_N)
    result = run_eval(full_settings, questions, Options(extractive=True, baseline=False), log=lambda m: None)
    s = result["ours"]["answers"]["overall"]
    assert s["n"] == EXTRACTIVE_N and s["errors"] == 0
    assert s["evidence_cited"] >= EXTRACTIVE_THRESHOLDS["evidence_cited"], s
    assert s["key_fact_recall"] >= EXTRACTIVE_THRESHOLDS["key_fact_recall"], s
    assert s["answerable_refused"] <= EXTRACTIVE_THRESHOLDS["answerable_refused_max"], s
    assert s["refusal_accuracy"] >= EXTRACTIVE_THRESHOLDS["refusal_accuracy"], s
    assert s["language_match"] >= EXTRACTIVE_THRESHOLDS["language_match"], s


CONTEXT_THRESHOLDS = {"sv": {"key_facts": 0.67, "evidence_sentence": 0.87},  # measured 0.70 / 0.90
                      "en": {"key_facts": 0.66, "evidence_sentence": 0.73}}  # measured 0.69 / 0.77


@pytest.mark.slow
def test_key_facts_reaching_the_model_regression(full_settings) -> None:  # noqa: ANN001
    """``python -m evals.context``: the context's key facts cap the answers' (session 3: sv 0.67)."""
    from evals.context import measure, summary
    from kb.assistant import Assistant

    assistant = Assistant(full_settings)
    assistant.retriever.warm_sentences()
    rows = measure(assistant, load_questions())
    assert rows and all(0 <= r["key_facts"] <= 1 for r in rows if r["key_facts"] is not None)
    for lang, got in summary(rows).items():
        for metric, limit in CONTEXT_THRESHOLDS[lang].items():
            assert got[metric] >= limit, (lang, metric, got)
