"""A Chroma server that is down, goes away or hangs: a clear message, never a traceback, and recovery.

Issue 8. The server is a real ``chroma run`` serving a copy of the session's small index (the
embedded store's directory is the same format, so nothing is embedded again). The same
``Assistant`` object is used before, during and after the outage: the app must recover by
itself when the server returns, without a restart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from servers import ChromaServer, StalledServer, free_port

from kb.assistant import Assistant, UnavailableError
from kb.config import Settings
from kb.store import StoreUnavailable

SV = "Kunskapsbasen går inte att nå just nu"
EN = "The knowledge base cannot be reached right now"


@pytest.fixture
def server(small_index: Settings, tmp_path: Path):  # noqa: ANN201
    """A Chroma server (not started yet) on a fixed port, holding a copy of the small index."""
    shutil.copytree(small_index.chroma_path, tmp_path / "served")
    srv = ChromaServer(tmp_path / "served", port=free_port())
    yield srv
    srv.stop()


def client_settings(small_index: Settings, url: str, tmp_path: Path, **extra: object) -> Settings:
    return replace(small_index, chroma_url=url, data_dir=tmp_path / "client-data", **{"chroma_timeout_s": 5.0, **extra})


def kb(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(KB_DATA_DIR=str(settings.data_dir), KB_CORPUS_DIR=str(settings.corpus_dir),
               KB_CORPUS_MIRROR=str(settings.corpus_mirror or ""), KB_DOWNLOAD_MISSING="false",
               KB_CHROMA_URL=settings.chroma_url or "", KB_CHROMA_TIMEOUT_S=str(settings.chroma_timeout_s),
               KB_ANSWER_MODE="extractive")
    return subprocess.run([sys.executable, "-m", "kb.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def assert_unavailable(assistant: Assistant, question: str, message: str, within: float = 5.0) -> UnavailableError:
    start = time.monotonic()
    with pytest.raises(UnavailableError) as info:
        list(assistant.ask_stream(question))
    assert time.monotonic() - start < within
    assert str(info.value).startswith(message)
    assert "Traceback" not in str(info.value) and "Chroma" not in str(info.value)  # plain words for users
    return info.value


def test_down_at_start_clear_errors_then_the_same_assistant_recovers(small_index: Settings, server: ChromaServer,
                                                                      tmp_path: Path) -> None:
    settings = client_settings(small_index, server.url, tmp_path)
    assistant = Assistant(settings)  # the app starts even though the server is down

    error = assert_unavailable(assistant, "Vad är social ekonomi?", SV)
    assert "cannot reach the Chroma server" in error.detail and "Connection refused" in error.detail
    assert_unavailable(assistant, "What does the plan say about social enterprises?", EN)

    for args in (["stats"], ["retrieve", "Vad är social ekonomi?"], ["ask", "Vad är social ekonomi?"]):
        run = kb(settings, *args)
        assert run.returncode == 2, run
        assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert f"Chroma server at {server.url}" in run.stderr and "KB_CHROMA_URL" in run.stderr

    server.start()
    answer = assistant.ask("Vad är social ekonomi?", mode="extractive")
    assert answer.passages and answer.passages[0].doc_id == "plan" and answer.citations
    run = kb(settings, "stats", "--json")
    assert run.returncode == 0 and '"plan"' in run.stdout


def test_server_lost_mid_session_then_back(small_index: Settings, server: ChromaServer, tmp_path: Path) -> None:
    server.start()
    assistant = Assistant(client_settings(small_index, server.url, tmp_path))
    before = assistant.ask("Hur ska handlingsplanen följas upp?", mode="extractive")
    assert before.passages

    server.stop()
    error = assert_unavailable(assistant, "Hur ska handlingsplanen följas upp?", SV)
    assert server.url in error.detail
    with pytest.raises(StoreUnavailable):
        assistant.retriever.store.ledger()

    server.start()
    after = assistant.ask("Hur ska handlingsplanen följas upp?", mode="extractive")
    assert [p.id for p in after.passages] == [p.id for p in before.passages]


def test_a_server_that_never_answers_times_out(small_index: Settings, tmp_path: Path) -> None:
    with StalledServer() as stalled:
        settings = client_settings(small_index, stalled.url, tmp_path, chroma_timeout_s=2.0)
        assistant = Assistant(settings)
        error = assert_unavailable(assistant, "Vad är social ekonomi?", SV, within=10.0)
        assert "did not answer within 2 s" in error.detail
        with pytest.raises(StoreUnavailable) as info:
            assistant.retriever.store.ledger()
        assert info.value.reason == "timeout"
