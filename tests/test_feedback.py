"""Feedback in SQLite: ratings, comments, CSV export for officials, and a corrupt database."""

from __future__ import annotations

import csv
import io
import sqlite3
import subprocess
import sys

import pytest

from kb.feedback import FeedbackError, FeedbackStore, feedback_path


def test_rating_then_comment_then_export(tmp_path) -> None:  # noqa: ANN001
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    row = store.add(1, "Vad är IOP?", "Ett idéburet offentligt partnerskap [1]",
                    [{"n": 1, "doc_id": "plan", "page": 5}], "sv", "extractive")
    store.add(-1, "Fråga två", "Svar två")
    store.comment(row, "Bra, men kort.")
    rows = store.rows()
    assert [r["rating"] for r in rows] == [1, -1]
    assert rows[0]["comment"] == "Bra, men kort." and rows[0]["question"] == "Vad är IOP?"
    assert '"doc_id": "plan"' in rows[0]["citations"] and rows[0]["created"].endswith("+00:00")
    out = io.StringIO()
    assert store.export_csv(stream=out) == 2
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert parsed[0]["question"] == "Vad är IOP?" and parsed[1]["rating"] == "-1"


def test_export_neutralises_spreadsheet_formulas(tmp_path) -> None:  # noqa: ANN001
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    row = store.add(-1, "=HYPERLINK(\"http://evil\")", "svar")
    store.comment(row, "@SUM(A1:A9)")
    out = io.StringIO()
    store.export_csv(stream=out)
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))[0]
    assert parsed["question"].startswith("'=") and parsed["comment"].startswith("'@")


def test_bad_rating_and_unknown_row_are_refused(tmp_path) -> None:  # noqa: ANN001
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    with pytest.raises(FeedbackError):
        store.add(5, "q", "a")
    with pytest.raises(FeedbackError):
        store.comment(999, "x")


def test_corrupt_database_is_moved_aside_and_a_new_one_started(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "fb.sqlite3"
    store = FeedbackStore(path)
    store.add(1, "q", "a")
    path.write_bytes(b"this is not a database at all" * 100)
    fresh = FeedbackStore(path)
    assert fresh.recovered_from is not None and fresh.recovered_from.exists()
    assert fresh.recovered_from.read_bytes().startswith(b"this is not")
    assert fresh.rows() == []
    fresh.add(-1, "after", "recovery")
    assert [r["question"] for r in fresh.rows()] == ["after"]


def test_database_corrupted_while_running_recovers_on_next_write(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "fb.sqlite3"
    store = FeedbackStore(path)
    store.add(1, "q", "a")
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"fb.sqlite3{suffix}").unlink(missing_ok=True)
    path.write_bytes(b"\x00garbage" * 512)
    store.add(1, "still works", "yes")
    assert store.recovered_from is not None
    assert [r["question"] for r in store.rows()] == ["still works"]


def test_kb_feedback_export_cli(tmp_path, kb_env) -> None:  # noqa: ANN001
    from pathlib import Path

    data = Path(kb_env["KB_DATA_DIR"])
    cmd = [sys.executable, "-m", "kb.cli", "feedback", "export"]
    missing = subprocess.run(cmd, env=kb_env, capture_output=True, text=True)
    assert missing.returncode == 2 and "no feedback yet" in missing.stderr and "Traceback" not in missing.stderr
    FeedbackStore(feedback_path(data)).add(1, "Kan vår förening få stöd?", "Ja [1]", language="sv")
    out = tmp_path / "feedback.csv"
    done = subprocess.run([*cmd, "--out", str(out)], env=kb_env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8-sig")
    assert text.startswith("id,created,rating,comment,question") and "Kan vår förening få stöd?" in text
    to_stdout = subprocess.run(cmd, env=kb_env, capture_output=True, text=True)
    assert "Kan vår förening få stöd?" in to_stdout.stdout
    sqlite3.connect(feedback_path(data)).close()
