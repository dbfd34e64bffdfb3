"""Shared pieces of the robustness tests: a writable copy of the small index, index snapshots.

Building an index costs about a minute of embedding on two cores, so the tests that damage an
index work on a copy of the session's ``small_index`` (plan + SOU 2019:56 summaries) instead
of building their own.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from kb.config import Settings
from kb.embeddings import embedder_name
from kb.store import Store


def snapshot(settings: Settings) -> dict:
    """What a reader sees: committed versions and their chunks (text and metadata)."""
    store = Store(settings, embedder_name(settings))
    ledger = {d: {k: v for k, v in m.items() if k != "ingested_at"} for d, m in store.ledger().items()}
    chunks = {h.id: (h.text, h.metadata) for h in store.all_chunks()}
    return {"ledger": ledger, "chunks": chunks, "stored": store.count()}


def of_docs(snap: dict, doc_ids: set[str]) -> dict:
    """The part of a snapshot that belongs to ``doc_ids``."""
    return {"ledger": {d: m for d, m in snap["ledger"].items() if d in doc_ids},
            "chunks": {i: c for i, c in snap["chunks"].items() if c[1]["doc_id"] in doc_ids}}


def quiet(_: str) -> None:
    pass


@pytest.fixture
def indexed(small_index: Settings, tmp_path: Path) -> Settings:
    """A private, writable copy of the small index and its corpus."""
    shutil.copytree(small_index.data_dir, tmp_path / "data")
    shutil.copytree(small_index.corpus_dir, tmp_path / "corpus")
    return replace(small_index, data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus")


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for running `kb` as a subprocess against ``settings``."""
    env = dict(os.environ)
    env.update(KB_DATA_DIR=str(settings.data_dir), KB_CORPUS_DIR=str(settings.corpus_dir),
               KB_CORPUS_MIRROR=str(settings.corpus_mirror or ""), KB_DOWNLOAD_MISSING="false",
               KB_ANSWER_MODE=settings.answer_mode)
    env.update(extra)
    return env
