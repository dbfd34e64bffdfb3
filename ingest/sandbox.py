"""Read documents in a separate worker process with time, memory and CPU limits.

Design choices:
- A hostile or broken file can make a parser hang or eat memory (a PDF whose pages each
  inflate a 60 MB stream, a page tree of 100,000 entries). Inside the ingest process that
  would freeze ingest, or the app that started it, with the index writer open. So documents
  are read in a worker process: the parent waits at most ``KB_MAX_DOC_SECONDS`` for each one,
  then kills the worker and reports the document as failed; the worker runs with an
  address-space limit (``KB_MAX_PARSE_MB``), so a memory bomb ends in a ``MemoryError`` and a
  clear reason instead of the machine swapping or the OOM killer picking a victim.
- A real process, not a thread or ``signal.alarm``: pypdf spends its time in C (zlib) and in
  pure Python, a thread cannot be stopped, and alarms only work in the main thread (the app
  runs ingest from a worker thread).
- One worker per ingest run, reused for every document: the interpreter start, the imports
  and the repair lexicon (~2 s) are paid once, before the first document's clock starts. A
  worker that timed out, crashed or ran out of memory is replaced for the next document.
- A plain ``subprocess`` running ``python -m ingest.sandbox`` rather than ``multiprocessing``:
  forkserver/spawn children re-import the parent's ``__main__`` (the Gradio app), and a
  fork of a process with Chroma's and torch's threads can deadlock.
- The worker never outlives its parent: it asks the kernel for SIGKILL when the parent dies
  (Linux ``PR_SET_PDEATHSIG``), exits on end of input, and carries a CPU-time limit of the
  document budget, so even a ``kill -9`` of ``kb ingest`` mid-parse leaves no runaway parser.
- Requests and replies are pickles over pipes between two processes of this program; the
  untrusted file is only ever read by the worker.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

from ingest.load import LoadedDocument, LoadError
from kb.config import PROJECT_ROOT, Settings
from kb.manifest import Source

_HEADER = struct.Struct("!Q")
START_TIMEOUT_S = 120.0  # interpreter, imports and the repair lexicon, on a busy machine
CPU_MARGIN_S = 5


class LoadWorker:
    """Loads documents one at a time in a limited child process (started on first use)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._proc: subprocess.Popen | None = None
        self._results: int | None = None

    def __enter__(self) -> LoadWorker:
        return self

    def __exit__(self, exc_type: type | None, *exc: object) -> None:
        self.close(kill=exc_type is not None)  # interrupted or failed: the worker may be mid-parse

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def load(self, path: Path, source: Source) -> tuple[LoadedDocument, dict | None]:
        """``ingest.index.load_source`` in the worker; ``LoadError`` for every way it can fail."""
        if self._proc is None or self._proc.poll() is not None:
            self._start()
        limit = self.settings.max_doc_seconds
        try:
            _send(self._proc.stdin, (str(path), source, self.settings))
            reply = _receive(self._results, time.monotonic() + limit)
        except TimeoutError:
            self.close(kill=True)
            raise LoadError(f"{path.name}: reading it took longer than {limit} s (KB_MAX_DOC_SECONDS); "
                            "it was stopped") from None
        except (EOFError, BrokenPipeError, OSError):
            code = self.close()
            raise LoadError(f"{path.name}: the document reader stopped while reading it ({_describe(code, limit)})") from None
        kind = reply[0]
        if kind == "ok":
            return reply[1], reply[2]
        if kind == "memory":
            self.close(kill=True)
            raise LoadError(f"{path.name}: reading it needs more than {self.settings.max_parse_mb} MB of memory "
                            "(KB_MAX_PARSE_MB)")
        raise LoadError(reply[1])

    def close(self, kill: bool = False) -> int | None:
        """Stop the worker (if any; ``kill``: at once); its exit status, negative for a signal."""
        proc, self._proc = self._proc, None
        if self._results is not None:
            os.close(self._results)
            self._results = None
        if proc is None:
            return None
        if kill:
            proc.kill()
        with contextlib.suppress(OSError):
            proc.stdin.close()
        try:
            return proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

    def _start(self) -> None:
        read_fd, write_fd = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "ingest.sandbox", str(os.getpid()), str(write_fd),
                 str(self.settings.max_parse_mb)],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, pass_fds=(write_fd,), env=env,
                cwd=str(PROJECT_ROOT))
        finally:
            os.close(write_fd)
        self._results = read_fd
        try:
            ready = _receive(read_fd, time.monotonic() + START_TIMEOUT_S)
        except (TimeoutError, EOFError, OSError):
            code = self.close()
            raise RuntimeError(f"the document reader process could not start (exit status {code}); "
                               "its error, if any, is printed above") from None
        if ready != ("ready",):
            self.close()
            raise RuntimeError(f"the document reader process sent {ready!r} instead of starting")


def _describe(code: int | None, limit: int) -> str:
    if code is None:
        return "no exit status"
    if code == -signal.SIGXCPU:
        return f"it used more than {limit} s of processor time (KB_MAX_DOC_SECONDS)"
    if code == -signal.SIGKILL:
        return "it was killed, probably for using too much memory"
    if code < 0:
        return f"it crashed with signal {signal.Signals(-code).name}"
    return f"exit status {code}"


# --------------------------------------------------------------------------- framing


def _send(stream, obj: object) -> None:  # noqa: ANN001 - a binary file object
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read_exactly(fd: int, n: int, deadline: float | None) -> bytes:
    parts: list[bytes] = []
    while n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def _receive(fd: int, deadline: float | None) -> tuple:
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    return pickle.loads(_read_exactly(fd, size, deadline))


# --------------------------------------------------------------------------- the worker


def _die_with_parent(parent_pid: int) -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: end of input and the CPU limit still end the worker
    if os.getppid() != parent_pid:  # the parent died before we asked
        os._exit(1)


def _set_limits(max_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not POSIX
        return
    limit = max_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _cpu_budget(seconds: int) -> None:
    """Let this worker use ``seconds`` more CPU time; past that the kernel sends SIGXCPU."""
    try:
        import resource
    except ImportError:
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(used.ru_utime + used.ru_stime) + seconds + CPU_MARGIN_S
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.getrlimit(resource.RLIMIT_CPU)[1]))


def _peak_kb() -> int:
    """The most address space this process has ever held (0 where /proc is missing)."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmPeak:"))
    except (OSError, StopIteration, ValueError):
        return 0


def serve(parent_pid: int, result_fd: int, max_mb: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us
    _die_with_parent(parent_pid)
    _set_limits(max_mb)
    out = os.fdopen(result_fd, "wb")
    sys.stdout = sys.stderr  # a stray print must not end up in the parent's output
    from ingest.index import load_source
    from ingest.repair import lexicon

    lexicon()  # built once, before any document's clock starts
    _send(out, ("ready",))
    requests = sys.stdin.buffer
    while True:
        header = requests.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return  # the parent closed the pipe (or died)
        path, source, settings = pickle.loads(requests.read(_HEADER.unpack(header)[0]))
        _cpu_budget(settings.max_doc_seconds)
        peak_before = _peak_kb()
        name = Path(path).name
        try:
            doc, stats = load_source(Path(path), source, settings)
            reply: tuple = ("ok", doc, stats)
        except LoadError as exc:
            reply = ("error", str(exc))
        except MemoryError:
            reply = ("memory",)
        except RecursionError:
            reply = ("error", f"{name}: its structure is nested too deeply to read")
        except Exception as exc:  # noqa: BLE001 - any parser bug becomes a reason, not a dead ingest
            reply = ("error", f"{name}: could not be read ({type(exc).__name__}: {exc})")
        peak = _peak_kb()
        if reply[0] != "ok" and peak > peak_before and peak >= 0.9 * max_mb * 1024:
            reply = ("memory",)  # allocation failures inside C code surface as odd errors, not MemoryError
        if reply[0] == "memory":
            _send(out, reply)
            return
        _send(out, reply)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python -m ingest.sandbox PARENT_PID RESULT_FD MAX_MB (started by ingest, not by hand)")
    serve(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
