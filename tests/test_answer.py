"""Answer plumbing: citations, the support check, refusal, fallback, follow-ups, languages.

Against a real small index with the real embedding model. The LLM is replaced only where the
test is about the plumbing around it (a scripted backend that returns a fixed text, or one
that fails); real generation is tested with the real model in test_answering_llm.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from conftest import needs_mirror

from kb import answer as A
from kb.assistant import Assistant, QuestionError, clean_question, condense
from kb.embeddings import load_embedder

pytestmark = needs_mirror


class ScriptedLLM:
    """Returns a fixed text, in pieces; records the prompts it was given."""

    name = "scripted"

    def __init__(self, text: str) -> None:
        self.text = text
        self.calls: list[list[dict]] = []

    def stream_chat(self, messages: list[dict], **kwargs) -> Iterator[str]:
        self.calls.append(messages)
        for i in range(0, len(self.text), 7):
            yield self.text[i:i + 7]


class FailingLLM:
    name = "failing"

    def __init__(self) -> None:
        self.calls = 0

    def stream_chat(self, messages: list[dict], **kwargs) -> Iterator[str]:
        from kb.llm import LLMError

        self.calls += 1
        raise LLMError("connection refused by http://127.0.0.1:9")
        yield ""  # pragma: no cover


@pytest.fixture(scope="module")
def assistant(small_index) -> Assistant:
    return Assistant(small_index)


def with_llm(assistant: Assistant, backend) -> Assistant:  # noqa: ANN001
    a = Assistant(replace(assistant.settings, answer_mode="llm"), retriever=assistant.retriever)
    a._backend = backend
    return a


def test_sources_come_first_then_tokens_then_the_answer(assistant: Assistant) -> None:
    events = list(assistant.ask_stream("Vilka grundläggande principer beskriver handlingsplanen?"))
    assert [e["type"] for e in events][0] == "sources"
    assert events[-1]["type"] == "answer"
    assert any(e["type"] == "token" for e in events)
    assert events[0]["passages"][0].doc_id == "plan"


def test_extractive_answer_cites_the_evidence(assistant: Assistant) -> None:
    result = assistant.ask("Hur definieras social ekonomi i handlingsplanen?")
    assert not result.refused and result.backend == "extractive"
    assert result.citations and all(f"[{c.n}]" in result.answer for c in result.citations)
    assert any("organiserade verksamheter" in c.quote for c in result.citations)
    assert all(c.quote in c.text for c in result.citations)


def test_llm_answer_with_an_unsupported_claim_loses_that_claim(assistant: Assistant) -> None:
    scripted = ScriptedLLM(
        "Social ekonomi definieras som organiserade verksamheter som primärt har samhälleliga ändamål [1]. "
        "Regionen betalar ut 750 000 kronor till varje förening varje år [1]. "
        "Verksamheterna bygger på demokratiska värderingar [1].")
    a = with_llm(assistant, scripted)
    result = a.ask("Hur definieras social ekonomi i handlingsplanen?")
    assert scripted.calls, "the LLM was asked"
    assert "750 000" not in result.answer
    assert result.removed_claims and "750 000" in result.removed_claims[0]
    assert "organiserade verksamheter" in result.answer and "demokratiska värderingar" in result.answer
    assert result.citations and result.citations[0].n == 1
    assert any("togs bort" in n for n in result.notices)
    # the system prompt is stable and the sources are framed as data
    system, user = scripted.calls[0]
    assert system["content"] == A.SYSTEM_PROMPT
    assert "[1]" in user["content"] and "Svara på svenska." in user["content"]


def test_citations_are_renumbered_in_order_of_use(small_index) -> None:
    a = Assistant(small_index)
    _, passages = a.retrieve("Vilka roller har civilsamhället?", k=5)
    refs = [A.Ref(0, A.split_sentences(passages[0].text)[0]), A.Ref(1, A.split_sentences(passages[1].text)[0]),
            A.Ref(2, A.split_sentences(passages[2].text)[0])]
    first, second = refs[2].sentence.rstrip("."), refs[0].sentence.rstrip(".")
    text, citations, removed = A.verify_answer(f"{first} [3]. {second} [1].", refs, passages, load_embedder(small_index))
    assert not removed
    assert [c.n for c in citations] == [1, 2]
    assert citations[0].doc_id == passages[2].doc_id and citations[0].text == passages[2].text
    assert citations[0].quote == refs[2].sentence and citations[1].quote == refs[0].sentence
    assert "[1]" in text.split(".")[0]


def test_uncited_claims_get_their_supporting_source_or_go(small_index) -> None:
    a = Assistant(small_index)
    _, passages = a.retrieve("Hur definieras social ekonomi?", k=5)
    sentence = next(s for p in passages for s in A.split_sentences(p.text) if "organiserade verksamheter" in s)
    refs = [A.Ref(next(i for i, p in enumerate(passages) if sentence in p.text), sentence)]
    answer = f"{sentence.rstrip('.')}. Alla föreningar i Sverige får 2 miljoner kronor om året i statsbidrag."
    text, citations, removed = A.verify_answer(answer, refs, passages, load_embedder(small_index))
    assert citations and citations[0].quote == sentence and "[1]" in text
    assert removed == ["Alla föreningar i Sverige får 2 miljoner kronor om året i statsbidrag."]
    assert "miljoner" not in text


def test_off_topic_question_is_refused_without_calling_the_llm(assistant: Assistant) -> None:
    spy = ScriptedLLM("Paris [1].")
    a = with_llm(assistant, spy)
    for question, lang in [("Vem vann fotbolls-VM 2022?", "sv"), ("What is the capital of France?", "en")]:
        result = a.ask(question)
        assert result.refused and not spy.calls
        assert result.language == lang
        assert ("kunskapsbasen" in result.answer) if lang == "sv" else ("knowledge base" in result.answer)
        assert not result.citations


def test_model_saying_no_answer_is_a_refusal(assistant: Assistant) -> None:
    a = with_llm(assistant, ScriptedLLM("NO_ANSWER"))
    result = a.ask("Hur mycket pengar får en förening i föreningsbidrag per år enligt handlingsplanen?")
    assert result.refused and "NO_ANSWER" not in result.answer


def test_refusal_names_a_cited_document_we_only_link(assistant: Assistant) -> None:
    text = A.refusal_text("sv", "Vad står det i propositionen 2009/10:55?", assistant.cited_only)
    assert "Prop. 2009/10:55" in text and "https://data.riksdagen.se/dokument/GX0355.html" in text


def test_llm_down_falls_back_to_extractive_with_a_notice(assistant: Assistant) -> None:
    failing = FailingLLM()
    result = with_llm(assistant, failing).ask("What does the plan say about international collaboration?")
    assert failing.calls == 1
    assert result.backend == "extractive" and not result.refused
    assert result.notices and "did not respond" in result.notices[0]
    assert result.citations


def test_english_question_gets_english_framing(assistant: Assistant) -> None:
    result = assistant.ask("How does the plan define the social economy?")
    assert result.language == "en" and result.answer.startswith("What the sources say")


@pytest.mark.parametrize("question,history,expect_previous", [
    ("och finansieringen då?", [{"role": "user", "content": "Vilka roller har civilsamhället?"},
                                {"role": "assistant", "content": "..."}], True),
    ("What about the roles?", [{"role": "user", "content": "What does the plan say about civil society?"}], True),
    ("Vilka fyra insatsområden har handlingsplanen för civilsamhälle och social ekonomi i Örebro län?",
     [{"role": "user", "content": "Vad är social ekonomi?"}], False),
    ("Vad är social ekonomi?", None, False),
])
def test_follow_ups_are_condensed(question: str, history, expect_previous: bool) -> None:  # noqa: ANN001
    query, previous = condense(question, history)
    assert (previous is not None) == expect_previous
    if expect_previous:
        assert history[0]["content"] in query and question in query


def test_follow_up_retrieves_with_the_earlier_topic(assistant: Assistant) -> None:
    history = [{"role": "user", "content": "Vad säger planen om internationell samverkan?"},
               {"role": "assistant", "content": "..."}]
    events = list(assistant.ask_stream("och vilka aktörer då?", history=history))
    assert events[0]["passages"][0].doc_id == "plan"


@pytest.mark.parametrize("question,fragment", [
    ("", "Skriv en fråga"),
    ("   \n\t ", "Skriv en fråga"),
    ("x" * 5000, "för lång"),
    ("What " + "very " * 1000 + "long question?", "too long"),
])
def test_unusable_questions(small_index, question: str, fragment: str) -> None:
    with pytest.raises(QuestionError, match=fragment):
        clean_question(question, small_index)


def test_control_characters_are_removed(small_index) -> None:
    text, lang = clean_question("Vad\x00 är\x1b social ekonomi?\ud800", small_index)
    assert text == "Vad är social ekonomi? ?" or text.startswith("Vad är social ekonomi?")
    assert lang == "sv"
