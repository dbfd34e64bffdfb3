"""Faults during ingest: kill -9 while a hostile file is being parsed, and a full disk.

Issue 8, item 4. ``tests/test_ingest.py::test_kill_9_mid_ingest_then_rerun_equals_clean_build``
already kills ``kb ingest`` while chunks are written (and proves the re-run equals a clean
build); here the kill lands while the limited worker (``ingest.sandbox``) is parsing, which
must leave no runaway parser behind. A full disk is real where the kernel lets us mount a
tiny tmpfs in a user namespace (``unshare -rm``), and simulated everywhere by injecting
ENOSPC into the store's write path (the first batch really is written, the next one fails).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import hostile as H
import pytest
import rb_support
from conftest import SHARED, needs_mirror
from rb_support import env_for, of_docs, quiet, snapshot

from ingest.index import ingest
from kb.config import Settings
from kb.embeddings import embedder_name
from kb.store import Store, StoreError

pytestmark = needs_mirror

OLD = {"plan", "sou-2019-56", "sou-2019-56-en"}
NEW = "ny-ordning"  # a new document of about eight passages, added before the fault

indexed = rb_support.indexed  # a writable copy of the small index (fixture)


def _add_new_doc(settings: Settings) -> None:
    """The start of SOU 2016:78's summary as a text file dropped into the corpus."""
    from ingest.load import load_document

    text = load_document(SHARED / "sou" / "sou-2016-78-sammanfattning.html").text
    (settings.corpus_dir / f"{NEW}.txt").write_text(text[:5000], encoding="utf-8")


# --------------------------------------------------------------------------- kill -9 mid-parse


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _gone(pid: int) -> bool:
    """The process has exited (a zombie waiting to be reaped counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


needs_proc = pytest.mark.skipif(not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
                                reason="needs Linux /proc with child lists")


def _as_from_a_terminal() -> None:
    """Ctrl-C handled as when `kb ingest` is started from a terminal. A test run started in the
    background (`pytest &`) inherits SIGINT ignored, and so would `kb ingest`: Python then
    installs no KeyboardInterrupt handler, and the Ctrl-C test would time out."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _ingest_busy_parsing(settings: Settings, stderr: int = subprocess.DEVNULL) -> tuple[subprocess.Popen, int]:
    """Start `kb ingest` on a corpus with a PDF that takes minutes to parse; return it and its
    worker once the worker is deep in that PDF."""
    H.many_stream_bomb(settings.corpus_dir / "seg.pdf", pages=400, mb_per_page=60)
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "ingest", "--quiet"], stdout=subprocess.DEVNULL,
                            stderr=stderr, env=env_for(settings, KB_MAX_DOC_SECONDS="600"), start_new_session=True,
                            preexec_fn=_as_from_a_terminal)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        kids = [c for c in _children(proc.pid) if b"ingest.sandbox" in Path(f"/proc/{c}/cmdline").read_bytes()]
        if kids and _cpu_seconds(kids[0]) > 6:  # past start-up (~2 s of CPU), deep in seg.pdf
            return proc, kids[0]
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("the worker never got busy with seg.pdf")


def _wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _gone(pid)


@needs_proc
def test_kill_9_while_parsing_leaves_no_runaway_parser_and_a_consistent_index(indexed: Settings) -> None:
    settings = indexed
    before = snapshot(settings)
    proc, worker = _ingest_busy_parsing(settings)
    try:
        os.kill(proc.pid, signal.SIGKILL)  # only the ingest process, not its process group
        proc.wait()
        assert _wait_gone(worker), "the parser outlived kill -9 of its parent"
    finally:
        if not _gone(worker):
            os.kill(worker, signal.SIGKILL)
    assert snapshot(settings) == before  # nothing was half-committed

    rerun = subprocess.run([sys.executable, "-m", "kb.cli", "ingest", "--quiet", "--json"], capture_output=True,
                           text=True, env=env_for(settings, KB_MAX_DOC_SECONDS="5"), timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    docs = {d["doc_id"]: d for d in json.loads(rerun.stdout)["documents"]}
    assert docs["seg"]["status"] == "failed" and "KB_MAX_DOC_SECONDS" in docs["seg"]["reason"]
    assert {docs[d]["status"] for d in OLD} == {"unchanged"}
    assert snapshot(settings) == before


@needs_proc
def test_ctrl_c_while_parsing_stops_cleanly(indexed: Settings) -> None:
    """SIGINT to the whole process group, as a terminal sends it: one clear line, exit 130,
    no traceback from the worker, no worker left."""
    before = snapshot(indexed)
    proc, worker = _ingest_busy_parsing(indexed, stderr=subprocess.PIPE)
    try:
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130
    assert err.decode().strip().splitlines()[-1].startswith("Interrupted.") and b"Traceback" not in err, err.decode()
    assert _wait_gone(worker)
    assert snapshot(indexed) == before


# --------------------------------------------------------------------------- disk full, simulated


@pytest.mark.parametrize("where", ["chunks", "ledger"])
def test_disk_full_during_ingest_is_a_clear_error_and_the_old_index_stays(indexed: Settings, monkeypatch,
                                                                           where: str) -> None:
    """ENOSPC on the second batch of passages, or on the commit: a StoreError saying the disk
    is full; readers see exactly the old index; a re-run with space finishes the job."""
    from chromadb.api.models.Collection import Collection

    settings = replace(indexed, embed_batch=2)
    before = snapshot(settings)
    _add_new_doc(settings)
    real_upsert = Collection.upsert
    calls: list[str] = []

    def upsert(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        kind = "chunks" if self.name.endswith("_chunks") else "ledger"
        calls.append(kind)
        if kind == where and (where == "ledger" or calls.count("chunks") >= 2):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_upsert(self, *args, **kwargs)

    monkeypatch.setattr(Collection, "upsert", upsert)
    with pytest.raises(StoreError) as err:
        ingest(settings, log=quiet, progress=False)
    message = str(err.value)
    assert "the disk is full (No space left on device)" in message
    assert "Every document is either fully indexed or as it was before" in message and "kb ingest" in message
    monkeypatch.undo()

    during = snapshot(settings)
    assert during["ledger"] == before["ledger"] and during["chunks"] == before["chunks"]
    assert during["stored"] > before["stored"]  # what was written is there, unseen, until cleaned up

    report = ingest(settings, log=quiet, progress=False)
    assert {d.doc_id: d.status for d in report.docs}[NEW] == "added"
    after = snapshot(settings)
    assert of_docs(after, OLD) == of_docs(before, OLD)
    assert after["stored"] == len(after["chunks"])  # the leftovers were reused or removed


# --------------------------------------------------------------------------- disk full, for real


def _can_mount_tmpfs(tmp: Path) -> bool:
    if not shutil.which("unshare"):
        return False
    probe = tmp / "probe"
    probe.mkdir()
    ok = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=1m tmpfs {probe}"],
                        capture_output=True, timeout=30).returncode == 0
    probe.rmdir()
    return ok


FULL_DISK_SCRIPT = textwrap.dedent("""\
    set -u
    mount -t tmpfs -o size="${SIZE_K}k" tmpfs "$MNT"
    cp -a "$SRC" "$MNT/data"
    export KB_DATA_DIR="$MNT/data"
    "$PY" -m kb.cli ingest --quiet >"$OUT/ingest.out" 2>"$OUT/ingest.err" &
    pid=$!
    for _ in $(seq 3000); do
        grep -q "$NEW: [0-9]* chunks" "$OUT/ingest.err" && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.1
    done
    dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null   # until the disk is full
    wait $pid; echo $? >"$OUT/ingest.rc"
    "$PY" -m kb.cli stats --json >"$OUT/full-stats.out" 2>"$OUT/full-stats.err"; echo $? >"$OUT/full-stats.rc"
    rm -f "$MNT/filler"
    "$PY" -m kb.cli stats --json >"$OUT/stats.out" 2>"$OUT/stats.err"; echo $? >"$OUT/stats.rc"
    cp -a "$MNT/data" "$OUT/after"
""")


def test_real_full_disk_during_ingest(indexed: Settings, tmp_path: Path) -> None:
    if not _can_mount_tmpfs(tmp_path):
        pytest.skip("cannot mount a tmpfs in a user namespace here (unshare -rm); the simulated test covers it")
    settings = indexed
    before = snapshot(settings)
    _add_new_doc(settings)
    used_k = int(subprocess.run(["du", "-sk", str(settings.data_dir)], capture_output=True, text=True).stdout.split()[0])
    mnt, out = tmp_path / "mnt", tmp_path / "out"
    mnt.mkdir()
    out.mkdir()
    env = env_for(settings, MNT=str(mnt), OUT=str(out), SRC=str(settings.data_dir), PY=sys.executable,
                  SIZE_K=str(used_k + 2048), NEW=NEW, KB_EMBED_BATCH="2")
    subprocess.run(["unshare", "-rm", "bash", "-c", FULL_DISK_SCRIPT], env=env, timeout=900, check=True)

    read = lambda name: (out / name).read_text(encoding="utf-8")  # noqa: E731
    assert read("ingest.rc").strip() == "2", read("ingest.err")
    err = read("ingest.err")
    assert "kb: error: the index could not be written" in err and "the disk is full" in err, err
    assert "Traceback" not in err
    # with the disk still full, even opening the store fails: a clear error, not a traceback
    assert read("full-stats.rc").strip() in ("0", "2"), read("full-stats.err")
    if read("full-stats.rc").strip() == "2":
        assert "the disk is full" in read("full-stats.err") and "Traceback" not in read("full-stats.err")
    # once there is space again the old index is there, whole and readable
    assert read("stats.rc").strip() == "0", read("stats.err")
    assert {d["doc_id"] for d in json.loads(read("stats.out"))["documents"]} == OLD

    after = replace(settings, data_dir=out / "after")
    assert snapshot(after)["ledger"] == before["ledger"]
    assert snapshot(after)["chunks"] == before["chunks"]
    report = ingest(after, log=quiet, progress=False)  # the re-run finishes the job
    assert {d.doc_id: d.status for d in report.docs}[NEW] == "added"
    final = snapshot(after)
    assert of_docs(final, OLD) == of_docs(before, OLD)
    assert final["stored"] == len(final["chunks"])
    assert Store(after, embedder_name(after)).ledger()[NEW]["chunks"] > 2
