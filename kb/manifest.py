"""The corpus manifest: which documents exist, what they are, and where their text is.

Design choices:
- ``corpus/sources.toml`` is the single source of document metadata; everything shown to a
  user about a document (title, kind, date, link) comes from it.
- Entries without ``file`` are documents the plan cites but we do not hold as text; they are
  kept so the assistant can name and link them, and are never ingested.
- Files dropped into the corpus directory without a manifest entry are still ingested, with
  metadata derived from the file (id and title from the name, language guessed later).
- Locating a file is separate from loading it: ``locate`` tries the corpus directory, then the
  mirror, and reports what it tried so a missing document is explained, not just skipped.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST_NAME = "sources.toml"
SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


class ManifestError(ValueError):
    """The manifest cannot be read; the message says where."""


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    kind: str = "document"
    language: str | None = None
    date: str = ""
    publisher: str = ""
    url: str = ""
    file: str | None = None
    ocr: bool = False
    pages: str | None = None
    short_title: str = ""
    pdf_url: str = ""
    download_url: str = ""
    part: str = ""
    riksdagen_id: str = ""
    from_manifest: bool = True
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def has_text(self) -> bool:
        return self.file is not None

    @property
    def year(self) -> str:
        return self.date[:4]

    def display_title(self) -> str:
        return self.short_title or self.title


_KNOWN_FIELDS = {f for f in Source.__dataclass_fields__ if f not in {"from_manifest", "extra"}}


def _source_from_entry(entry: dict, where: str) -> Source:
    for required in ("id", "title"):
        if not entry.get(required):
            raise ManifestError(f"{where}: a document needs an '{required}'")
    if not _ID_RE.match(entry["id"]):
        raise ManifestError(f"{where}: id {entry['id']!r} must be lower-case letters, digits, '.', '_' or '-'")
    known = {k: v for k, v in entry.items() if k in _KNOWN_FIELDS}
    extra = {k: v for k, v in entry.items() if k not in _KNOWN_FIELDS}
    return Source(**known, extra=extra)


def slug(name: str) -> str:
    """A manifest-style id from a file name."""
    stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return (stem or "document")[:100]


def load_manifest(corpus_dir: Path) -> list[Source]:
    """Manifest entries plus any supported file in ``corpus_dir`` the manifest does not name."""
    path = corpus_dir / MANIFEST_NAME
    sources: list[Source] = []
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ManifestError(f"{path}: {exc}") from exc
        for i, entry in enumerate(data.get("document", []), 1):
            sources.append(_source_from_entry(entry, f"{path} document #{i}"))
    seen: dict[str, int] = {}
    for s in sources:
        seen[s.id] = seen.get(s.id, 0) + 1
    dupes = sorted(k for k, v in seen.items() if v > 1)
    if dupes:
        raise ManifestError(f"{path}: duplicate ids: {', '.join(dupes)}")

    named = {Path(s.file).name for s in sources if s.file}
    if corpus_dir.is_dir():
        for file in sorted(corpus_dir.iterdir()):
            if not file.is_file() or file.suffix.lower() not in SUPPORTED_SUFFIXES or file.name in named:
                continue
            doc_id = slug(file.stem)
            while doc_id in seen:
                doc_id += "-x"
            seen[doc_id] = 1
            title = file.stem.replace("_", " ").replace("-", " ").strip() or file.name
            sources.append(Source(id=doc_id, title=title, kind="document", file=file.name, from_manifest=False))
    return sources


def uploads_dir(data_dir: Path) -> Path:
    """Where the admin page keeps uploaded documents: under the data dir, never in the repository."""
    return data_dir / "uploads"


def upload_id(stem: str) -> str:
    """The document id of an uploaded file: ``upload-`` and its name folded to [a-z0-9-]."""
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    return "upload-" + slug(folded)


def load_sources(corpus_dir: Path, data_dir: Path | None = None) -> list[Source]:
    """The manifest's documents plus uploaded ones (ids ``upload-…``, file given by absolute path)."""
    sources = load_manifest(corpus_dir)
    folder = uploads_dir(data_dir) if data_dir else None
    if folder and folder.is_dir():
        for file in sorted(folder.iterdir()):
            if file.is_file() and file.suffix.lower() in SUPPORTED_SUFFIXES:
                title = file.stem.replace("_", " ").replace("-", " ").strip() or file.name
                sources.append(Source(id=upload_id(file.stem), title=title, kind="upload",
                                      file=str(file.resolve()), from_manifest=False))
    return sources


def locate(source: Source, corpus_dir: Path, mirror: Path | None) -> tuple[Path | None, list[Path]]:
    """Find the source's file: corpus dir (as given, then by name), then the mirror."""
    if not source.file:
        return None, []
    rel = Path(source.file)
    candidates = [corpus_dir / rel, corpus_dir / rel.name]
    if mirror is not None:
        candidates += [mirror / rel, mirror / rel.name]
    tried = []
    for cand in candidates:
        if cand in tried:
            continue
        tried.append(cand)
        if cand.is_file():
            return cand, tried
    return None, tried
