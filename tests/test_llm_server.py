"""LLM server mode: ``KB_LLM_URL`` pointing at a real OpenAI-compatible server on loopback.

The server is llama.cpp's own HTTP server (xllamacpp, ``kb.llm.start_local_server``) with
the small Qwen2.5-Coder-0.5B model and an API key; the assistant reaches it only through the
settings, the way a deployment with a separate LLM machine would (Ollama, vLLM and LM Studio
speak the same API). Answer quality is not judged here (the 0.5B model is weak): the test
checks the plumbing: sources first, the answer streamed in pieces from the server, then the
checked final answer, without any fallback.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from servers import free_port

from kb.assistant import Assistant
from kb.config import Settings
from kb.llm import start_local_server
from kb.models import fetch, load_recipes

MODEL = "qwen2.5-coder-0.5b-instruct"
API_KEY = "test-key-llm-server"


@pytest.fixture(scope="module")
def llm_server():  # noqa: ANN201
    settings = Settings.from_env()
    path, _ = fetch(load_recipes()[MODEL], settings.models_dir, progress=lambda m: None)
    assert path is not None and Path(path).is_file()
    # One thread: on two shared cores llama.cpp with two threads stalls when anything else runs.
    with start_local_server(path, port=free_port(), n_ctx=4096, n_threads=1, api_key=API_KEY) as server:
        yield server


def test_answer_streams_from_an_openai_compatible_server(small_index: Settings, llm_server) -> None:  # noqa: ANN001
    settings = replace(small_index, answer_mode="llm", llm_url=llm_server.openai_base_url, llm_api_key=API_KEY,
                       llm_remote_model="qwen-0.5b", llm_max_tokens=60, llm_timeout_s=300)
    assistant = Assistant(settings)
    events = list(assistant.ask_stream("Hur definieras social ekonomi i handlingsplanen?"))

    kinds = [e["type"] for e in events]
    assert kinds[0] == "sources" and events[0]["passages"]
    assert kinds[-1] == "answer" and "notice" not in kinds, [e for e in events if e["type"] == "notice"]
    result = events[-1]["answer"]
    # streamed in pieces, not one block (a refusal is held back and shown whole, by design)
    assert kinds.count("token") >= 3 or result.refused, kinds
    from kb.llm import load_llm

    pieces = list(load_llm(settings).stream_chat([{"role": "user", "content": "Räkna från ett till tio."}],
                                                 max_tokens=30))
    assert len(pieces) >= 3, pieces
    assert result.backend == f"openai:qwen-0.5b@{llm_server.openai_base_url}/chat/completions"
    assert result.timings["first_token_s"] < result.timings["total_s"]
    assert result.answer.strip()


def test_wrong_api_key_falls_back_to_extraction_with_the_reason(small_index: Settings, llm_server) -> None:  # noqa: ANN001
    settings = replace(small_index, answer_mode="llm", llm_url=llm_server.url, llm_api_key="wrong",
                       llm_timeout_s=60)
    result = Assistant(settings).ask("Hur definieras social ekonomi i handlingsplanen?")
    assert result.backend == "extractive" and result.citations
    assert len(result.notices) == 1 and "HTTP 401" in result.notices[0] and "KB_LLM_API_KEY" in result.notices[0]
