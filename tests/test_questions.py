"""Validates the question sets: the development set ``evals/questions.jsonl``, the held-out set
``evals/questions_holdout.jsonl`` (ids ``ho-…``; never used for tuning) and the fresh set
``evals/questions_fresh.jsonl`` (ids ``fr-…``; written in session 15 by someone who had seen
neither the other sets nor the glossary, measured once as unseen, a development set since).

Checks the schema, the counts each set promises (languages, unanswerable questions, share of plan
questions), that no question or id occurs twice across both sets, and that every evidence phrase
is really in the document its question names (and, with the full index, inside one chunk of it).

Matching rule (see evals/README.md): ``fold(phrase) in fold(document_text)``, where the document
text has words hyphenated across line ends joined and all whitespace collapsed; HTML documents
are reduced to text first (tags dropped, entities unescaped). Plan evidence must match the raw
OCR text, so it is written in correct Swedish but only with words the OCR left intact.

The SOU documents live outside the repository (``../shared/corpus`` or ``KB_CORPUS_MIRROR``);
their checks are skipped when the mirror is absent.
"""

from __future__ import annotations

import html
import importlib
import json
import os
import re
import sys
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
fold = importlib.import_module("kb.text").fold

QUESTIONS = ROOT / "evals" / "questions.jsonl"
HOLDOUT = ROOT / "evals" / "questions_holdout.jsonl"
FRESH = ROOT / "evals" / "questions_fresh.jsonl"

KEYS = {
    "id",
    "lang",
    "topic",
    "user",
    "question",
    "doc_id",
    "evidence",
    "key_facts",
    "answerable",
}
LANGS = {"sv", "en"}
USERS = {"volunteer", "official", "partner"}
PLAN_TOPICS = {
    "principles",
    "roles",
    "financing",
    "international",
    "definitions",
    "actors",
    "insatsomraden",
    "strategy",
    "process",
    "national_sources",
    "eu_sources",
}
SOU_TOPICS = {"sou_2016_13", "sou_2016_78", "sou_2019_56"}
TOPICS = PLAN_TOPICS | SOU_TOPICS | {"unanswerable"}

PLAN_FILE = "handlingsplan-civilsamhalle-social-ekonomi-2026-2030.ocr.txt"
# doc_id -> file inside the shared corpus mirror.
SOU_FILES = {
    "sou-2016-13": "sou/sou-2016-13-sammanfattning.html",
    "sou-2016-78": "sou/sou-2016-78-sammanfattning.html",
    "sou-2019-56": "sou/sou-2019-56-sammanfattning.html",
    "sou-2019-56-en": "sou/sou-2019-56-summary-en.html",
    "sou-2016-13-full": "sou/sou-2016-13-fulltext.html",
    "sou-2019-56-full": "sou/sou-2019-56-fulltext.html",
}
DOC_IDS = {"plan", *SOU_FILES}
# Which documents each SOU topic may point to.
SOU_TOPIC_DOCS = {
    "sou_2016_13": {"sou-2016-13", "sou-2016-13-full"},
    "sou_2016_78": {"sou-2016-78"},
    "sou_2019_56": {"sou-2019-56", "sou-2019-56-en", "sou-2019-56-full"},
}
ID_RE = re.compile(r"^(?P<set>ho-|fr-)?(?P<lang>sv|en)-(?P<topic>[a-z0-9_]+)-(\d{2})$")
SET_PREFIX = {"questions.jsonl": None, "questions_holdout.jsonl": "ho-", "questions_fresh.jsonl": "fr-"}
# An evidence phrase may occur this many times in its document at most ("distinctive").
MAX_EVIDENCE_HITS = 3


# ----------------------------------------------------------------------------- loading


def load_questions(path: Path = QUESTIONS) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:  # pragma: no cover - reported as a failure
            pytest.fail(f"{path.name}:{number}: not JSON: {exc}")
    return rows


QS = load_questions()
HO = load_questions(HOLDOUT)
FR = load_questions(FRESH)
# file name -> its questions; tests that hold for every set are parametrised over this.
SETS = {QUESTIONS.name: QS, HOLDOUT.name: HO, FRESH.name: FR}
ALL = [(name, q) for name, qs in SETS.items() for q in qs]


def mirror_dir() -> Path:
    env = os.environ.get("KB_CORPUS_MIRROR")
    return Path(env) if env else ROOT.parent / "shared" / "corpus"


def plan_path() -> Path:
    candidates = []
    if os.environ.get("KB_CORPUS_DIR"):
        candidates.append(Path(os.environ["KB_CORPUS_DIR"]) / PLAN_FILE)
    candidates += [ROOT / "corpus" / PLAN_FILE, mirror_dir() / "plan" / PLAN_FILE]
    for path in candidates:
        if path.is_file():
            return path
    pytest.fail(f"plan text not found; looked in {[str(p) for p in candidates]}")


_TAG = re.compile(r"<[^>]+>")
_HYPHEN_BREAK = re.compile(r"(\w)-[ \t]*\n\s*(\w)")


def html_to_text(raw: str) -> str:
    """Cleaned Riksdag HTML (h1/h2/p) to plain text: tags become spaces, entities unescaped."""
    return html.unescape(_TAG.sub(" ", raw))


def normalise(text: str) -> str:
    """Join words hyphenated across line ends, then fold (which also collapses whitespace)."""
    return fold(_HYPHEN_BREAK.sub(r"\1\2", text))


@cache
def doc_text(doc_id: str) -> str:
    """Folded text of a document; skips the test when a shared-corpus file is absent."""
    if doc_id == "plan":
        return normalise(plan_path().read_text(encoding="utf-8"))
    path = mirror_dir() / SOU_FILES[doc_id]
    if not path.is_file():
        pytest.skip(f"shared corpus mirror not available: {path}")
    return normalise(html_to_text(path.read_text(encoding="utf-8")))


@cache
def plan_variants() -> dict[str, str]:
    """Every plan text in the project's corpus/ (raw OCR and any repaired .txt version)."""
    variants = {"raw OCR": doc_text("plan")}
    for path in sorted((ROOT / "corpus").glob("handlingsplan-*.txt")):
        if path.name != PLAN_FILE:
            variants[path.name] = normalise(path.read_text(encoding="utf-8"))
    return variants


# ----------------------------------------------------------------------------- helpers

ALL_ANSWERABLE = [q for _, q in ALL if q.get("answerable")]
EVIDENCE_CASES = [
    pytest.param(q["doc_id"], phrase, id=f"{q['id']}:{i}")
    for q in ALL_ANSWERABLE
    for i, phrase in enumerate(q.get("evidence") or [])
]
PLAN_EVIDENCE = [
    pytest.param(phrase, id=f"{q['id']}:{i}")
    for q in ALL_ANSWERABLE
    if q.get("doc_id") == "plan"
    for i, phrase in enumerate(q.get("evidence") or [])
]


def _is_str_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


# ----------------------------------------------------------------------------- schema


def test_file_exists_and_not_empty():
    assert QUESTIONS.is_file() and HOLDOUT.is_file() and FRESH.is_file()
    assert len(QS) >= 70, f"only {len(QS)} questions"


@pytest.mark.parametrize(("source", "q"), ALL, ids=[q.get("id", "?") for _, q in ALL])
def test_schema(source, q):
    assert set(q) == KEYS, f"keys differ: {sorted(set(q) ^ KEYS)}"
    assert isinstance(q["id"], str)
    m = ID_RE.match(q["id"])
    assert m, f"bad id {q['id']!r} (want lang-topic-NN; ho-… in the held-out set, fr-… in the fresh one)"
    assert m.group("set") == SET_PREFIX[source], f"ids of {source} start with {SET_PREFIX[source]!r}"
    assert q["lang"] in LANGS
    assert q["topic"] in TOPICS
    assert q["user"] in USERS
    assert m.group("lang") == q["lang"], "id prefix must be the language"
    assert m.group("topic") == q["topic"], "id middle part must be the topic"
    assert isinstance(q["question"], str) and len(q["question"].strip()) >= 10
    assert q["question"].rstrip().endswith("?"), "write questions as questions"
    assert isinstance(q["answerable"], bool)
    assert isinstance(q["evidence"], list)
    assert isinstance(q["key_facts"], list)

    if not q["answerable"]:
        assert q["topic"] == "unanswerable"
        assert q["doc_id"] is None
        assert q["evidence"] == [] and q["key_facts"] == []
        return

    assert q["topic"] != "unanswerable"
    assert q["doc_id"] in DOC_IDS
    if q["topic"] in PLAN_TOPICS:
        assert q["doc_id"] == "plan", f"topic {q['topic']} is about the plan"
    else:
        assert q["doc_id"] in SOU_TOPIC_DOCS[q["topic"]]
    if q["doc_id"] == "sou-2019-56-en":
        assert q["lang"] == "en"

    assert 1 <= len(q["evidence"]) <= 3
    assert _is_str_list(q["evidence"])
    for phrase in q["evidence"]:
        n = len(phrase.split())
        assert 3 <= n <= 10, f"evidence should be 3-10 words, got {n}: {phrase!r}"
    assert len(set(map(fold, q["evidence"]))) == len(q["evidence"]), "duplicate evidence"

    assert q["key_facts"], "answerable questions need key facts"
    for group in q["key_facts"]:
        assert _is_str_list(group) and group, f"key fact group must be a list of strings: {group!r}"


def test_unique_ids():
    dupes = [k for k, n in Counter(q["id"] for _, q in ALL).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"


def test_unique_questions():
    """Unique within and across the two sets: a held-out question must not repeat a dev one."""
    dupes = [k for k, n in Counter(fold(q["question"]) for _, q in ALL).items() if n > 1]
    assert not dupes, f"duplicate questions: {dupes}"


# ----------------------------------------------------------------------------- counts


def test_language_counts():
    langs = Counter(q["lang"] for q in QS)
    assert langs["sv"] >= 30, langs
    assert langs["en"] >= 30, langs


def test_unanswerable_counts():
    unanswerable = [q for q in QS if not q["answerable"]]
    assert len(unanswerable) >= 10
    langs = Counter(q["lang"] for q in unanswerable)
    assert langs["sv"] >= 3 and langs["en"] >= 3, langs


def test_holdout_counts():
    """The held-out set: 48 questions, 24 per language, 3 unanswerable per language."""
    assert len(HO) == 48, len(HO)
    assert Counter(q["lang"] for q in HO) == {"sv": 24, "en": 24}
    unanswerable = [q for q in HO if not q["answerable"]]
    assert Counter(q["lang"] for q in unanswerable) == {"sv": 3, "en": 3}


@pytest.mark.parametrize("source", SETS)
def test_mostly_about_the_plan(source):
    answerable = [q for q in SETS[source] if q["answerable"]]
    share = sum(q["doc_id"] == "plan" for q in answerable) / len(answerable)
    assert 0.55 <= share <= 0.8, f"plan share {share:.0%} (aim: about two thirds)"


def test_fresh_counts():
    """The fresh set: 40 questions, 26 English and 14 Swedish (its point is English questions
    in a partner's own words), 2 unanswerable per language, 36 answerable."""
    assert len(FR) == 40, len(FR)
    assert Counter(q["lang"] for q in FR) == {"sv": 14, "en": 26}
    unanswerable = [q for q in FR if not q["answerable"]]
    assert Counter(q["lang"] for q in unanswerable) == {"sv": 2, "en": 2}


@pytest.mark.parametrize("source", [QUESTIONS.name, HOLDOUT.name])
def test_every_user_group_and_topic_present(source):
    """(Not the fresh set: its 40 questions were written for plain English, not for every topic.)"""
    qs = SETS[source]
    assert {q["user"] for q in qs} == USERS
    assert {q["topic"] for q in qs} == TOPICS
    assert "partner" in {q["user"] for q in qs if q["lang"] == "en"}
    assert {"volunteer", "official"} <= {q["user"] for q in qs if q["lang"] == "sv"}
    sou_docs = {q["doc_id"] for q in qs if q["answerable"] and q["doc_id"] != "plan"}
    assert sou_docs == set(SOU_FILES), f"SOU documents without questions: {set(SOU_FILES) - sou_docs}"


def test_key_facts_in_question_language():
    """English questions need at least one ASCII-only phrasing in most key fact groups."""
    for q in ALL_ANSWERABLE:
        if q["lang"] != "en":
            continue
        groups = q["key_facts"]
        english = sum(any(p.isascii() for p in group) for group in groups)
        assert english >= len(groups) / 2, f"{q['id']}: key facts look untranslated"


# ----------------------------------------------------------------------------- evidence


@pytest.mark.parametrize(("doc_id", "phrase"), EVIDENCE_CASES)
def test_evidence_in_document(doc_id, phrase):
    text = doc_text(doc_id)
    needle = fold(phrase)
    hits = text.count(needle)
    assert hits >= 1, f"{phrase!r} not found in {doc_id}"
    assert hits <= MAX_EVIDENCE_HITS, f"{phrase!r} occurs {hits} times in {doc_id}: not distinctive"


@pytest.mark.parametrize("phrase", PLAN_EVIDENCE)
def test_plan_evidence_matches_every_plan_text(phrase):
    """Plan evidence must survive the OCR: it has to match the raw text and any repaired text."""
    for name, text in plan_variants().items():
        assert fold(phrase) in text, f"{phrase!r} not in plan ({name})"


@cache
def indexed_chunks() -> dict[str, list[str]]:
    """Folded text of every committed chunk of the default index, by document (read-only)."""
    from kb.embeddings import embedder_name
    from kb.store import Store

    settings = importlib.import_module("kb.config").Settings.from_env()
    if not settings.chroma_url and not settings.chroma_path.is_dir():
        pytest.skip("no default index here")
    by_doc: dict[str, list[str]] = {}
    for chunk in Store(settings, embedder_name(settings)).all_chunks():
        by_doc.setdefault(chunk.metadata.get("doc_id"), []).append(fold(chunk.text.replace("-\n", "")))
    if not by_doc and not os.environ.get("KB_FULL_INDEX"):
        pytest.skip("the default index is empty; scripts/test.sh builds it")
    return by_doc


@pytest.mark.slow
@pytest.mark.parametrize(("doc_id", "phrase"), EVIDENCE_CASES)
def test_evidence_inside_one_indexed_chunk(doc_id, phrase):
    """Retrieval is scored per chunk (``evals.dataset.is_relevant``): a phrase split across two
    chunks could never count as found."""
    chunks = indexed_chunks()
    assert any(fold(phrase) in text for text in chunks.get(doc_id, [])), \
        f"{phrase!r} is in no single indexed chunk of {doc_id}"


def test_html_loader():
    sample = "<html><body><h1>Rubrik</h1><p>F&ouml;rening&nbsp;och<br>st&auml;rkt</p></body></html>"
    assert fold(html_to_text(sample)) == "rubrik forening och starkt"


def test_hyphen_join():
    assert normalise("social-\n economy och halso- och") == "socialeconomy och halso- och"
