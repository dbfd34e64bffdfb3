"""Server mode: ``KB_CHROMA_URL`` (and ``KB_CHROMA_TOKEN``) against a real ``chroma run`` on loopback.

chromadb 1.5's server has no authentication of its own, so the token is checked by a reverse
proxy in front of it (``servers.TokenProxy``), as Chroma's 1.x documentation recommends. One
ingest goes through the proxy with the token; retrieval, stats and a second (unchanged) ingest
then go to the server directly, so both paths are covered by one round of embedding.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import needs_mirror
from servers import ChromaServer, TokenProxy

from ingest.index import ingest
from kb.assistant import Assistant
from kb.config import Settings
from kb.embeddings import embedder_name
from kb.store import Store, StoreError, StoreUnavailable

pytestmark = needs_mirror

TOKEN = "test-token-5f1c"
DOCS = {"plan", "sou-2019-56-en"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    with ChromaServer(tmp_path_factory.mktemp("chroma-server") / "db") as srv:
        yield srv


@pytest.fixture(scope="module")
def served(server: ChromaServer, small_index: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The plan and the English summary ingested into the server through the token proxy."""
    local = tmp_path_factory.mktemp("server-client") / "data"
    base = replace(small_index, data_dir=local, chroma_url=server.url, chroma_token=None)
    with TokenProxy(server.url, TOKEN) as proxy:
        report = ingest(replace(base, chroma_url=proxy.url, chroma_token=TOKEN), log=lambda m: None,
                        progress=False, only=DOCS)
        requests, refused = proxy.requests, proxy.refused
    return {"settings": base, "report": report, "proxy_requests": requests, "proxy_refused": refused}


def kb(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ)
    env.update(KB_DATA_DIR=str(settings.data_dir), KB_CORPUS_DIR=str(settings.corpus_dir),
               KB_CORPUS_MIRROR=str(settings.corpus_mirror or ""), KB_DOWNLOAD_MISSING="false",
               KB_CHROMA_URL=settings.chroma_url or "", KB_CHROMA_TOKEN=settings.chroma_token or "",
               KB_CHROMA_TIMEOUT_S="5")
    return subprocess.run([sys.executable, "-m", "kb.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_ingest_with_a_token_goes_to_the_server_and_nothing_is_stored_locally(served: dict) -> None:
    report = served["report"]
    assert report.ok, report.summary()
    assert {d.doc_id: d.status for d in report.docs} == {d: "added" for d in DOCS}
    assert served["proxy_requests"] > 5 and served["proxy_refused"] == 0
    settings = served["settings"]
    assert not (settings.data_dir / "chroma").exists()  # the embedded store was never opened


def test_stats_retrieve_and_reingest_work_against_the_server(served: dict) -> None:
    settings = served["settings"]
    stats = kb(settings, "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    docs = {d["doc_id"]: d for d in json.loads(stats.stdout)["documents"]}
    assert set(docs) == DOCS and docs["plan"]["chunks"] == 42

    language, passages = Assistant(settings).retrieve("Vad är social ekonomi?")
    assert language == "sv" and passages and passages[0].doc_id == "plan"
    language, passages = Assistant(settings).retrieve("What is idea-driven welfare?", k=3, filters={"kind": "sou"})
    assert language == "en" and passages and {p.doc_id for p in passages} == {"sou-2019-56-en"}

    again = ingest(settings, log=lambda m: None, progress=False, only=DOCS)
    assert {d.status for d in again.docs} == {"unchanged"}
    assert Store(settings, embedder_name(settings)).count() == sum(d.chunks for d in again.docs)


def test_a_wrong_or_missing_token_is_a_clear_error(served: dict, server: ChromaServer) -> None:
    settings = served["settings"]
    with TokenProxy(server.url, TOKEN) as proxy:
        wrong = replace(settings, chroma_url=proxy.url, chroma_token="not-the-token")
        with pytest.raises(StoreUnavailable, match=r"refused access \(HTTP 401\): check KB_CHROMA_TOKEN") as info:
            Store(wrong, embedder_name(wrong)).ledger()
        assert info.value.reason == "auth"
        missing = replace(settings, chroma_url=proxy.url, chroma_token=None)
        with pytest.raises(StoreUnavailable, match="set KB_CHROMA_TOKEN"):
            Store(missing, embedder_name(missing)).ledger()

        run = kb(wrong, "stats")
        assert run.returncode == 2 and "Traceback" not in run.stderr
        assert run.stderr.strip().splitlines() == [
            f"kb: error: the Chroma server at {proxy.url} refused access (HTTP 401): check KB_CHROMA_TOKEN"]
        run = kb(wrong, "retrieve", "Vad är social ekonomi?")
        assert run.returncode == 2 and "Traceback" not in run.stderr
        assert "Kunskapsbasen går inte att nå just nu" in run.stderr and "KB_CHROMA_TOKEN" in run.stderr


def test_a_bad_url_or_a_server_that_is_not_chroma_is_named(settings: Settings, tmp_path: Path) -> None:
    import functools
    import http.server
    import threading

    with pytest.raises(StoreError, match="must look like http://host:8000"):
        Store(replace(settings, chroma_url="ftp://example.org"), "m").ledger()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{web.server_address[1]}"
        with pytest.raises(StoreUnavailable, match=rf"the Chroma server at {url} answered HTTP 404"):
            Store(replace(settings, chroma_url=url), "m").ledger()
    finally:
        web.shutdown()
        web.server_close()
