"""Feedback on answers (thumbs up/down, optional comment), kept in SQLite for officials.

Design choices:
- One small SQLite file under ``KB_DATA_DIR``; each row is self-contained (question, answer,
  citations as JSON, language, backend, time) so an export needs no other state.
- A rating is stored at once and a later comment updates the same row: most people click a
  thumb and leave, and that click must not be lost waiting for a comment.
- A corrupt database must never break the chat: it is detected on open (``quick_check``),
  moved aside as ``feedback.sqlite3.corrupt-<time>`` (kept for recovery, not deleted) and
  a fresh one is started. Feedback failures are reported to the caller, never raised into
  the chat.
- The CSV export neutralises spreadsheet formulas: a comment is user input and officials
  open the file in Excel.
- Writes are serialised with a lock and short-lived connections, because Gradio calls from
  many threads.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL DEFAULT '[]',
    language TEXT NOT NULL DEFAULT '',
    backend TEXT NOT NULL DEFAULT ''
)
"""
COLUMNS = ("id", "created", "rating", "comment", "question", "answer", "citations", "language", "backend")
MAX_COMMENT_CHARS = 2000


class FeedbackError(Exception):
    """Feedback could not be stored; the chat goes on."""


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.recovered_from: Path | None = None  # where a corrupt database was moved, if one was
        with self._lock:
            self._open_checked()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A short-lived connection: committed and *closed* on exit, so nothing lingers in a WAL."""
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def _open_checked(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._connect() as conn:
                ok = conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
                if ok:
                    conn.execute(SCHEMA)
                    conn.execute("SELECT count(*) FROM feedback").fetchone()
        except sqlite3.DatabaseError:
            ok = False
        if not ok:
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            for suffix in ("", "-wal", "-shm"):
                part = Path(str(self.path) + suffix)
                if part.exists():
                    part.rename(Path(str(aside) + suffix))
            self.recovered_from = aside
            with self._connect() as conn:
                conn.execute(SCHEMA)

    def _write(self, sql: str, params: tuple) -> int:
        with self._lock:
            for attempt in (1, 2):
                try:
                    with self._connect() as conn:
                        cur = conn.execute(sql, params)
                        return cur.lastrowid or cur.rowcount
                except sqlite3.DatabaseError as exc:
                    if attempt == 2:
                        raise FeedbackError(str(exc)) from exc
                    self._open_checked()  # corrupted while running: move it aside and retry once
        raise AssertionError("unreachable")

    def add(self, rating: int, question: str, answer: str, citations: Iterable[dict] = (), language: str = "",
            backend: str = "", comment: str = "") -> int:
        """Store a rating (+1 or -1); returns the row id a comment can later be attached to."""
        if rating not in (-1, 1):
            raise FeedbackError("rating must be 1 or -1")
        created = datetime.now(UTC).isoformat(timespec="seconds")
        return self._write(
            "INSERT INTO feedback (created, rating, comment, question, answer, citations, language, backend) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (created, rating, comment[:MAX_COMMENT_CHARS], question, answer,
             json.dumps(list(citations), ensure_ascii=False), language, backend))

    def comment(self, row_id: int, comment: str) -> None:
        if not self._write("UPDATE feedback SET comment = ? WHERE id = ?", (comment[:MAX_COMMENT_CHARS], row_id)):
            raise FeedbackError(f"no feedback row {row_id}")

    def rows(self) -> list[dict]:
        with self._lock:
            try:
                with self._connect() as conn:
                    conn.row_factory = sqlite3.Row
                    return [dict(r) for r in conn.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id")]
            except sqlite3.DatabaseError as exc:
                raise FeedbackError(str(exc)) from exc

    def export_csv(self, out: Path | None = None, stream=None) -> int:  # noqa: ANN001 - a text stream
        """Write every row as CSV (UTF-8 with BOM so Excel opens Swedish letters right); returns the count."""
        rows = self.rows()
        handle = out.open("w", encoding="utf-8-sig", newline="") if out else stream
        try:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _no_formula(v) for k, v in row.items()})
        finally:
            if out:
                handle.close()
        return len(rows)


def _no_formula(value: object) -> object:
    """Text a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) is prefixed with ``'``."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def feedback_path(data_dir: Path) -> Path:
    return data_dir / "feedback.sqlite3"
