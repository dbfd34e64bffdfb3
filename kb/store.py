"""The vector store: Chroma, embedded on disk or a server, with per-document atomic versions.

Design choices:
- Two collections per embedding model: ``chunks`` (vectors, text, metadata) and ``ledger``
  (one record per document: which version is complete, plus its metadata). The ledger is the
  commit point: a document's new chunks are written under new ids (the version — a content
  hash — is part of the id), then one ledger upsert makes them current, then the old
  version's chunks are deleted. A crash at any point leaves the ledger naming a complete
  version; chunks of unfinished or superseded versions are orphans that readers ignore
  (they filter on the committed versions) and the next ingest deletes.
- The ledger lives in Chroma itself, not in a local file, so server mode keeps the same
  guarantees and several machines see one truth.
- The collection names carry the embedding model, so switching models never mixes vector
  spaces; each model's index is built and kept separately.
- Chroma's default embedding function would download a model at run time; we always pass
  our own vectors and ``embedding_function=None``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

from kb.config import Settings

_BATCH = 256


class StoreError(RuntimeError):
    """The store cannot be reached or used; the message says what to check."""


def _slug(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "-", name).strip("-").lower()[:60] or "model"


def make_client(settings: Settings):  # noqa: ANN201 - chromadb's ClientAPI
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise StoreError(f"KB_CHROMA_URL must look like http://host:8000, got {settings.chroma_url!r}")
        headers = {"Authorization": f"Bearer {settings.chroma_token}"} if settings.chroma_token else None
        try:
            client = chromadb.HttpClient(host=url.hostname, port=url.port or (443 if url.scheme == "https" else 8000),
                                         ssl=url.scheme == "https", headers=headers, settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:  # noqa: BLE001 - chromadb raises many kinds on connect
            raise StoreError(f"cannot reach the Chroma server at {settings.chroma_url}: {exc}") from exc
        return client
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


@dataclass
class Hit:
    id: str
    text: str
    metadata: dict
    distance: float


class Store:
    def __init__(self, settings: Settings, embed_name: str, client=None) -> None:  # noqa: ANN001
        self.settings = settings
        self.client = client if client is not None else make_client(settings)
        base = f"{settings.collection_prefix}_{_slug(embed_name)}"
        self.chunks = self.client.get_or_create_collection(
            f"{base}_chunks", embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
            metadata={"embed_model": embed_name},
        )
        self.ledger_col = self.client.get_or_create_collection(
            f"{base}_ledger", embedding_function=None, metadata={"embed_model": embed_name},
        )

    # ------------------------------------------------------------------ ledger

    def ledger(self) -> dict[str, dict]:
        got = self.ledger_col.get(include=["metadatas"])
        return {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"])}

    def committed_versions(self) -> list[str]:
        return sorted({m["version"] for m in self.ledger().values() if "version" in m})

    def commit_document(self, doc_id: str, metadata: dict) -> None:
        """The commit point: after this, ``metadata['version']`` is the document's current text."""
        self.ledger_col.upsert(ids=[doc_id], embeddings=[[1.0]], metadatas=[_clean(metadata)], documents=[doc_id])

    def forget_document(self, doc_id: str) -> int:
        """Remove a document: ledger first (readers stop seeing it), then its chunks."""
        self.ledger_col.delete(ids=[doc_id])
        return self._delete_where({"doc_id": doc_id})

    # ------------------------------------------------------------------ chunks

    def chunk_ids(self, where: dict | None = None) -> set[str]:
        got = self.chunks.get(where=where, include=[])
        return set(got["ids"])

    def add_chunks(self, ids: Sequence[str], embeddings: Sequence[Sequence[float]],
                   documents: Sequence[str], metadatas: Sequence[dict]) -> None:
        for i in range(0, len(ids), _BATCH):
            self.chunks.upsert(
                ids=list(ids[i:i + _BATCH]),
                embeddings=[list(map(float, e)) for e in embeddings[i:i + _BATCH]],
                documents=list(documents[i:i + _BATCH]),
                metadatas=[_clean(m) for m in metadatas[i:i + _BATCH]],
            )

    def delete_other_versions(self, doc_id: str, keep_version: str) -> int:
        return self._delete_where({"$and": [{"doc_id": doc_id}, {"version": {"$ne": keep_version}}]})

    def delete_orphans(self) -> int:
        """Delete chunks whose (document, version) is not the committed one."""
        committed = {d: m.get("version") for d, m in self.ledger().items()}
        got = self.chunks.get(include=["metadatas"])
        stale = [i for i, m in zip(got["ids"], got["metadatas"])
                 if committed.get((m or {}).get("doc_id")) != (m or {}).get("version")]
        for i in range(0, len(stale), _BATCH):
            self.chunks.delete(ids=stale[i:i + _BATCH])
        return len(stale)

    def _delete_where(self, where: dict) -> int:
        ids = sorted(self.chunk_ids(where))
        for i in range(0, len(ids), _BATCH):
            self.chunks.delete(ids=ids[i:i + _BATCH])
        return len(ids)

    def committed_filter(self, where: dict | None = None) -> dict | None:
        """A Chroma ``where`` that keeps only chunks of committed versions (and ``where``)."""
        versions = self.committed_versions()
        if not versions:
            return None
        base = {"version": {"$in": versions}}
        return {"$and": [base, where]} if where else base

    def all_chunks(self, where: dict | None = None) -> list[Hit]:
        flt = self.committed_filter(where)
        if flt is None:
            return []
        got = self.chunks.get(where=flt, include=["documents", "metadatas"])
        return [Hit(i, d, dict(m or {}), 0.0) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]

    def query(self, embedding: Iterable[float], k: int, where: dict | None = None) -> list[Hit]:
        flt = self.committed_filter(where)
        if flt is None:
            return []
        got = self.chunks.query(query_embeddings=[list(map(float, embedding))], n_results=k, where=flt,
                                include=["documents", "metadatas", "distances"])
        return [Hit(i, d, dict(m or {}), float(dist)) for i, d, m, dist in
                zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])]

    def count(self) -> int:
        return self.chunks.count()


def _clean(metadata: dict) -> dict:
    """Chroma metadata holds only str/int/float/bool; drop None, stringify the rest."""
    out = {}
    for key, value in metadata.items():
        if value is None:
            continue
        out[key] = value if isinstance(value, (str, int, float, bool)) else str(value)
    return out
