"""Fuzzing (hypothesis) of OCR repair, plain-text parsing + chunking, and the question path.

Issue 8, item 7. ``tests/test_repair.py`` already checks repair on realistic Swedish and
English; here the inputs are hostile: any Unicode (controls, lone surrogates, combining
marks, private use), OCR garbage characters, odd whitespace. Each test has a bounded number
of examples and no per-example deadline (the first call builds the lexicon), so the file runs
in about a minute.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from conftest import needs_mirror
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunk import chunk_document
from ingest.load import Block, LoadedDocument, assign_levels, parse_plain
from ingest.repair import damage_rate, repair_text
from kb.assistant import QuestionError, clean_question
from kb.config import Settings

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SWEDISH_ISH = "abcdefghijklmnopqrstuvwxyzåäöéABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖ&@|61470 .,;:!?-–()\"'\n\t\f\u00ad\uf0b7•°¢«"
words = st.text(alphabet=SWEDISH_ISH, min_size=0, max_size=400)
anything = st.text(st.characters(codec=None, categories=None), max_size=300)  # includes surrogates and controls
mixed = st.lists(st.one_of(words, anything, st.sampled_from([
    "foreningar &r viktiga for samhallet", "I6pande st6d", "l4n", "samverkan-\nspartner", "SOU 2016:13", "bl.a.",
    "https://example.se/a-b", " Ny sida", "e Punkt", "\uf0b7 punkt",
])), max_size=8).map("".join)


# --------------------------------------------------------------------------- OCR repair


@FUZZ
@given(mixed)
def test_repair_never_fails_keeps_lines_and_is_idempotent(text: str) -> None:
    once = repair_text(text)
    assert isinstance(once.text, str)
    assert once.text.count("\n") == text.count("\n")  # layout is preserved
    assert 0 <= once.changed <= once.tokens
    assert repair_text(once.text).text == once.text
    assert 0.0 <= damage_rate(text) <= 1.0


# --------------------------------------------------------------------------- parsing and chunking


def check_chunks(doc: LoadedDocument, target: int) -> None:
    full, chunks = chunk_document(doc, target)
    assert full == "\n\n".join(b.text for b in doc.blocks)
    previous_end = 0
    for n, c in enumerate(chunks):
        assert c.index == n
        assert full[c.char_start:c.char_end] == c.text  # offsets point at exactly the chunk text
        assert c.text.strip() and c.text == c.text.strip()  # no empty or padded chunks
        assert c.char_start >= previous_end  # in order, no overlap
        previous_end = c.char_end
        assert c.words <= 2 * target
    covered = [False] * len(full)
    for c in chunks:
        covered[c.char_start:c.char_end] = [True] * (c.char_end - c.char_start)
    offset = 0
    for b in doc.blocks:  # every paragraph's text is in some chunk
        if b.kind == "para":
            missing = [full[i] for i in range(offset, offset + len(b.text)) if not covered[i] and not full[i].isspace()]
            assert not missing, (b.text, missing)
        offset += len(b.text) + 2


@FUZZ
@given(mixed, st.sampled_from([None, "leading-space"]), st.sampled_from([20, 50, 100]))
def test_plain_text_parses_and_chunks_with_exact_offsets(text: str, page_mode: str | None, target: int) -> None:
    blocks = parse_plain(text, page_mode)
    assert all(b.text and b.text == b.text.strip() for b in blocks)
    check_chunks(LoadedDocument(blocks), target)


block = st.builds(
    Block, kind=st.sampled_from(["heading", "para", "para", "para"]),
    text=st.text(alphabet=SWEDISH_ISH.replace("\n", ""), min_size=1, max_size=900).map(str.strip).filter(bool),
    page=st.one_of(st.none(), st.integers(1, 50)))


@FUZZ
@given(st.lists(block, max_size=25), st.sampled_from([20, 100, 150]))
def test_any_block_structure_chunks_with_exact_offsets(blocks: list[Block], target: int) -> None:
    assign_levels(blocks)
    check_chunks(LoadedDocument(blocks), target)


# --------------------------------------------------------------------------- the question path

QUESTION = Settings()


@FUZZ
@given(st.one_of(anything, mixed, st.text(max_size=3000)))
def test_clean_question_gives_usable_text_or_a_clear_message(question: str) -> None:
    try:
        text, language = clean_question(question, QUESTION)
    except QuestionError as exc:
        message = str(exc)
        assert message and any(w in message for w in ("fråga", "Frågan", "question"))
        return
    assert language in ("sv", "en")
    assert text and text == text.strip() and len(text) <= QUESTION.max_question_chars
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in text)
    assert text.encode("utf-8")  # printable, storable, sendable
    assert not re.search(r"\s{2,}", text)
    assert clean_question(text, QUESTION) == (text, language)  # cleaning is idempotent


@needs_mirror
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(question=st.one_of(anything, mixed, st.sampled_from(["Vad är social ekonomi?", "IOP", "föreningsstöd"])))
def test_retrieval_on_a_small_index_never_fails(small_index: Settings, retriever, question: str) -> None:  # noqa: ANN001
    try:
        text, language = clean_question(question, small_index)
    except QuestionError:
        return
    passages = retriever.retrieve(text, k=5, language=language)
    assert len(passages) <= 5
    assert all(p.text and p.doc_id for p in passages)
    assert [p.rank for p in passages] == list(range(1, len(passages) + 1))


@pytest.fixture(scope="module")
def retriever(small_index: Settings):  # noqa: ANN201
    from kb.retrieval import Retriever

    return Retriever(small_index)
