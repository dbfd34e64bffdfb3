"""English under a quoted Swedish sentence (``kb.translate``): checked, limited, and wired in.

Design choices:
- The checks are tested on translations the 1.5B model actually wrote for quotes of English
  answers (a dropped "2030", a dropped section number), plus the failure shapes seen (a
  preamble, Swedish, a list).
- The prompt is tested for what keeps the server's cache warm (the same instructions and example
  before every sentence) and for the glossary's hints, everywhere-words included.
- The real small model (0.5B, as in ``tests/test_llm.py``) translates two plan sentences through
  the same prompt and checks. What it must get right is what the hints and checks are for:
  the number, the negation, the glossary's term.
- Where translations appear (extractive answers, quotes standing in for removed claims) is tested
  through the real answer functions and ``Assistant`` with the small real index and embedding
  model; there the model is scripted (``RoutingLLM``), as a fake is fine for plumbing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from conftest import needs_mirror
from test_answer import with_llm

from evals.grading import strip_quotes
from kb import answer as A
from kb import translate as TR
from kb import verify as V
from kb.assistant import Assistant
from kb.config import Settings
from kb.embeddings import load_embedder
from kb.llm import LlamaCppBackend, LLMError
from kb.models import fetch, load_recipes
from kb.numbers import numbers
from kb.retrieval import Passage
from kb.text import guess_language

GOAL = "Utvecklingsstrategin pekar också ut tre önskvärda lägen 2030."
GUIDE = ("Därför föreslår utredningen i avsnitt 7.6.4 att MUCF får i uppdrag att ta fram en webbaserad guide "
         "av typen vanliga frågor.")


@pytest.mark.parametrize(("sentence", "english", "ok"), [
    (GOAL, "The development strategy also points out three desired situations for 2030.", True),
    (GOAL, "The development strategy also points to three desired situations.", False),  # seen: 2030 dropped
    (GOAL, "The development strategy also points out three desired situations for 2035.", False),  # a new number
    (GUIDE, "Therefore the inquiry proposes that MUCF be tasked with developing a web-based guide of the "
            "'frequently asked questions' type.", True),  # seen: a section reference may go
    (GOAL, "Here are the translated sentences: 1. The strategy points out three situations 2030.", False),
    (GOAL, "Utvecklingsstrategin pekar ut tre önskvärda lägen 2030.", False),  # not English
    (GOAL, "Strategy 2030.", False),  # too short to be all of it
    (GOAL, "English: The development strategy also points out three desired situations for 2030.", True),
])
def test_a_translation_is_shown_only_if_it_passes_the_checks(sentence: str, english: str, ok: bool) -> None:
    assert (TR.checked(sentence, english) is not None) == ok


def test_the_checked_translation_is_one_clean_paragraph() -> None:
    assert TR.checked(GOAL, '  "The development strategy also points out\nthree desired situations for 2030."\n') == (
        "The development strategy also points out three desired situations for 2030.")


def test_every_sentence_gets_the_same_instructions_and_the_glossarys_english_for_its_terms() -> None:
    one = TR.translation_messages("Handlingsplanen gäller för hela länet.")
    two = TR.translation_messages(GOAL)
    assert one[:3] == two[:3] and [m["role"] for m in one] == ["system", "user", "assistant", "user"]
    hints = one[-1]["content"].split("\nTerms: ")[1]
    assert "handlingsplanen = the plan" in hints.lower() and "länet = county" in hints.lower()
    assert "önskvärda = desired situations" in two[-1]["content"].lower()


class RoutingLLM:
    """Answers as scripted, and translates from a table: what a real server would do with the two prompts."""

    name = "routing"

    def __init__(self, answer: str, translations: dict[str, str] | None = None, fail: bool = False) -> None:
        self.answer, self.table, self.fail = answer, translations or {}, fail
        self.translated: list[str] = []

    def stream_chat(self, messages: list[dict], **kwargs) -> Iterator[str]:
        if messages[0]["content"] != TR.SYSTEM_PROMPT:
            yield self.answer
            return
        sentence = messages[-1]["content"].split("\n")[0].removeprefix("Swedish: ")
        self.translated.append(sentence)
        if self.fail:
            raise LLMError("connection refused")
        yield self.table.get(sentence) or _stand_in_english(sentence)


def _stand_in_english(sentence: str) -> str:
    """English of the sentence's length with its numbers: what passes the checks, whatever it says."""
    words = ["This", "is", "what", "the", "quoted", "sentence", "says", "in", "English", "and", "what", "it", "means", "for", "the", "reader", "of", "the", "plan"] * 10
    return " ".join(words[:len(sentence.split())] + sorted(numbers(sentence))) + "."


def test_translations_keep_to_their_number_and_time_and_skip_what_fails() -> None:
    budget = "Planen har ingen egen budget."
    table = {GOAL: "The development strategy also points out three desired situations for 2030.",
             GUIDE: "Here are the translated sentences: …", budget: "The plan has no budget of its own."}
    passing = {GOAL: table[GOAL], budget: table[budget]}
    llm = RoutingLLM("", table)
    assert TR.translations(llm, [GOAL, GUIDE, budget, GOAL], limit=5, budget_s=60) == passing
    assert llm.translated == [GOAL, GUIDE, budget]  # each sentence once
    llm = RoutingLLM("", table)
    assert TR.translations(llm, [GOAL, GUIDE, budget], limit=1, budget_s=60) == {GOAL: table[GOAL]}
    assert llm.translated == [GOAL]
    llm = RoutingLLM("", table)
    assert TR.translations(llm, [GOAL, GUIDE, budget], limit=3, budget_s=0) == {} and llm.translated == []
    llm = RoutingLLM("", table, fail=True)
    assert TR.translations(llm, [GOAL, GUIDE, budget], limit=3, budget_s=60) == {} and len(llm.translated) == 3


def _plan(text: str) -> Passage:
    return Passage(rank=1, score=1.0, id="a", doc_id="plan", title="Handlingsplanen", short_title="Planen",
                   kind="plan", language="sv", page=2, page_end=2, section="Regional utvecklingsstrategi", text=text,
                   url="https://example.org/plan")


def test_an_extractive_answer_gives_a_quotes_translation_in_place_of_its_term_glosses() -> None:
    english = "The development strategy also points out three desired situations for 2030."
    passages, refs = [_plan(GOAL)], [A.Ref(0, GOAL)]
    glossed, _ = A.extractive_answer("Which desired situations?", "en", passages, refs)
    translated, _ = A.extractive_answer("Which desired situations?", "en", passages, refs, meanings={GOAL: english})
    assert glossed.splitlines()[2].strip().startswith("Swedish terms:")
    assert translated.splitlines()[1:] == [glossed.splitlines()[1], f"  In English (machine translation): {english}"]
    assert guess_language(strip_quotes(translated)) == "en"
    assert A.quoted_refs(passages, refs) == refs


@needs_mirror
def test_a_quote_standing_in_for_a_removed_claim_carries_its_translation(small_index, monkeypatch) -> None:
    _, passages = Assistant(small_index).retrieve("Hur definieras social ekonomi?", k=5)
    sentence = next(s for p in passages for s in A.split_sentences(p.text) if "organiserade verksamheter" in s)
    other = next(s for p in passages for s in A.split_sentences(p.text)
                 if len(s) > 40 and "organiserade verksamheter" not in s)
    refs = [A.Ref(next(i for i, p in enumerate(passages) if sentence in p.text), sentence),
            A.Ref(next(i for i, p in enumerate(passages) if other in p.text), other)]
    monkeypatch.setattr(V, "QUOTE_COSINE", -1.0)  # every removed claim is "about" the sentence it cites
    english = ("The social economy is defined here as organised activities that primarily have social purposes, are "
               "based on democratic values and are organisationally independent of the public sector [1].")
    meaning = _stand_in_english(other)
    text, _, removed = A.verify_answer(f"The region gives 2 million kronor to each association [2]. {english}", refs,
                                       passages, load_embedder(small_index), "en",
                                       translate=lambda quoted: {r.sentence: meaning for r in quoted})
    assert removed == ["The region gives 2 million kronor to each association."]
    assert text.startswith(f"The source says (in Swedish): ”{other}” (machine translation: {meaning}) [1] ")


@needs_mirror
@pytest.mark.parametrize("translations", [3, 0])
def test_an_english_question_answered_with_quotes_gets_their_translation_when_configured(small_index,
                                                                                        translations: int) -> None:
    """The model's answer fails its check, so the sources are quoted; with translations on, the
    first quotes get the model's English under them (the routing model translates anything)."""
    assistant = Assistant(replace(small_index, quote_translations=translations))
    llm = RoutingLLM("Associations must paint their buildings blue every spring [1].")
    result = with_llm(assistant, llm).ask("How does the plan define the social economy?")
    assert result.backend.endswith("+extractive") and result.citations and not result.refused
    quoted = [line for line in result.answer.splitlines() if line.startswith("• ")]
    assert 0 < len(llm.translated) <= 3 if translations else llm.translated == []
    assert [s for s in llm.translated if not any(s in line for line in quoted)] == []  # only what is shown
    assert ("In English (machine translation): This is what" in result.answer) == bool(translations)
    swedish = with_llm(assistant, RoutingLLM("Föreningar måste måla sina hus blå varje vår [1]."))
    assert "maskinöversättning" not in swedish.ask("Hur definieras social ekonomi i planen?").answer


@pytest.fixture(scope="module")
def small_model() -> LlamaCppBackend:
    settings = Settings.from_env()
    path, _ = fetch(load_recipes()["qwen2.5-coder-0.5b-instruct"], settings.models_dir, progress=lambda m: None)
    return LlamaCppBackend(path, 2048, 1, timeout_s=180, max_tokens=80)


@pytest.mark.parametrize(("sentence", "must"), [
    ("Handlingsplanen har ingen egen budget.", [("budget",), ("not", "no ", "n't")]),
    (GOAL, [("2030",), ("desired situations",)]),
])
def test_the_real_small_model_translates_plan_sentences_through_prompt_and_checks(small_model, sentence: str,
                                                                                  must: list[tuple[str, ...]]) -> None:
    english = TR.translate(small_model, sentence)
    assert english is not None and guess_language(english) == "en"
    assert all(any(w in english.lower() for w in alternatives) for alternatives in must), english


@needs_mirror
@pytest.mark.parametrize("translations", [3, 0])
def test_a_stand_in_quote_in_an_english_model_answer_gets_its_translation_when_configured(
        small_index, monkeypatch, translations: int) -> None:
    monkeypatch.setattr(V, "QUOTE_COSINE", -1.0)  # every removed claim is "about" the sentence it cites
    answer = ("The social economy is defined here as organised activities that primarily have social purposes, are "
              "based on democratic values and are organisationally independent of the public sector [2]. "
              "The region gives 2 million kronor to each association [1].")  # [1] the EU's plan, [2] the definition
    llm = RoutingLLM(answer)
    result = with_llm(Assistant(replace(small_index, quote_translations=translations)), llm).ask(
        "How does the plan define the social economy?")
    assert result.removed_claims == ["The region gives 2 million kronor to each association."]
    assert "The source says (in Swedish): ”" in result.answer
    assert len(llm.translated) == (1 if translations else 0)
    assert all(f"”{s}” (machine translation: This is what" in result.answer for s in llm.translated)

