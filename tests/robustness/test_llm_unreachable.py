"""The LLM server is down or hangs: the user still gets an answer (extracted, cited) and a notice, quickly.

Issue 8. ``KB_LLM_URL`` points at a loopback port where nothing listens (connection refused)
or at a server that accepts the connection and never answers (``KB_LLM_TIMEOUT_S`` must cut
it off). Retrieval is real (the session's small index); no model is needed.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from servers import StalledServer, free_port

from kb.answer import text_for
from kb.assistant import Assistant
from kb.config import Settings

QUESTIONS = [("Hur definieras social ekonomi i handlingsplanen?", "sv"),
             ("How does the plan define the social economy?", "en")]


def ask(settings: Settings, question: str) -> tuple[list[dict], float]:
    assistant = Assistant(settings)
    assistant.retrieve("uppvärmning")  # load the embedder and BM25 first: only the answer is timed
    start = time.monotonic()
    events = list(assistant.ask_stream(question))
    return events, time.monotonic() - start


def assert_extractive_with_notice(events: list[dict], language: str) -> None:
    kinds = [e["type"] for e in events]
    assert kinds[0] == "sources" and kinds[-1] == "answer"
    notices = [e["text"] for e in events if e["type"] == "notice"]
    assert len(notices) == 1 and notices[0].startswith(text_for(language, "fallback_notice"))
    result = events[-1]["answer"]
    assert result.backend == "extractive" and not result.refused
    assert result.citations and all(f"[{c.n}]" in result.answer for c in result.citations)
    assert result.notices == notices


@pytest.mark.parametrize("question,language", QUESTIONS)
def test_llm_server_down_gives_an_extractive_answer_at_once(small_index: Settings, question: str,
                                                            language: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    events, seconds = ask(replace(small_index, answer_mode="llm", llm_url=url, llm_timeout_s=30), question)
    assert_extractive_with_notice(events, language)
    assert "cannot reach the LLM server" in events[-1]["answer"].notices[0]
    assert seconds < 5


def test_llm_server_that_hangs_is_cut_off_at_the_timeout(small_index: Settings) -> None:
    with StalledServer() as stalled:
        settings = replace(small_index, answer_mode="llm", llm_url=stalled.url, llm_timeout_s=3)
        events, seconds = ask(settings, QUESTIONS[0][0])
    assert_extractive_with_notice(events, "sv")
    assert "timed out after 3 s" in events[-1]["answer"].notices[0]
    assert 3 <= seconds < 10
