"""Real answers from the real default LLM (Qwen2.5-Coder-1.5B via llama.cpp) over the full index.

The proof that answering works end to end: grounded, cited, in the asker's language, and
refusing what the documents do not cover. Slow (tens of seconds per answer on two cores).
"""

from __future__ import annotations

import os
import re

import pytest

from kb.assistant import Assistant
from kb.config import Settings
from kb.text import fold, guess_language

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def assistant() -> Assistant:
    a = Assistant(Settings.from_env())
    if not a.retriever.store.ledger():
        if os.environ.get("KB_FULL_INDEX"):
            pytest.fail("the full index is missing")
        pytest.skip("no full index here; scripts/test.sh builds it")
    a.warm()  # the fixed prompt (system prompt + examples) into the prompt cache, as the app does at start
    return a


@pytest.mark.parametrize("question,lang,fact", [
    ("Hur definieras social ekonomi i handlingsplanen?", "sv", "demokratiska"),
    ("How does the plan define the social economy?", "en", "democratic"),
])
def test_grounded_cited_answer_in_the_question_language(assistant: Assistant, question: str, lang: str,
                                                        fact: str) -> None:
    events = list(assistant.ask_stream(question))
    assert events[0]["type"] == "sources"
    result = events[-1]["answer"]
    assert result.backend.startswith("llama"), result.notices
    assert not result.refused, result.removed_claims
    assert guess_language(result.answer) == lang
    assert fact in fold(result.answer)
    assert result.citations and all(c.quote in c.text for c in result.citations)
    assert any(c.doc_id == "plan" and c.page == 2 for c in result.citations)
    assert all(f"[{c.n}]" in result.answer for c in result.citations)


# typed without å/ä/ö, its words the corpus never uses must get their letters back from the word
# list (kb.accents): left bare, "vadret" and "lordag" raised the best similarity over the threshold
@pytest.mark.parametrize("question", ["Hur blir vädret i Örebro på lördag?", "Hur blir vadret i Orebro pa lordag?"])
def test_off_topic_is_refused_before_the_llm(assistant: Assistant, question: str) -> None:
    result = assistant.ask(question)
    assert result.refused and result.backend == "none" and result.timings["total_s"] < 5


@pytest.mark.parametrize("question,lang,facts,cited", [
    ("Vilka fyra insatsområden har handlingsplanen?", "sv",
     [["förståelse"], ["långsiktiga förutsättningar"], ["nätverk"], ["internationell samverkan"]], "långsiktiga förutsättningar"),
    # a translation may word an item differently ("ökad förståelse": "understanding", "awareness")
    ("What are the four focus areas of the action plan?", "en",
     [["understanding", "awareness", "comprehension"], ["long-term", "long term"], ["network"], ["international"]],
     "långsiktiga förutsättningar"),
    # no count asked: the list whose lead-in names the roles ("De fem roller … är följande"), ranked
    # third and outscored sentence by sentence, is chosen for what the question asks for (kb.context)
    ("Vilka roller tillskriver handlingsplanen civilsamhället och den sociala ekonomin?", "sv",
     [["röstbärare"], ["alternativ serviceproducent"], ["gemenskap"], ["demokratiskola"], ["motvikt"]],
     "demokratiskola"),
])
def test_a_list_question_keeps_every_item(assistant: Assistant, question: str, lang: str,
                                          facts: list[list[str]], cited: str) -> None:
    """The count the question names picks the list that answers it, wherever retrieval ranked it
    (the plan's page 7 only says "fyra insatsområden … har utmejslats"; the summary lists them)."""
    result = assistant.ask(question)
    assert result.backend.startswith("llama") and not result.refused, result.removed_claims
    assert guess_language(result.answer) == lang
    missing = [f for f in facts if not any(fold(w) in fold(result.answer) for w in f)]
    assert not missing, (missing, result.answer)
    assert any(c.doc_id == "plan" and cited in c.text for c in result.citations)


# The NO_ANSWER example once asked "Who chairs …?", and the model then declined "who" questions its
# sources answer: these two in both of two runs. (A question for a person the sources do not name
# is still refused: tests/test_answer.py, evals "en-unanswerable-05".)
@pytest.mark.parametrize("question,fact", [
    ("Who decided on the action plan?", "kulturnamnden"),
    ("Vem samordnade arbetet med handlingsplanen?", "kultur och ideell sektor"),
])
def test_a_who_question_the_sources_answer_is_answered(assistant: Assistant, question: str, fact: str) -> None:
    result = assistant.ask(question)
    assert result.backend.startswith("llama") and not result.refused, result.answer
    assert fact in fold(result.answer), result.answer


@pytest.mark.parametrize("question", [
    "Måste vår förening registrera sig som idéburen aktör, och vem ska ha registret?",
    "Is registration as a values-based actor mandatory under SOU 2019:56?",
])
def test_voluntary_registration_is_never_answered_as_a_duty(assistant: Assistant, question: str) -> None:
    """The sources say registering "ska vara frivilligt" / "should be voluntary"; in six earlier runs
    the model answered "Ja, vår förening måste registrera sig …" or "Registration is mandatory …"."""
    result = assistant.ask(question)
    duty = re.search(r"\b(?:maste registrera|(?:is|are) mandatory|must register|ar obligatorisk)", fold(result.answer))
    assert duty is None, result.answer


def test_the_wording_of_a_linked_only_document_is_refused_with_its_link(assistant: Assistant) -> None:
    result = assistant.ask("Vad står det ordagrant i Ds 1998:48 Social ekonomi i EU-landet Sverige om historien?")
    assert result.refused and result.backend == "none" and not result.citations
    assert "Ds 1998:48" in result.answer and "https://www.regeringen.se/sok/?query=Ds%201998%3A48" in result.answer
