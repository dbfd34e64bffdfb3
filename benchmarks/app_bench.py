"""The app as a user meets it: cold start and peak memory of ``python app.py`` on an existing index.

Design choices:
- Generic: the app is started as a subprocess on a free loopback port (``KB_PORT``) and
  polled over HTTP until it answers 200; nothing here depends on what the page contains.
- Peak memory is the resident memory of the app's whole process tree (``measure.TreeMemory``)
  from launch until its memory has settled after start (the app loads its models in the
  background), plus, when the app offers the ``/ask`` API (``gr.api(..., api_name="ask")``),
  while it answers a few questions through it. Without that API the answering part is skipped
  and the report says so.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from measure import ROOT, TreeMemory, free_port, summary


def _get(url: str) -> int | None:
    import httpx

    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return None


def _ask_through_api(url: str, questions: list[str], timeout: float) -> dict:
    """Ask via the app's ``/ask`` endpoint; time to the sources event and to the final answer."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    names = set((client.view_api(print_info=False, return_format="dict") or {}).get("named_endpoints", {}))
    if "/ask" not in names:
        return {"skipped": f"the app has no /ask API (endpoints: {', '.join(sorted(names)) or 'none'})"}
    rows = []
    for question in questions:
        t0 = time.perf_counter()
        job = client.submit(question, api_name="/ask")
        sources = None
        last = None
        for event in job:
            if isinstance(event, dict) and event.get("type") == "sources" and sources is None:
                sources = time.perf_counter() - t0
            last = event
            if time.perf_counter() - t0 > timeout:
                job.cancel()
                break
        kind = last.get("type") if isinstance(last, dict) else None
        rows.append({"question": question, "sources_s": sources, "total_s": time.perf_counter() - t0,
                     "final": kind, "backend": last.get("backend") if isinstance(last, dict) else None})
    return {"answers": rows, "sources_s": summary([r["sources_s"] for r in rows if r["sources_s"] is not None])}


def measure_app(data_dir: Path, questions: list[str], *, start_timeout: float = 300, settle_s: float = 15,
                max_settle_s: float = 240, answer_timeout: float = 600, env: dict | None = None) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    full_env = dict(os.environ)
    full_env.update(KB_DATA_DIR=str(data_dir), KB_PORT=str(port), KB_HOST="127.0.0.1",
                    GRADIO_ANALYTICS_ENABLED="False")
    full_env.update(env or {})
    log_path = data_dir.parent / f"app-bench-{port}.log"
    with log_path.open("w") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=full_env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        memory = TreeMemory(proc.pid).start()
        result: dict = {"url": url}
        try:
            while _get(url) != 200:
                if proc.poll() is not None:
                    raise RuntimeError(f"the app exited with {proc.returncode}; see {log_path}")
                if time.perf_counter() - t0 > start_timeout:
                    raise RuntimeError(f"the app did not answer within {start_timeout:.0f} s; see {log_path}")
                time.sleep(0.1)
            result["cold_start_s"] = time.perf_counter() - t0
            result["rss_at_start_mb"] = memory.last_mb
            settle_start = time.perf_counter()
            while not memory.settled(settle_s) and time.perf_counter() - settle_start < max_settle_s:
                time.sleep(1)
            result["settled_after_s"] = time.perf_counter() - t0
            result["rss_settled_mb"] = memory.last_mb
            if questions:
                try:
                    result["api"] = _ask_through_api(url, questions, answer_timeout)
                except Exception as exc:  # noqa: BLE001 - the API part is optional; say why it is missing
                    result["api"] = {"skipped": f"{type(exc).__name__}: {exc}"}
            result["hwm_main_mb"] = memory.hwm_mb()
        finally:
            result["peak_rss_mb"] = memory.stop()
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(30)
    result["log"] = str(log_path)
    return result
