"""The ingest pipeline: manifest → files → text → chunks → vectors → store, incrementally.

Design choices:
- A document's version is a hash of its file bytes, its manifest metadata and the pipeline
  settings that shape chunks; an unchanged version is skipped without loading any model,
  so a re-run on an unchanged corpus costs file hashing and one ledger read.
- Crash safety comes from the store's ledger (see ``kb.store``): new chunks are written
  under versioned ids, the ledger upsert commits them, old ones are deleted afterwards.
  Chunks are written batch by batch, so an interrupted run resumes where it stopped: ids
  already present for the same version are not embedded again.
- One document failing (missing, unreadable, too large, too slow to read) is reported and
  skipped; the rest ingest, and whatever was indexed for it before stays. A changed file that
  is damaged (pages that cannot be read) does not replace a good indexed version either: the
  old version is kept and the report says so. A new damaged file is indexed as far as it can
  be read, with the reason in the report.
- Documents are read in a limited worker process (``ingest.sandbox``), so a hostile file
  costs at most ``KB_MAX_DOC_SECONDS`` and ``KB_MAX_PARSE_MB`` and cannot hang the run.
- A document whose text was cut by ``KB_MAX_PAGE_CHARS`` gets a version that includes that
  limit, so raising the limit re-indexes it and nothing else.
- OCR repair runs for documents the manifest marks as OCR and for any whose text looks
  damaged; the repaired text is what is indexed, cited and shown.
- One ingest at a time per data directory (a file lock), so two runs cannot interleave.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import sys
import time
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ingest.chunk import SECTION_SEPARATOR, Chunk, chunk_document
from ingest.load import LoadedDocument, LoadError, load_document
from ingest.repair import REPAIR_VERSION
from ingest.sandbox import LoadWorker
from kb.config import Settings
from kb.manifest import Source, load_sources, locate
from kb.store import Store
from kb.text import guess_language

PIPELINE_VERSION = "2"  # bump when loading, chunking or the embedded text changes (2: innermost heading only)

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class DocReport:
    doc_id: str
    title: str
    status: str  # added | updated | unchanged | removed | missing | failed
    chunks: int = 0
    pages: int = 0
    seconds: float = 0.0
    reason: str = ""
    repair: dict | None = None
    warnings: list[str] = field(default_factory=list)  # what was left out, cut or repaired
    kept_previous: bool = False  # failed, and the version indexed before is still served


@dataclass
class IngestReport:
    docs: list[DocReport] = field(default_factory=list)
    seconds: float = 0.0
    orphans_removed: int = 0

    def count(self, status: str) -> int:
        return sum(d.status == status for d in self.docs)

    @property
    def ok(self) -> bool:
        return not any(d.status in ("missing", "failed") for d in self.docs)

    def summary(self) -> str:
        lines = []
        for d in self.docs:
            detail = f"{d.chunks} chunks" + (f", {d.pages} pages" if d.pages else "")
            if d.status in ("missing", "failed"):
                detail = d.reason + ("; the version indexed before is kept" if d.kept_previous else "")
            elif d.status == "removed":
                detail = "removed from the index"
            lines.append(f"  {d.status:<9} {d.doc_id:<22} {detail}")
            if d.repair:
                r = d.repair
                unresolved = ", ".join(r.get("unresolved", [])[:15])
                lines.append(f"            OCR repair: {r.get('changed', 0)} of {r.get('tokens', 0)} words changed"
                             + (f"; unresolved: {unresolved}" if unresolved else ""))
            lines += [f"            note: {w}" for w in d.warnings]
        totals = ", ".join(f"{self.count(s)} {s}" for s in ("added", "updated", "unchanged", "removed", "missing", "failed") if self.count(s))
        lines.append(f"Ingest finished in {self.seconds:.1f} s: {totals or 'nothing to do'}.")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"seconds": round(self.seconds, 2), "orphans_removed": self.orphans_removed,
                "documents": [d.__dict__ for d in self.docs]}


@contextmanager
def ingest_lock(settings: Settings):  # noqa: ANN201
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / "ingest.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another ingest is running on {settings.data_dir}; wait for it to finish") from None
        yield


def document_version(data: bytes, source: Source, settings: Settings) -> str:
    digest = hashlib.sha256()
    digest.update(data)
    meta = {k: v for k, v in source.__dict__.items() if k != "extra"}
    shaping = [meta, PIPELINE_VERSION, settings.chunk_words, settings.repair_threshold]
    if source.ocr:  # a better repair re-indexes the OCR documents only
        shaping.append(REPAIR_VERSION)
    digest.update(json.dumps(shaping, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:20]


def _download(source: Source, settings: Settings, log: Log) -> Path | None:
    if not (source.download_url and settings.download_missing):
        return None
    suffix = Path(source.download_url.split("?")[0]).suffix or ".html"
    dest = settings.data_dir / "downloads" / f"{source.id}{suffix}"
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    log(f"{source.id}: not found locally; downloading {source.download_url}")
    try:
        with urllib.request.urlopen(source.download_url, timeout=settings.download_timeout_s) as resp:
            data = resp.read(settings.max_file_mb * 1_000_000 + 1)
    except OSError as exc:
        log(f"{source.id}: download failed ({exc})")
        return None
    tmp = dest.with_suffix(dest.suffix + ".partial")
    tmp.write_bytes(data)
    tmp.replace(dest)
    return dest


def load_source(path: Path, source: Source, settings: Settings) -> tuple[LoadedDocument, dict | None]:
    """Load a document, repairing OCR damage when the manifest says so or the text shows it."""
    kwargs = dict(page_mode=source.pages, max_bytes=settings.max_file_mb * 1_000_000, max_pages=settings.max_pages,
                  max_page_chars=settings.max_page_chars, max_chars=settings.max_doc_chars)
    if not source.ocr:
        doc = load_document(path, **kwargs)
        from ingest.repair import damage_rate

        rate = damage_rate(doc.text)
        if rate < settings.repair_threshold:
            return doc, None
        _stderr(f"{source.id}: text looks OCR-damaged ({rate:.0%} of words); repairing it")
    from ingest.repair import repair_text

    stats = {"tokens": 0, "changed": 0, "unresolved": set()}

    def repair(text: str) -> str:
        result = repair_text(text)
        stats["tokens"] += result.tokens
        stats["changed"] += result.changed
        stats["unresolved"].update(result.unresolved)
        return result.text

    doc = load_document(path, repair=repair, **kwargs)
    stats["unresolved"] = sorted(stats["unresolved"])
    return doc, stats


def embedding_text(source: Source, chunk: Chunk) -> str:
    """What the embedding model sees: the document and the passage's own heading, then the passage.

    Only the innermost heading, not the whole section path: in the SOU full texts the path
    ("5 Förslag … › 5.2 Hinder … › 5.2.4 Regelverket … › Vem ska …") was a quarter of all
    tokens embedded, and embedding time is proportional to tokens. BM25 still indexes the path.
    """
    head = source.display_title()
    if chunk.section:
        head += " — " + chunk.section.split(SECTION_SEPARATOR)[-1]
    return f"{head}\n{chunk.text}"


def chunk_metadata(source: Source, version: str, chunk: Chunk, path: Path, language: str, repaired: bool) -> dict:
    return {
        "doc_id": source.id, "version": version, "title": source.title, "short_title": source.display_title(),
        "kind": source.kind, "language": language, "year": source.year, "url": source.url,
        "file": path.name, "section": chunk.section, "page": chunk.page, "page_end": chunk.page_end,
        "char_start": chunk.char_start, "char_end": chunk.char_end, "chunk_index": chunk.index,
        "ocr_repaired": repaired,
    }


def ingest(settings: Settings, log: Log = _stderr, progress: bool = True, only: set[str] | None = None,
           store: Store | None = None) -> IngestReport:
    """Bring the index in line with the corpus; see the module docstring for the guarantees."""
    from kb.embeddings import embedder_name

    started = time.monotonic()
    report = IngestReport()
    with ingest_lock(settings):
        store = store or Store(settings, embedder_name(settings))
        report.orphans_removed = store.delete_orphans()
        if report.orphans_removed:
            log(f"cleaned up {report.orphans_removed} chunks left by an interrupted run")
        sources = [s for s in load_sources(settings.corpus_dir, settings.data_dir)
                   if s.has_text and (only is None or s.id in only)]
        ledger = store.ledger()
        with LoadWorker(settings) as loader:
            for n, source in enumerate(sources, 1):
                report.docs.append(_ingest_one(source, n, len(sources), settings, store, ledger.get(source.id), log,
                                               progress, loader))
        if only is None:
            wanted = {s.id for s in sources}
            for doc_id, meta in sorted(ledger.items()):
                if doc_id not in wanted:
                    store.forget_document(doc_id)
                    report.docs.append(DocReport(doc_id, meta.get("title", doc_id), "removed"))
    report.seconds = time.monotonic() - started
    return report


def cut_version(version: str, settings: Settings) -> str:
    """The version of a document whose text a limit cut: changes when the limit does."""
    return hashlib.sha256(f"{version}|page_chars={settings.max_page_chars}".encode()).hexdigest()[:20]


def _ingest_one(source: Source, n: int, total: int, settings: Settings, store: Store,
                committed: dict | None, log: Log, progress: bool, loader: LoadWorker | None = None) -> DocReport:
    t0 = time.monotonic()
    label = f"[{n}/{total}] {source.id}"
    path, tried = locate(source, settings.corpus_dir, settings.corpus_mirror)
    if path is None:
        path = _download(source, settings, log)
    if path is None:
        where = ", ".join(str(p) for p in tried) or "nowhere"
        log(f"{label}: MISSING — {source.file} not found (looked in {where})")
        return DocReport(source.id, source.title, "missing", reason=f"file {source.file} not found",
                         kept_previous=committed is not None)
    kept = committed is not None

    def failed(reason: str) -> DocReport:
        log(f"{label}: FAILED — {reason}" + ("; the version indexed before is kept" if kept else ""))
        return DocReport(source.id, source.title, "failed", reason=reason, kept_previous=kept)

    try:
        size = path.stat().st_size
        if size > settings.max_file_mb * 1_000_000:  # before reading it all into memory to hash it
            return failed(f"{path.name}: {size / 1e6:.1f} MB, more than the limit of {settings.max_file_mb} MB "
                          "(KB_MAX_FILE_MB)")
        data = path.read_bytes()
    except OSError as exc:
        return failed(f"{path.name}: cannot be read ({exc.strerror or exc})")
    version = document_version(data, source, settings)
    if committed and committed.get("version") in (version, cut_version(version, settings)):
        log(f"{label}: unchanged")
        return DocReport(source.id, source.title, "unchanged", int(committed.get("chunks", 0)),
                         int(committed.get("pages", 0)), time.monotonic() - t0)
    try:
        doc, repair = loader.load(path, source) if loader else load_source(path, source, settings)
    except LoadError as exc:
        return failed(str(exc))
    if doc.damaged and committed and not committed.get("damaged"):  # a good version is not replaced by a damaged one
        return failed(f"{path.name}: damaged: " + "; ".join(doc.warnings))
    if doc.cut:
        version = cut_version(version, settings)
    for warning in doc.warnings:
        log(f"{label}: note — {warning}")
    _, chunks = chunk_document(doc, settings.chunk_words)
    language = source.language or guess_language(doc.text[:20000])
    ids = [f"{source.id}:{version}:{c.index:05d}" for c in chunks]
    present = store.chunk_ids({"$and": [{"doc_id": source.id}, {"version": version}]})
    todo = [i for i, cid in enumerate(ids) if cid not in present]
    log(f"{label}: {len(chunks)} chunks" + (f" ({len(chunks) - len(todo)} already stored)" if present else ""))
    if todo:
        _embed_and_store(source, version, chunks, ids, todo, path, language, repair is not None, settings, store, label, progress)
    status = "updated" if committed else "added"
    pages = len({c.page for c in chunks if c.page is not None})
    meta = {
        "doc_id": source.id, "version": version, "title": source.title, "short_title": source.display_title(),
        "kind": source.kind, "language": language, "date": source.date, "url": source.url,
        "file": path.name, "chunks": len(chunks), "pages": pages, "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "ocr_repaired": repair is not None, "damaged": doc.damaged,
    }
    store.commit_document(source.id, meta)
    store.delete_other_versions(source.id, version)
    return DocReport(source.id, source.title, status, len(chunks), pages, time.monotonic() - t0,
                     repair=repair, warnings=doc.warnings)


def _embed_and_store(source: Source, version: str, chunks: list[Chunk], ids: list[str], todo: list[int],
                     path: Path, language: str, repaired: bool, settings: Settings, store: Store,
                     label: str, progress: bool) -> None:
    from tqdm import tqdm

    from kb.embeddings import load_embedder

    embedder = load_embedder(settings)
    batch = settings.embed_batch
    with tqdm(total=len(todo), desc=label, unit="chunk", disable=not progress, file=sys.stderr) as bar:
        for start in range(0, len(todo), batch):
            idx = todo[start:start + batch]
            vectors = embedder.embed_documents([embedding_text(source, chunks[i]) for i in idx])
            store.add_chunks([ids[i] for i in idx], vectors, [chunks[i].text for i in idx],
                             [chunk_metadata(source, version, chunks[i], path, language, repaired) for i in idx])
            bar.update(len(idx))
