"""Incremental, crash-safe ingest into a real Chroma with the real embedding model."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import needs_mirror

from ingest.index import ingest
from kb.config import Settings
from kb.embeddings import embedder_name
from kb.manifest import Source
from kb.store import Store

pytestmark = needs_mirror


def snapshot(settings: Settings) -> dict:
    """What a reader sees: committed versions and their chunks (text and metadata)."""
    store = Store(settings, embedder_name(settings))
    ledger = {d: {k: v for k, v in m.items() if k != "ingested_at"} for d, m in store.ledger().items()}
    chunks = {h.id: (h.text, h.metadata) for h in store.all_chunks()}
    return {"ledger": ledger, "chunks": chunks, "stored": store.count()}


def quiet(_: str) -> None:
    pass


def test_add_change_remove(settings: Settings) -> None:
    report = ingest(settings, log=quiet, progress=False)
    assert {d.doc_id: d.status for d in report.docs} == {"plan": "added", "sou-2019-56": "added", "sou-2019-56-en": "added"}
    first = snapshot(settings)
    assert first["stored"] == len(first["chunks"]) > 0
    plan_meta = first["ledger"]["plan"]
    assert plan_meta["pages"] == 12 and plan_meta["ocr_repaired"] is True
    ia2 = sorted((m for _, m in first["chunks"].values() if m["section"].startswith("Insatsområde 2")),
                 key=lambda m: m["chunk_index"])
    one = ia2[0]
    assert one["page"] == 9 and one["kind"] == "plan" and one["language"] == "sv"
    assert one["char_end"] > one["char_start"] >= 0

    # unchanged: skipped, and fast because no model is needed
    t0 = time.monotonic()
    again = ingest(settings, log=quiet, progress=False)
    assert {d.status for d in again.docs} == {"unchanged"}
    assert time.monotonic() - t0 < 10
    assert snapshot(settings) == first

    # a changed document is replaced, the others stay
    plan = settings.corpus_dir / "handlingsplan-civilsamhalle-social-ekonomi-2026-2030.ocr.txt"
    plan.write_text(plan.read_text(encoding="utf-8") + "\nTillägg om ungdomsföreningar och fritidsgårdar.\n",
                    encoding="utf-8")
    changed = ingest(settings, log=quiet, progress=False)
    assert {d.doc_id: d.status for d in changed.docs}["plan"] == "updated"
    after = snapshot(settings)
    assert after["ledger"]["plan"]["version"] != plan_meta["version"]
    assert any("fritidsgårdar" in t for t, m in after["chunks"].values() if m["doc_id"] == "plan")
    assert all(m["version"] == after["ledger"]["plan"]["version"] for _, m in after["chunks"].values() if m["doc_id"] == "plan")
    assert after["stored"] == len(after["chunks"])  # the old version's chunks are gone
    assert {i for i in after["chunks"] if i.startswith("sou-")} == {i for i in first["chunks"] if i.startswith("sou-")}

    # a document removed from the manifest is removed from the index
    manifest = settings.corpus_dir / "sources.toml"
    text = manifest.read_text(encoding="utf-8")
    start = text.index('[[document]]\nid = "sou-2019-56-en"')
    end = text.index("[[document]]", start + 5)
    manifest.write_text(text[:start] + text[end:], encoding="utf-8")
    removed = ingest(settings, log=quiet, progress=False)
    assert {d.doc_id: d.status for d in removed.docs}["sou-2019-56-en"] == "removed"
    final = snapshot(settings)
    assert "sou-2019-56-en" not in final["ledger"]
    assert not any(m["doc_id"] == "sou-2019-56-en" for _, m in final["chunks"].values())
    assert final["stored"] == len(final["chunks"])


def test_a_better_ocr_repair_re_indexes_only_the_ocr_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    """The repaired text is what gets indexed; an index built by an older repair must not be kept."""
    import ingest.index as index

    settings = Settings()
    ocr, clean = Source("plan", "Planen", ocr=True), Source("sou", "Utredningen")
    before = {s.id: index.document_version(b"text", s, settings) for s in (ocr, clean)}
    monkeypatch.setattr(index, "REPAIR_VERSION", index.REPAIR_VERSION + "-next")
    after = {s.id: index.document_version(b"text", s, settings) for s in (ocr, clean)}
    assert after["plan"] != before["plan"]
    assert after["sou"] == before["sou"]


def test_missing_document_is_reported_and_the_rest_ingests(settings: Settings) -> None:
    manifest = settings.corpus_dir / "sources.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + '\n[[document]]\nid = "ghost"\ntitle = "Finns inte"\n'
                        'file = "ghost.html"\n', encoding="utf-8")
    (settings.corpus_dir / "extra-notes.md").write_text("# Anteckningar\n\nFöreningar i länet träffas varje månad.\n",
                                                      encoding="utf-8")
    report = ingest(settings, log=quiet, progress=False)
    statuses = {d.doc_id: d.status for d in report.docs}
    assert statuses["ghost"] == "missing" and "ghost.html" in next(d.reason for d in report.docs if d.doc_id == "ghost")
    assert statuses["plan"] == "added" and statuses["extra-notes"] == "added"
    assert not report.ok
    ledger = Store(settings, embedder_name(settings)).ledger()
    assert ledger["extra-notes"]["language"] == "sv" and ledger["extra-notes"]["kind"] == "document"


def _run_ingest(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kb.cli", "ingest"], env=env, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, start_new_session=True)


def _kill_when(proc: subprocess.Popen, pattern: bytes, timeout: float = 300) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    os.set_blocking(proc.stderr.fileno(), False)
    while time.monotonic() < deadline and proc.poll() is None:
        chunk = proc.stderr.read() or b""
        seen += chunk
        if re.search(pattern, seen):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return seen
        time.sleep(0.05)
    pytest.fail(f"ingest ended before {pattern!r} appeared:\n{seen.decode(errors='replace')[-2000:]}")


# tqdm's progress line after the first batch of 16 chunks of that document is stored
@pytest.mark.parametrize("pattern", [rb"\[1/3\] plan:[^\r\n]*\| 16/", rb"\[2/3\] sou-2019-56:[^\r\n]*\| 16/"])
def test_kill_9_mid_ingest_then_rerun_equals_clean_build(settings: Settings, kb_env: dict, tmp_path: Path,
                                                        pattern: bytes) -> None:
    # kill -9 while the given document's chunks are being written (batches of 16, so a document
    # of ~40 chunks is killed part-way)
    kb_env = {**kb_env, "KB_EMBED_BATCH": "16"}
    proc = _run_ingest(kb_env)
    _kill_when(proc, pattern)
    interrupted = snapshot(settings)
    # readers never see a half-written document
    for doc_id, meta in interrupted["ledger"].items():
        n = sum(m["doc_id"] == doc_id for _, m in interrupted["chunks"].values())
        assert n == meta["chunks"], doc_id

    rerun = subprocess.run([sys.executable, "-m", "kb.cli", "ingest", "--quiet", "--json"], env=kb_env,
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    resumed = snapshot(settings)

    clean_settings = replace(settings, data_dir=tmp_path / "clean")
    ingest(clean_settings, log=quiet, progress=False)
    clean = snapshot(clean_settings)
    assert resumed["ledger"] == clean["ledger"]
    assert resumed["chunks"] == clean["chunks"]
    assert resumed["stored"] == clean["stored"]  # no orphans left behind


def test_second_ingest_waits_for_the_first(settings: Settings) -> None:
    from ingest.index import ingest_lock

    with ingest_lock(settings), pytest.raises(RuntimeError, match="another ingest is running"):
        ingest(settings, log=quiet, progress=False)


def test_stats_json(settings: Settings, kb_env: dict) -> None:
    ingest(settings, log=quiet, progress=False)
    out = subprocess.run([sys.executable, "-m", "kb.cli", "stats", "--json"], env=kb_env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    docs = {d["doc_id"]: d for d in data["documents"]}
    assert set(docs) == {"plan", "sou-2019-56", "sou-2019-56-en"}
    for d in docs.values():
        assert set(d) >= {"doc_id", "title", "kind", "language", "chunks", "pages"}
    assert docs["plan"]["pages"] == 12 and docs["sou-2019-56"]["pages"] == 0
    assert docs["sou-2019-56-en"]["language"] == "en"
    assert data["chunks"] == sum(d["chunks"] for d in docs.values())
