"""Administration: password check with lockout, upload validation and storage, removal.

Design choices:
- No password configured means no admin at all: the app does not even build the page, so
  there is no endpoint to probe. With a password, every admin action re-checks the
  session's login on the server; the browser's word is never taken for it.
- Failed logins are counted per client and lock that client out for a while
  (``KB_ADMIN_MAX_ATTEMPTS``, ``KB_ADMIN_LOCKOUT_S``); passwords are compared in constant time.
- Uploaded files are validated before they are stored (type by name *and* content, size,
  PDF page count) and stored under ``KB_DATA_DIR/uploads`` with a name we make ourselves
  from letters, digits and hyphens (no dots, no slashes), so no upload name can reach outside that folder or
  shadow a corpus document. Ingest then treats them like any corpus file (``kb.manifest.load_sources``).
- Only uploaded documents can be removed here; the manifest's documents are curated in git.
"""

from __future__ import annotations

import hmac
import re
import shutil
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from kb.config import Settings
from kb.manifest import upload_id, uploads_dir

ALLOWED_SUFFIXES = (".pdf", ".txt", ".md", ".html", ".htm")


class UploadError(ValueError):
    """A file was refused; ``messages`` holds the reason in Swedish and English."""

    def __init__(self, sv: str, en: str) -> None:
        super().__init__(en)
        self.messages = {"sv": sv, "en": en}

    def message(self, language: str) -> str:
        return self.messages.get(language, self.messages["sv"])


class LoginGuard:
    """Counts failed logins per client and locks a client out after too many."""

    def __init__(self, password: str | None, max_attempts: int, lockout_s: float) -> None:
        self._password = password
        self.max_attempts = max_attempts
        self.lockout_s = lockout_s
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def locked_for(self, client: str) -> float:
        """Seconds left of this client's lockout (0 when it may try)."""
        with self._lock:
            now = time.monotonic()
            recent = [t for t in self._failures.get(client, []) if now - t < self.lockout_s]
            self._failures[client] = recent
            if len(recent) >= self.max_attempts:
                return self.lockout_s - (now - recent[-self.max_attempts])
            return 0.0

    def check(self, client: str, attempt: str) -> bool:
        """True for the right password from a client that is not locked out."""
        if not self._password or self.locked_for(client) > 0:
            return False
        ok = hmac.compare_digest(attempt.encode("utf-8", "replace"), self._password.encode("utf-8"))
        with self._lock:
            if ok:
                self._failures.pop(client, None)
            else:
                self._failures.setdefault(client, []).append(time.monotonic())
        return ok


@dataclass
class StoredUpload:
    path: Path
    doc_id: str
    original_name: str


def safe_name(original: str) -> str:
    """A file name of letters, digits and hyphens plus an allowed suffix; raises ``UploadError`` otherwise.

    Letters stay (å, ä, ö: the name becomes the document's title); separators, dots and
    everything else become hyphens, so no name can point outside the uploads folder.
    """
    base = original.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base).strip().strip(".")
    suffix = Path(base).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise UploadError(f"{base or original!r}: filtypen stöds inte (tillåtna: PDF, TXT, MD, HTML).",
                          f"{base or original!r}: file type not supported (allowed: PDF, TXT, MD, HTML).")
    stem = re.sub(r"[\W_]+", "-", Path(base).stem).strip("-")[:100].strip("-") or "dokument"
    return f"{stem}{'.html' if suffix == '.htm' else suffix}"


def validate(path: Path, name: str, settings: Settings) -> None:
    """Refuse files that are too big, not what their name says, or have too many pages."""
    size = path.stat().st_size
    if size == 0:
        raise UploadError(f"{name}: filen är tom.", f"{name}: the file is empty.")
    if size > settings.max_file_mb * 1024 * 1024:
        raise UploadError(f"{name}: filen är för stor ({size / 1e6:.1f} MB; högst {settings.max_file_mb} MB).",
                          f"{name}: the file is too large ({size / 1e6:.1f} MB; at most {settings.max_file_mb} MB).")
    head = path.open("rb").read(2048)
    if name.endswith(".pdf"):
        if not head.startswith(b"%PDF-"):
            raise UploadError(f"{name}: filen är ingen PDF.", f"{name}: the file is not a PDF.")
        pages = _pdf_pages(path)
        if pages is None:
            raise UploadError(f"{name}: PDF-filen är skadad eller krypterad och kan inte läsas.",
                              f"{name}: the PDF is damaged or encrypted and cannot be read.")
        if pages > settings.max_pages:
            raise UploadError(f"{name}: för många sidor ({pages}; högst {settings.max_pages}).",
                              f"{name}: too many pages ({pages}; at most {settings.max_pages}).")
    else:
        if b"\x00" in head or head.startswith(b"%PDF-"):
            raise UploadError(f"{name}: filen ser inte ut att vara text.", f"{name}: the file does not look like text.")


def _pdf_pages(path: Path) -> int | None:
    try:
        from pypdf import PdfReader

        reader = PdfReader(str(path))
        if reader.is_encrypted:
            return None
        return len(reader.pages)
    except Exception:  # noqa: BLE001 - any parse failure means "cannot be read"
        return None


def store_upload(temp_path: Path, original_name: str, settings: Settings) -> StoredUpload:
    """Validate an uploaded file and copy it into the uploads folder under a safe, unique name."""
    name = safe_name(original_name)
    validate(temp_path, name, settings)
    folder = uploads_dir(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem, suffix = name.rsplit(".", 1)
    taken = {upload_id(p.stem) for p in folder.iterdir()}
    candidate, n = stem, 2
    while upload_id(candidate) in taken:
        candidate, n = f"{stem}-{n}", n + 1
    dest = folder / f"{candidate}.{suffix}"
    partial = dest.with_name(dest.name + ".part")
    shutil.copyfile(temp_path, partial)
    partial.replace(dest)
    return StoredUpload(dest, upload_id(candidate), original_name)


def uploaded_documents(settings: Settings) -> dict[str, Path]:
    """doc id → file, for the uploads folder."""
    folder = uploads_dir(settings.data_dir)
    if not folder.is_dir():
        return {}
    return {upload_id(p.stem): p for p in sorted(folder.iterdir())
            if p.is_file() and p.suffix.lower() in ALLOWED_SUFFIXES}


def remove_upload(doc_id: str, settings: Settings) -> Path:
    """Delete an uploaded document's file (the next ingest drops it from the index)."""
    files = uploaded_documents(settings)
    if doc_id not in files:
        raise UploadError(f"{doc_id}: inget uppladdat dokument med det namnet.", f"{doc_id}: no such uploaded document.")
    files[doc_id].unlink()
    return files[doc_id]
