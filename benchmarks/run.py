"""All benchmarks in one command; writes ``benchmarks/RESULTS.md`` (and ``results.json``).

    python benchmarks/run.py [--data-dir DIR] [--reuse-index] [--questions 6] [--skip baseline,app,answers,extra]

What it measures, ours beside the naive llama-index baseline (``evals.baseline``, same run):
full-corpus ingest into a fresh data directory (chunks/s, total), an unchanged re-ingest,
retrieval latency over all dev questions, time to sources / first token / full answer with
the default local LLM, and the app's cold start and peak memory (``app_bench``). Then the
older focused benchmarks (``bench_repair.py``, ``bench_load_worker.py``, ``bench_llm.py``) run and their output is
appended. Not part of the test suite: it takes 20–40 minutes on two cores.

Design choices:
- Ingest, the baseline and the app run as child processes, the way a user runs them (Python
  start-up and imports included), so one measurement's threads and memory never leak into
  another's. Retrieval and answers of ours run in this process through ``kb.Assistant``.
- The machine is shared: the load average is recorded before every step and printed beside
  its figures; compare runs only with that in mind.
- A step that fails is reported as failed with the reason; the other steps still run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from app_bench import measure_app  # noqa: E402
from measure import TreeMemory, load_average, machine, summary  # noqa: E402

TARGETS = {"ingest_s": 600, "reingest_s": 5, "retrieval_p95_ms": 150, "sources_s": 1, "first_token_s": 8,
           "app_rss_mb": 3 * 1024}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def child_env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["KB_DATA_DIR"] = str(data_dir)
    env.update(extra or {})
    return env


def run_child(args: list[str], data_dir: Path, timeout: float, *, check: bool = True,
              env: dict[str, str] | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, peak tree RSS MB, result) of a child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, env=child_env(data_dir, env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    memory = TreeMemory(proc.pid).start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise RuntimeError(f"{' '.join(args[:4])} took longer than {timeout:.0f} s") from None
    finally:
        peak = memory.stop()
    result = subprocess.CompletedProcess(args, proc.returncode, out, err)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])} exited with {proc.returncode}: {err.strip()[-800:]}")
    return time.perf_counter() - t0, peak, result


def last_json(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    return json.loads(text)


# ----------------------------------------------------------------------------- steps


def step_ingest(data_dir: Path, reuse: bool) -> dict:
    kb = [sys.executable, "-m", "kb.cli", "ingest", "--json", "--quiet"]
    out: dict = {}
    if reuse and (data_dir / "chroma").is_dir():
        out["full"] = {"skipped": f"--reuse-index: the index in {data_dir} was kept"}
    else:
        out["full"] = {"load": load_average()}
        seconds, peak, result = run_child(kb, data_dir, timeout=3 * 3600)
        report = json.loads(result.stdout)
        chunks = sum(d["chunks"] for d in report["documents"] if d["status"] in ("added", "updated"))
        out["full"].update(seconds=seconds, inner_s=report["seconds"], chunks=chunks, peak_rss_mb=peak,
                           chunks_per_s=chunks / seconds, statuses=sorted({d["status"] for d in report["documents"]}))
    out["unchanged"] = {"load": load_average()}
    seconds, peak, result = run_child(kb, data_dir, timeout=600)
    report = json.loads(result.stdout)
    out["unchanged"].update(seconds=seconds, inner_s=report["seconds"], peak_rss_mb=peak,
                            statuses=sorted({d["status"] for d in report["documents"]}))
    return out


def step_baseline_index(data_dir: Path) -> dict:
    naive = [sys.executable, str(ROOT / "benchmarks" / "naive.py"), "build", "--data-dir", str(data_dir)]
    out: dict = {"load": load_average()}
    seconds, peak, result = run_child(naive, data_dir, timeout=3 * 3600)
    first = last_json(result.stdout)
    if "skipped" in first:
        return first
    out.update(first=first | {"wall_s": seconds, "peak_rss_mb": peak})
    out["again_load"] = load_average()
    seconds, peak, result = run_child(naive, data_dir, timeout=1800)
    out["again"] = last_json(result.stdout) | {"wall_s": seconds, "peak_rss_mb": peak}
    return out


def step_retrieval(settings) -> dict:  # noqa: ANN001
    from evals.dataset import load_questions
    from kb.assistant import Assistant

    out: dict = {"load": load_average()}
    t0 = time.perf_counter()
    assistant = Assistant(settings)
    assistant.retrieve("uppvärmning")  # models and the lexical index load outside the timing
    out["first_call_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    out["warm_sentences"] = assistant.retriever.warm_sentences()  # as the app does in the background at start
    out["warm_sentences_s"] = time.perf_counter() - t0
    latencies = []
    for q in load_questions():
        t0 = time.perf_counter()
        assistant.retrieve(q.question)
        latencies.append(time.perf_counter() - t0)
    out["latency_s"] = summary(latencies)
    out["k"] = settings.top_k
    return out


def step_baseline_retrieval(data_dir: Path, k: int) -> dict:
    naive = [sys.executable, str(ROOT / "benchmarks" / "naive.py"), "retrieve", "--data-dir", str(data_dir),
             "--k", str(k)]
    load = load_average()
    _, _, result = run_child(naive, data_dir, timeout=3600)
    return last_json(result.stdout) | {"load": load}


def answer_questions(n: int) -> list[str]:
    from evals.dataset import load_questions, spread

    return [q.question for q in spread([q for q in load_questions() if q.answerable], n)]


def step_answers(settings, questions: list[str]) -> dict:  # noqa: ANN001
    from kb.assistant import Assistant

    out: dict = {"load": load_average()}
    assistant = Assistant(settings)
    t0 = time.perf_counter()
    assistant.warm()
    out["warm_s"] = time.perf_counter() - t0

    def ask(question: str) -> dict:
        t0 = time.perf_counter()
        row: dict = {"question": question, "sources_s": None, "first_token_s": None}
        for event in assistant.ask_stream(question):
            now = time.perf_counter() - t0
            if event["type"] == "sources" and row["sources_s"] is None:
                row["sources_s"] = now
            elif event["type"] == "token" and row["first_token_s"] is None:
                row["first_token_s"] = now
            elif event["type"] == "answer":
                result = event["answer"]
                row.update(total_s=now, backend=result.backend, refused=result.refused,
                           notices=list(result.notices), chars=len(result.answer))
        timings = getattr(assistant._backend, "last_timings", None) or {}
        if row.get("backend", "").startswith("llama") and timings:  # llama.cpp's own count of this answer
            row["llm"] = {k: timings.get(k) for k in ("prompt_n", "cache_n", "prompt_per_second", "predicted_n",
                                                      "predicted_per_second")}
        return row

    out["first_question"] = ask(questions[0])  # the first after start: llama.cpp's caches are cold
    out["answers"] = [ask(q) for q in questions[1:]]
    rows = out["answers"]
    llm_rows = [r for r in rows if str(r.get("backend", "")).startswith(("llama", "openai"))]
    out["sources_s"] = summary([r["sources_s"] for r in rows])
    out["first_token_s"] = summary([r["first_token_s"] for r in llm_rows])
    out["total_s"] = summary([r["total_s"] for r in llm_rows])
    out["llm_answers"] = len(llm_rows)
    out["settings"] = {"model": settings.llm_model, "threads": settings.llm_threads,
                       "batch_threads": settings.llm_batch_threads, "context": settings.llm_context,
                       "max_tokens": settings.llm_max_tokens, "timeout_s": settings.llm_timeout_s}
    return out


BASELINE_LLM_TIMEOUT_S = 300  # longer than ours (60 s) so that its times are measured, not cut off


def step_baseline_answers(data_dir: Path, questions: list[str]) -> dict:
    naive = [sys.executable, str(ROOT / "benchmarks" / "naive.py"), "answer", "--data-dir", str(data_dir),
             "--questions", json.dumps(questions[1:], ensure_ascii=False)]
    load = load_average()
    _, _, result = run_child(naive, data_dir, timeout=4 * 3600, check=False,
                             env={"KB_LLM_TIMEOUT_S": str(BASELINE_LLM_TIMEOUT_S)})
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    data = next((d for d in reversed(lines) if "answers" in d or "skipped" in d), None)
    if data is None:  # died before the end: keep the answers it finished
        if result.returncode == 0 or not any("row" in d for d in lines):
            raise RuntimeError(f"naive.py answer exited with {result.returncode}: {result.stderr.strip()[-500:]}")
        data = {"answers": [d["row"] for d in lines if "row" in d], "crashed": result.returncode}
    if "skipped" in data:
        return data
    rows = [r for r in data["answers"] if "error" not in r]
    data.update(load=load, sources_s=summary([r["sources_s"] for r in rows]),
                first_token_s=summary([r["first_token_s"] for r in rows if r.get("first_token_s") is not None]),
                total_s=summary([r["total_s"] for r in rows]), errors=len(data["answers"]) - len(rows))
    return data


def step_extra() -> dict:
    out = {}
    for name, args, timeout in (("bench_repair.py", [], 600), ("bench_load_worker.py", ["--rounds", "1"], 1800),
                                ("bench_llm.py", ["--rounds", "1"], 3600)):
        load = load_average()
        t0 = time.perf_counter()
        try:
            result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), *args], cwd=ROOT,
                                    capture_output=True, text=True, timeout=timeout)
            text = result.stdout.strip() or result.stderr.strip()[-2000:]
        except subprocess.TimeoutExpired:
            text = f"(stopped after {timeout} s)"
        out[name] = {"load": load, "seconds": time.perf_counter() - t0, "output": text}
    return out


# ----------------------------------------------------------------------------- report


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{1000 * value:.0f} ms"


def _s(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f} s"


def _load(step: dict | None) -> str:
    load = (step or {}).get("load")
    return "" if not load else f"{load[0]:.1f}"


def _mark(ok: bool | None) -> str:
    return "" if ok is None else ("✓" if ok else "✗")


def render(results: dict) -> str:
    m = results["machine"]
    ing = results.get("ingest", {})
    base_idx = results.get("baseline_index", {})
    ret = results.get("retrieval", {})
    bret = results.get("baseline_retrieval", {})
    ans = results.get("answers", {})
    bans = results.get("baseline_answers", {})
    app = results.get("app", {})
    full = ing.get("full", {})
    unchanged = ing.get("unchanged", {})

    def get(d: dict, *keys: str) -> float | None:
        for key in keys:
            if not isinstance(d, dict) or key not in d:
                return None
            d = d[key]
        return d

    rows = []
    if "seconds" in full:
        ok = full["seconds"] <= TARGETS["ingest_s"]
        ours = f"{full['seconds']:.0f} s for {full['chunks']:,} chunks ({full['chunks_per_s']:.1f} chunks/s)"
    else:
        ok, ours = None, full.get("skipped") or full.get("error", "—")
    first = base_idx.get("first", {})
    naive = (f"{first['wall_s']:.0f} s for {first['chunks']:,} chunks ({first['chunks'] / first['wall_s']:.1f} "
             f"chunks/s){'' if first.get('built') else ' (loaded, not built)'}" if first else
             base_idx.get("skipped") or base_idx.get("error", "—"))
    rows.append(("Full-corpus ingest (fresh index)", ours, naive, "≤ 10 min", _mark(ok), _load(full)))
    again = base_idx.get("again", {})
    ok = None if "seconds" not in unchanged else unchanged["seconds"] <= TARGETS["reingest_s"]
    rows.append(("Unchanged re-ingest (whole command)", _s(unchanged.get("seconds")),
                 f"{_s(again.get('wall_s'))} (reopening its stored index)" if again else "—", "≤ 5 s", _mark(ok),
                 _load(unchanged)))
    p95 = get(ret, "latency_s", "p95")
    rows.append(("Retrieval latency p50 / p95 (106 dev questions, top 5)",
                 f"{_ms(get(ret, 'latency_s', 'p50'))} / {_ms(p95)}",
                 f"{_ms(get(bret, 'latency_s', 'p50'))} / {_ms(get(bret, 'latency_s', 'p95'))}" if bret.get("latency_s")
                 else bret.get("skipped") or bret.get("error", "—"),
                 "p95 ≤ 150 ms", _mark(None if p95 is None else p95 * 1000 <= TARGETS["retrieval_p95_ms"]), _load(ret)))
    src = get(ans, "sources_s", "p50")
    rows.append(("Time to sources, median", _s(src, 2), _s(get(bans, "sources_s", "p50"), 2), "≤ 1 s",
                 _mark(None if src is None else src <= TARGETS["sources_s"]), _load(ans)))
    ftt = get(ans, "first_token_s", "p50")
    rows.append(("First answer token, median (default local LLM)", _s(ftt), _s(get(bans, "first_token_s", "p50")),
                 "≤ 8 s", _mark(None if ftt is None else ftt <= TARGETS["first_token_s"]), _load(ans)))
    rows.append(("Full answer, median", _s(get(ans, "total_s", "p50")), _s(get(bans, "total_s", "p50")), "", "",
                 _load(ans)))
    peak = app.get("peak_rss_mb")
    rows.append(("App peak memory (RSS, whole process tree)", "—" if peak is None else f"{peak / 1024:.2f} GB",
                 "n/a (no app)", "≤ 3 GB", _mark(None if peak is None else peak <= TARGETS["app_rss_mb"]),
                 _load(app)))
    rows.append(("App cold start with an existing index (until HTTP 200)", _s(app.get("cold_start_s")),
                 "n/a (no app)", "", "", _load(app)))

    lines = ["# Benchmark results", "",
             f"Written by `python benchmarks/run.py` on {m['date']} (commit {m['git']}); "
             f"{results['seconds'] / 60:.0f} minutes in all. Raw figures: `benchmarks/results.json`."]
    lines += [f"Run again later with `--only {','.join(r['steps'])}` on {r['date']} (load {r['load_at_start'][0]:.1f} at "
              f"its start); those rows come from that run." for r in results.get("rerun", [])]
    lines += ["",
             "## Machine", "",
             "| | |", "|---|---|",
             f"| CPU | {m['cpu']} ({m['cpu_flags']}) |",
             f"| cores available | {m['cores']} |",
             f"| RAM | {m['ram_gb']:.0f} GB |" if m.get("ram_gb") else "| RAM | unknown |",
             f"| OS, Python | {m['os']}, Python {m['python']} |",
             "| packages | " + ", ".join(f"{k} {v}" for k, v in m["packages"].items()) + " |",
             f"| load average at start (1/5/15 min) | {' / '.join(f'{x:.2f}' for x in m['load_at_start'])} |",
             f"| load average at the end | {' / '.join(f'{x:.2f}' for x in results['load_at_end'])} |",
             "",
             "The machine is shared with other work: the last column below is the 1-minute load average "
             "when each measurement started (2 cores: 2.0 means both busy). Timings on a busy machine are "
             "slower than on an idle one, sometimes several times over.", "",
             "## Summary", "",
             "| measure | ours | naive baseline | target | met | load |", "|---|---|---|---|---|---|"]
    lines += [f"| {' | '.join(str(c) for c in row)} |" for row in rows]
    lines += ["", "The naive baseline is `evals/baseline.py`: llama-index defaults (SimpleDirectoryReader, "
              "1024-token SentenceSplitter chunks, all-MiniLM-L6-v2, VectorStoreIndex, default query engine with "
              "top 2 chunks) over the same documents, with the same local LLM. Its chunks are ten times larger "
              "and it embeds only their first 256 word pieces, so its ingest is cheaper by design; its retrieval "
              "quality is measured by `kb eval`, not here.", ""]

    lines += ["## Details", ""]
    if "seconds" in full:
        lines.append(f"- Ingest: {full['chunks']:,} chunks in {full['seconds']:.0f} s for the whole command "
                     f"({full['inner_s']:.0f} s inside the ingest), peak memory {full['peak_rss_mb']:.0f} MB. "
                     f"Unchanged re-ingest: {unchanged.get('seconds', 0):.1f} s for the command, "
                     f"{unchanged.get('inner_s', 0):.2f} s inside (the rest is Python start-up and imports).")
    if first:
        lines.append(f"- Baseline index: built in {first['wall_s']:.0f} s ({first['chunks']} chunks), "
                     f"peak {first['peak_rss_mb']:.0f} MB; reopened in {again.get('wall_s', 0):.1f} s.")
    if ret.get("latency_s"):
        r = ret["latency_s"]
        lines.append(f"- Retrieval (hybrid BM25 + dense, k={ret['k']}): mean {_ms(r['mean'])}, max {_ms(r['max'])}; "
                     f"first call (model and BM25 load) {_s(ret['first_call_s'])}"
                     + (f"; the primary documents' {ret['warm_sentences']:,} sentences embedded first (as the app "
                        f"does in the background at start) in {_s(ret['warm_sentences_s'])}" if "warm_sentences" in ret else "")
                     + ".")
    if ans.get("answers") is not None:
        st = ans["settings"]
        lines += [f"- Answers: {st['model']}, {st['threads']} thread generating, {st['batch_threads']} reading the "
                  f"prompt, context {st['context']}, at most {st['max_tokens']} tokens, time-out {st['timeout_s']:.0f} s. "
                  f"Models loaded (`Assistant.warm`) in {ans['warm_s']:.1f} s. "
                  f"First question after start (its system prompt already read into llama.cpp's cache by "
                  f"`warm`, as the app does at start): sources "
                  f"{_s(ans['first_question']['sources_s'], 2)}, first token "
                  f"{_s(ans['first_question']['first_token_s'])}, answer {_s(ans['first_question'].get('total_s'))}. "
                  f"{ans['llm_answers']} of {len(ans['answers'])} further questions answered by the LLM:", "",
                  "  | question | sources | first token | answer | backend | llama.cpp |",
                  "  |---|---|---|---|---|---|"]
        for r in ans["answers"]:
            llm = r.get("llm") or {}
            speed = (f"{llm.get('prompt_n')} new + {llm.get('cache_n')} cached prompt tokens at "
                     f"{llm.get('prompt_per_second') or 0:.0f} tok/s, {llm.get('predicted_n')} generated at "
                     f"{llm.get('predicted_per_second') or 0:.1f} tok/s" if llm else "")
            lines.append(f"  | {r['question'][:70]} | {_s(r['sources_s'], 2)} | {_s(r['first_token_s'])} | "
                         f"{_s(r.get('total_s'))} | {r.get('backend', '')}{' (refused)' if r.get('refused') else ''} | "
                         f"{speed} |")
        lines.append("")
    if bans.get("answers"):
        slow = sum(1 for r in bans["answers"] if (r.get("first_token_s") or r.get("total_s") or 0) > 60)
        lines.append(f"- Baseline answers (same questions, same LLM, its default prompt with its top 2 chunks of "
                     f"up to 1,024 tokens): time-out raised to {BASELINE_LLM_TIMEOUT_S} s so its times are measured; "
                     f"{slow} of {len(bans['answers'])} took longer than our 60 s limit, "
                     f"{bans.get('errors', 0)} failed outright"
                     + (f"; the process died (signal {-bans['crashed']}) after {len(bans['answers'])} answers"
                        if bans.get("crashed") else "") + ".")
    if app:
        api = app.get("api", {})
        lines.append(f"- App: HTTP 200 after {_s(app.get('cold_start_s'))} (memory then "
                     f"{app.get('rss_at_start_mb', 0):.0f} MB); memory settled at {app.get('rss_settled_mb', 0):.0f} MB "
                     f"after {_s(app.get('settled_after_s'))} (models loaded in the background); peak "
                     f"{app.get('peak_rss_mb', 0):.0f} MB (main process high-water mark {app.get('hwm_main_mb', 0):.0f} MB)"
                     + (f"; answering through its /ask API: sources after {_s(get(api, 'sources_s', 'p50'), 2)} (median)"
                        if api.get("answers") else f"; answering part skipped: {api.get('skipped', 'no questions')}")
                     + ".")
    for name, step in results.get("errors", {}).items():
        lines.append(f"- **{name} failed**: {step}")
    extra = results.get("extra", {})
    if extra:
        lines += ["", "## Focused benchmarks", ""]
        for name, item in extra.items():
            lines += [f"`python benchmarks/{name}` (load {item['load'][0]:.1f}, {item['seconds']:.0f} s):", "",
                      "```", item["output"], "```", ""]
    lines += ["", "## Reproduce", "", "```bash", "python benchmarks/run.py            # everything, fresh index in a temp dir",
              "python benchmarks/run.py --data-dir /tmp/kb-bench --reuse-index   # keep and reuse an index",
              "```", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="where the fresh index is built (default: a new temp dir)")
    parser.add_argument("--reuse-index", action="store_true", help="keep an index already in --data-dir")
    parser.add_argument("--questions", type=int, default=6, help="questions answered with the LLM (default 6)")
    parser.add_argument("--skip", default="", help="comma-separated: baseline, app, answers, extra")
    parser.add_argument("--only", default="", help="comma-separated step names to run again; the other steps' "
                        "figures are taken from the existing results.json (same --data-dir)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument("--render", action="store_true", help="only write RESULTS.md again from results.json")
    args = parser.parse_args()
    if args.render:
        args.out.write_text(render(json.loads((args.out.parent / "results.json").read_text())), encoding="utf-8")
        return
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}

    from kb.config import Settings

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="kb-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = replace(Settings.from_env(), data_dir=data_dir)
    started = time.perf_counter()
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    results: dict = {"machine": machine(), "data_dir": str(data_dir), "errors": {}}
    previous = args.out.parent / "results.json"
    if only and previous.is_file():
        results = json.loads(previous.read_text())
        results["errors"] = {k: v for k, v in results.get("errors", {}).items() if k not in only}
        results.setdefault("rerun", []).append({"steps": sorted(only), "date": time.strftime("%Y-%m-%d %H:%M %Z"),
                                                "load_at_start": load_average()})
        data_dir = Path(results["data_dir"])
        settings = replace(settings, data_dir=data_dir)
    log(f"benchmarks into {data_dir}; load {results['machine']['load_at_start']}")
    questions = answer_questions(args.questions + 1)

    steps = [
        ("ingest", lambda: step_ingest(data_dir, args.reuse_index), True),
        ("baseline_index", lambda: step_baseline_index(data_dir), "baseline" not in skip),
        ("retrieval", lambda: step_retrieval(settings), True),
        ("baseline_retrieval", lambda: step_baseline_retrieval(data_dir, settings.top_k), "baseline" not in skip),
        ("answers", lambda: step_answers(settings, questions), "answers" not in skip),
        ("baseline_answers", lambda: step_baseline_answers(data_dir, questions),
         "baseline" not in skip and "answers" not in skip),
        ("app", lambda: measure_app(data_dir, questions[1:3] if "answers" not in skip else []), "app" not in skip),
        ("extra", step_extra, "extra" not in skip),
    ]
    for name, step, wanted in steps:
        if not wanted or (only and name not in only):
            continue
        log(f"{name} …")
        try:
            results[name] = step()
        except Exception as exc:  # noqa: BLE001 - one failed step must not lose the others
            traceback.print_exc()
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            results["errors"][name] = results[name]["error"]
        log(f"{name} done")
    if not only:
        results["load_at_end"] = load_average()
        results["seconds"] = time.perf_counter() - started
    (args.out.parent / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    args.out.write_text(render(results), encoding="utf-8")
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
