"""The `kb` command as a user runs it: clear messages, no tracebacks, stable output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import PLAN_FILE


def kb(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kb.cli", *args], capture_output=True, text=True, timeout=300,
                          env=env or dict(os.environ))


def test_repair_text_keeps_lines_and_reports() -> None:
    out = kb("repair-text", str(PLAN_FILE))
    assert out.returncode == 0, out.stderr
    raw = PLAN_FILE.read_text(encoding="utf-8")
    assert out.stdout.count("\n") == raw.count("\n")
    assert "Civilsamhällets organisationer är självständiga aktörer" in out.stdout
    assert "Örebro län" in out.stdout and "Orebro lan" not in out.stdout
    assert "changed" in out.stderr.lower() or "ändr" in out.stderr.lower()


def test_repair_text_missing_file() -> None:
    out = kb("repair-text", "/no/such/file.txt")
    assert out.returncode == 2
    assert "no such file" in out.stderr and "Traceback" not in out.stderr


def test_bad_setting_is_a_clear_error(tmp_path: Path) -> None:
    env = dict(os.environ, KB_CHUNK_WORDS="many", KB_DATA_DIR=str(tmp_path))
    out = kb("stats", env=env)
    assert out.returncode == 2
    assert "KB_CHUNK_WORDS must be an integer" in out.stderr and "Traceback" not in out.stderr


def test_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    env = dict(os.environ, KB_EMBED_MODEL="no-such-model", KB_DATA_DIR=str(tmp_path))
    out = kb("stats", env=env)
    assert out.returncode == 2 and "unknown embedding model 'no-such-model'" in out.stderr


def test_unreachable_chroma_server_is_a_clear_error(tmp_path: Path) -> None:
    env = dict(os.environ, KB_CHROMA_URL="http://127.0.0.1:9", KB_DATA_DIR=str(tmp_path))
    out = kb("stats", env=env)
    assert out.returncode == 2
    assert "cannot reach the Chroma server at http://127.0.0.1:9" in out.stderr and "Traceback" not in out.stderr


def test_empty_index_stats(tmp_path: Path) -> None:
    out = kb("stats", env=dict(os.environ, KB_DATA_DIR=str(tmp_path)))
    assert out.returncode == 0 and "The index is empty" in out.stdout


def test_models_list_json(tmp_path: Path) -> None:
    import json

    out = kb("models", "list", "--json", env=dict(os.environ, KB_MODELS_DIR=str(tmp_path)))
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["multilingual-e5-small"]["present"] and rows["multilingual-e5-small"]["default_for"] == ["embedding"]
    assert not rows["qwen2.5-coder-1.5b-instruct-q4km"]["present"]


def _env_for(settings) -> dict:  # noqa: ANN001
    return dict(os.environ, KB_DATA_DIR=str(settings.data_dir), KB_CORPUS_DIR=str(settings.corpus_dir),
                KB_CORPUS_MIRROR=str(settings.corpus_mirror), KB_ANSWER_MODE="extractive")


def test_retrieve_json_and_batch(small_index, tmp_path: Path) -> None:
    import json

    env = _env_for(small_index)
    out = kb("retrieve", "Vad är social ekonomi?", "--k", "3", "--json", env=env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"question", "language", "hits"} and data["language"] == "sv" and len(data["hits"]) == 3
    assert set(data["hits"][0]) == {"rank", "score", "doc_id", "title", "kind", "page", "section", "text"}
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"id": "a", "question": "What is the social economy?"}\n{"id": "b", "question": ""}\n',
                     encoding="utf-8")
    out = kb("retrieve", "--batch", str(batch), "--k", "2", env=env)
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [x["id"] for x in lines] == ["a", "b"]
    assert lines[0]["language"] == "en" and len(lines[0]["hits"]) == 2
    assert "error" in lines[1] and out.returncode == 1


def test_ask_json_and_batch(small_index, tmp_path: Path) -> None:
    import json

    env = _env_for(small_index)
    out = kb("ask", "Hur definieras social ekonomi?", "--json", env=env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"question", "language", "answer", "refused", "citations", "timings"} <= set(data)
    assert set(data["timings"]) == {"retrieve_s", "first_token_s", "total_s"}
    assert data["citations"] and {"n", "doc_id", "title", "page", "section", "quote", "text", "url"} <= set(data["citations"][0])
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"id": 1, "question": "Vem vann fotbolls-VM 2022?"}\n', encoding="utf-8")
    out = kb("ask", "--batch", str(batch), env=env)
    line = json.loads(out.stdout)
    assert line["id"] == 1 and line["refused"] is True
    out = kb("ask", "x" * 3000, env=env)
    assert out.returncode == 2 and "för lång" in out.stderr and "Traceback" not in out.stderr
