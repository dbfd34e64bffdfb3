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
- Server mode (``KB_CHROMA_URL``) connects lazily and again after any failure, so an app
  started while the server is down, or one that outlives a server restart, recovers by
  itself; failures are ``StoreUnavailable`` with a reason (``kb.chroma_remote``).
- A failed write (a full disk, a read-only directory, a server error) becomes a ``StoreError``
  that says what happened and that nothing committed was lost. Chroma reports a full disk
  only as "Error in compaction", so a write error is called "disk full" when the error chain
  says ENOSPC or the disk holding the index has almost no space left.
"""

from __future__ import annotations

import errno
import functools
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from kb.config import Settings

_BATCH = 256


class StoreError(RuntimeError):
    """The store cannot be reached or used; the message says what to check."""


class StoreUnavailable(StoreError):
    """A Chroma server is down, too slow, refused the token or failed; trying again later may work.

    ``reason``: "unreachable", "timeout", "auth" or "error". See ``kb.chroma_remote``.
    """

    def __init__(self, message: str, reason: str = "error") -> None:
        super().__init__(message)
        self.reason = reason


LOW_DISK_BYTES = 64_000_000  # a write error with less free space than this is reported as "disk full"
_FULL_MARKERS = ("no space left", "disk is full", "database or disk is full", "os error 28", "quota exceeded")


def _disk_full(exc: BaseException, settings: Settings) -> str | None:
    """Why a write error looks like a full disk, or None."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return seen.strerror or "no space left on device"
        if any(marker in str(seen).lower() for marker in _FULL_MARKERS):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    if settings.chroma_url:
        return None
    try:
        free = shutil.disk_usage(settings.chroma_path).free
    except OSError:
        return None
    return f"{free / 1e6:.1f} MB free on the disk holding {settings.chroma_path}" if free < LOW_DISK_BYTES else None


def write_error(settings: Settings, action: str, exc: BaseException) -> StoreError:
    """A ``StoreError`` for a failed write, saying whether the disk is full and that nothing committed is lost."""
    full = _disk_full(exc, settings)
    where = settings.chroma_url or str(settings.chroma_path)
    if full:
        head = f"the index could not be written while {action}: the disk is full ({full})."
        hint = "Free some disk space and run `kb ingest` again."
    else:
        head = f"the index at {where} could not be written while {action} ({type(exc).__name__}: {exc})."
        hint = "Fix the cause and run `kb ingest` again."
    return StoreError(f"{head} Every document is either fully indexed or as it was before. {hint}")


def _writes(action: str) -> Callable:
    def wrap(method: Callable) -> Callable:
        @functools.wraps(method)
        def guarded(self: Store, *args, **kwargs):  # noqa: ANN202
            try:
                return method(self, *args, **kwargs)
            except StoreError:
                raise
            except Exception as exc:  # noqa: BLE001 - chromadb, sqlite and the OS raise many kinds
                raise write_error(self.settings, action, exc) from exc
        return guarded
    return wrap


def _slug(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "-", name).strip("-").lower()[:60] or "model"


def make_client(settings: Settings):  # noqa: ANN201 - chromadb's ClientAPI
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        from kb.chroma_remote import http_client

        return http_client(settings)  # checked: unreachable, time-out and a refused token are told apart
    try:
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    except Exception as exc:  # noqa: BLE001 - sqlite and the OS raise many kinds on open
        full = _disk_full(exc, settings)
        reason = f"the disk is full ({full}); free some disk space" if full else f"{type(exc).__name__}: {exc}"
        raise StoreError(f"cannot open the index at {settings.chroma_path}: {reason}. "
                         "Nothing in the index has been lost.") from exc


@dataclass
class Hit:
    id: str
    text: str
    metadata: dict
    distance: float


class Store:
    """The index. Embedded: opened at once. Server: connected on first use, and again after a failure
    (``StoreUnavailable``), so a process outlives a server restart (see ``kb.chroma_remote``)."""

    def __init__(self, settings: Settings, embed_name: str, client=None) -> None:  # noqa: ANN001
        self.settings = settings
        self.embed_name = embed_name
        self._base = f"{settings.collection_prefix}_{_slug(embed_name)}"
        self._client = client
        self._collections: tuple | None = None
        self._connect_lock = threading.Lock()
        if client is not None or not settings.chroma_url:
            self._connect()

    def _connect(self) -> tuple:
        with self._connect_lock:
            if self._collections is not None:
                return self._collections
            if self._client is None:
                self._client = make_client(self.settings)
            try:
                chunks = self._client.get_or_create_collection(
                    f"{self._base}_chunks", embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
                    metadata={"embed_model": self.embed_name},
                )
                ledger = self._client.get_or_create_collection(
                    f"{self._base}_ledger", embedding_function=None, metadata={"embed_model": self.embed_name},
                )
            except Exception as exc:
                if not self.settings.chroma_url:
                    raise
                from kb.chroma_remote import describe_failure, is_server_failure

                if not is_server_failure(exc):
                    raise
                self._client = None
                message, reason = describe_failure(self.settings, exc)
                raise StoreUnavailable(message, reason) from exc
            if self.settings.chroma_url:
                from kb.chroma_remote import GuardedCollection

                chunks = GuardedCollection(chunks, self._disconnect, self.settings)
                ledger = GuardedCollection(ledger, self._disconnect, self.settings)
            self._collections = (chunks, ledger)
            return self._collections

    def _disconnect(self) -> None:
        """Forget the server connection after a failure; the next call connects again."""
        self._collections = None
        self._client = None

    @property
    def client(self):  # noqa: ANN201 - chromadb's ClientAPI
        self._connect()
        return self._client

    @property
    def chunks(self):  # noqa: ANN201 - chromadb's Collection
        return self._connect()[0]

    @property
    def ledger_col(self):  # noqa: ANN201 - chromadb's Collection
        return self._connect()[1]

    # ------------------------------------------------------------------ ledger

    def ledger(self) -> dict[str, dict]:
        got = self.ledger_col.get(include=["metadatas"])
        return {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"])}

    def committed_versions(self) -> list[str]:
        return sorted({m["version"] for m in self.ledger().values() if "version" in m})

    @_writes("committing a document")
    def commit_document(self, doc_id: str, metadata: dict) -> None:
        """The commit point: after this, ``metadata['version']`` is the document's current text."""
        self.ledger_col.upsert(ids=[doc_id], embeddings=[[1.0]], metadatas=[_clean(metadata)], documents=[doc_id])

    @_writes("removing a document")
    def forget_document(self, doc_id: str) -> int:
        """Remove a document: ledger first (readers stop seeing it), then its chunks."""
        self.ledger_col.delete(ids=[doc_id])
        return self._delete_where({"doc_id": doc_id})

    # ------------------------------------------------------------------ chunks

    def chunk_ids(self, where: dict | None = None) -> set[str]:
        got = self.chunks.get(where=where, include=[])
        return set(got["ids"])

    @_writes("storing passages")
    def add_chunks(self, ids: Sequence[str], embeddings: Sequence[Sequence[float]],
                   documents: Sequence[str], metadatas: Sequence[dict]) -> None:
        for i in range(0, len(ids), _BATCH):
            self.chunks.upsert(
                ids=list(ids[i:i + _BATCH]),
                embeddings=[list(map(float, e)) for e in embeddings[i:i + _BATCH]],
                documents=list(documents[i:i + _BATCH]),
                metadatas=[_clean(m) for m in metadatas[i:i + _BATCH]],
            )

    @_writes("deleting an old version")
    def delete_other_versions(self, doc_id: str, keep_version: str) -> int:
        return self._delete_where({"$and": [{"doc_id": doc_id}, {"version": {"$ne": keep_version}}]})

    @_writes("cleaning up after an interrupted run")
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

    def query(self, embedding: Iterable[float], k: int, where: dict | None = None, *,
              committed_only: bool = True) -> list[Hit]:
        """The ``k`` nearest chunks. ``committed_only=False`` skips the version filter (it costs
        ~30 ms a query at 3,000 chunks) for callers that drop uncommitted chunks themselves."""
        flt = self.committed_filter(where) if committed_only else where
        if committed_only and flt is None:
            return []
        got = self.chunks.query(query_embeddings=[list(map(float, embedding))], n_results=k, where=flt,
                                include=["documents", "metadatas", "distances"])
        return [Hit(i, d, dict(m or {}), float(dist)) for i, d, m, dist in
                zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])]

    def embeddings(self, ids: list[str]) -> dict[str, list[float]]:
        """Stored vectors of the given chunks (to score lexical candidates the dense search missed)."""
        if not ids:
            return {}
        got = self.chunks.get(ids=list(ids), include=["embeddings"])
        return {i: e for i, e in zip(got["ids"], got["embeddings"])}

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
