"""The ``kb`` command: a thin shell over the library, one subcommand per job.

Design choices:
- Every subcommand parses arguments, calls one library function and prints; no logic here.
- Errors a user can cause (bad settings, missing models, unreadable files) print one clear
  line and exit non-zero; tracebacks are for bugs only (and ``--debug`` shows them).
- ``--json`` output is stable: other tools read it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kb.config import ConfigError, Settings


class UserError(Exception):
    """A problem the user can fix; printed without a traceback."""


def _settings() -> Settings:
    return Settings.from_env()


# --------------------------------------------------------------------------- models


def cmd_models_fetch(args: argparse.Namespace) -> int:
    from kb.models import ModelError, default_fetch_list, fetch, load_recipes

    settings = _settings()
    recipes = load_recipes()
    names = args.names or None
    if names:
        unknown = [n for n in names if n not in recipes]
        if unknown:
            raise UserError(f"unknown model(s): {', '.join(unknown)}; known: {', '.join(sorted(recipes))}")
        todo = [recipes[n] for n in names]
    else:
        todo = default_fetch_list(settings.embed_model, settings.llm_model)
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    for recipe in todo:
        try:
            fetch(recipe, settings.models_dir, progress=lambda m: print(m, file=sys.stderr, flush=True))
        except ModelError as exc:
            raise UserError(str(exc)) from exc
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    from kb.models import is_present, load_recipes, output_path

    settings = _settings()
    rows = []
    for recipe in load_recipes().values():
        present = is_present(settings.models_dir, recipe)
        rows.append({"name": recipe.name, "kind": recipe.kind, "description": recipe.description,
                     "size_mb": round(recipe.total_size / 1e6), "present": present,
                     "path": str(output_path(settings.models_dir, recipe)) if recipe.downloadable else recipe.package,
                     "default_for": [r for r, v in (("embedding", settings.embed_model), ("llm", settings.llm_model)) if v == recipe.name]})
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for r in rows:
            mark = "✓" if r["present"] else "·"
            default = f"  (default {', '.join(r['default_for'])})" if r["default_for"] else ""
            print(f"{mark} {r['name']:<34} {r['size_mb']:>6} MB  {r['description']}{default}")
    return 0


def cmd_models_verify(args: argparse.Namespace) -> int:
    from kb.models import is_present, load_recipes, verify

    settings = _settings()
    bad = 0
    for recipe in load_recipes().values():
        if not recipe.downloadable or not is_present(settings.models_dir, recipe):
            continue
        ok = verify(recipe, settings.models_dir)
        bad += not ok
        print(f"{recipe.name}: {'ok' if ok else 'CORRUPTED — delete it and run `kb models fetch`'}")
    return 1 if bad else 0


# --------------------------------------------------------------------------- ingest / stats


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.index import ingest

    settings = _settings()
    try:
        report = ingest(settings, progress=not args.quiet, only=set(args.only) if args.only else None)
    except KeyboardInterrupt:
        print("Interrupted. Every document is either fully indexed or as it was; run `kb ingest` again to finish.",
              file=sys.stderr)
        return 130
    except RuntimeError as exc:  # includes StoreError: a failed write, e.g. a full disk
        raise UserError(str(exc)) from exc
    except OSError as exc:  # the data directory is read-only, the disk is full, …
        where = f" ({exc.filename})" if exc.filename else ""
        raise UserError(f"ingest stopped: {exc.strerror or exc}{where}. Every document is either fully indexed "
                        "or as it was; fix this and run `kb ingest` again.") from exc
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print(report.summary())
    return 0 if report.ok or not args.strict else 1


def stats(settings: Settings) -> dict:
    from kb.embeddings import embedder_name
    from kb.store import Store

    store = Store(settings, embedder_name(settings))
    docs = []
    for doc_id, meta in sorted(store.ledger().items()):
        docs.append({"doc_id": doc_id, "title": meta.get("title", doc_id), "kind": meta.get("kind", ""),
                     "language": meta.get("language", ""), "chunks": int(meta.get("chunks", 0)),
                     "pages": int(meta.get("pages", 0)), "ingested_at": meta.get("ingested_at", "")})
    return {"documents": docs, "chunks": sum(d["chunks"] for d in docs)}


def cmd_stats(args: argparse.Namespace) -> int:
    data = stats(_settings())
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    if not data["documents"]:
        print("The index is empty. Run `kb ingest`.")
        return 0
    for d in data["documents"]:
        pages = f"{d['pages']} pages" if d["pages"] else "no pages"
        print(f"{d['doc_id']:<22} {d['kind']:<8} {d['language']:<3} {d['chunks']:>5} chunks  {pages:<9}  {d['title']}")
    print(f"{len(data['documents'])} documents, {data['chunks']} chunks")
    return 0


def cmd_repair_text(args: argparse.Namespace) -> int:
    from ingest.load import LoadError, decode_text
    from ingest.repair import format_report, repair_text

    path = Path(args.file)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        text = decode_text(path.read_bytes(), path.name)
    except LoadError as exc:
        raise UserError(str(exc)) from exc
    result = repair_text(text)
    sys.stdout.write(result.text)
    if not args.quiet:
        print(format_report(result), file=sys.stderr)
    return 0


def _read_batch(path: str) -> list[dict]:
    file = Path(path)
    if not file.is_file():
        raise UserError(f"{path}: no such file")
    data = file.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not valid UTF-8; save the file as UTF-8") from exc
    items = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
        if not isinstance(item, dict) or "question" not in item:
            raise UserError(f'{path}:{n}: each line must be an object with "id" and "question"')
        items.append(item)
    return items


def _json_line(obj: object) -> str:
    """One JSON line; lone surrogates from a batch file ("\\ud800") become "?" instead of a crash."""
    return json.dumps(obj, ensure_ascii=False).encode("utf-8", "replace").decode("utf-8")


def _parse_filters(args: argparse.Namespace) -> dict | None:
    filters = {key: getattr(args, key) for key in ("kind", "doc_id", "topic") if getattr(args, key, None)}
    return filters or None


def _each_question(args: argparse.Namespace, answer) -> int:  # noqa: ANN001 - answer: (question) -> (data, show)
    """Run ``answer`` on the one question or on each line of ``--batch``; print JSON or text.

    Batch mode writes one JSON line per question (with its id) and keeps going past bad
    questions, which get an "error" line and make the exit status 1.
    """
    from kb.assistant import QuestionError

    if not args.batch and args.question is None:
        raise UserError("give a QUESTION or --batch FILE.jsonl")
    items = _read_batch(args.batch) if args.batch else [{"id": None, "question": args.question}]
    status = 0
    for item in items:
        try:
            data, show = answer(item["question"])
        except QuestionError as exc:
            if not args.batch:  # an unreachable index also says why (UnavailableError.detail)
                raise UserError(str(exc) + (f" ({exc.detail})" if getattr(exc, "detail", "") else "")) from exc
            print(_json_line({"id": item.get("id"), "question": item["question"], "error": str(exc)}))
            status = 1
            continue
        if args.batch:
            print(_json_line({"id": item.get("id"), **data}), flush=True)
        elif args.json:
            print(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            show()
    return status


def cmd_retrieve(args: argparse.Namespace) -> int:
    from kb.assistant import Assistant

    assistant = Assistant(_settings())
    filters = _parse_filters(args)

    def answer(question: str) -> tuple[dict, object]:
        language, passages = assistant.retrieve(question, k=args.k, filters=filters)

        def show() -> None:
            if not passages:
                print("Inga träffar. / No passages found. (Is the index built? Run `kb ingest`.)")
            for p in passages:
                print(f"[{p.rank}] {p.short_title} — {p.location()}  (score {p.score:.4f})")
                print("    " + p.text[:400].replace("\n", " ") + ("…" if len(p.text) > 400 else ""))

        return {"question": question, "language": language, "hits": [p.to_json() for p in passages]}, show

    return _each_question(args, answer)


def cmd_ask(args: argparse.Namespace) -> int:
    from kb.assistant import Assistant

    assistant = Assistant(_settings())
    filters = _parse_filters(args)
    mode = "extractive" if args.extractive else None

    def answer(question: str) -> tuple[dict, object]:
        result = assistant.ask(question, filters=filters, mode=mode)

        def show() -> None:
            print(result.answer)
            for notice in result.notices:
                print(f"\n({notice})")
            if result.citations:
                print()
            for c in result.citations:
                where = ", ".join(x for x in (f"s. {c.page}" if c.page else "", c.section) if x)
                print(f"[{c.n}] {c.title}{' — ' + where if where else ''}\n    ”{c.quote}”\n    {c.url}")

        return result.to_json(), show

    return _each_question(args, answer)


def cmd_feedback_export(args: argparse.Namespace) -> int:
    from kb.feedback import FeedbackError, FeedbackStore, feedback_path

    settings = _settings()
    path = feedback_path(settings.data_dir)
    if not path.exists():
        raise UserError(f"no feedback yet ({path} does not exist)")
    try:
        store = FeedbackStore(path)
        if store.recovered_from:
            print(f"kb: the feedback database was corrupt; it was moved to {store.recovered_from}", file=sys.stderr)
        if args.out:
            count = store.export_csv(Path(args.out))
            print(f"wrote {count} feedback rows to {args.out}", file=sys.stderr)
        else:
            store.export_csv(stream=sys.stdout)
    except (FeedbackError, OSError) as exc:
        raise UserError(f"could not export feedback: {exc}") from exc
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from evals.run import EvalError, run_cli

    try:
        return run_cli(args, _settings())
    except EvalError as exc:
        raise UserError(str(exc)) from exc


def cmd_config(args: argparse.Namespace) -> int:
    settings = _settings()
    for key, value in settings.describe().items():
        print(f"{key} = {value}")
    return 0


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kb", description="Civsam KB: the knowledge base about Region Örebro län's "
                                     "action plan for civil society and the social economy 2026–2030.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    models = sub.add_parser("models", help="obtain and check the models").add_subparsers(dest="models_command", required=True)
    p = models.add_parser("fetch", help="download, join, verify and unpack models (default: the configured ones)")
    p.add_argument("names", nargs="*", help="recipe names (see `kb models list`)")
    p.set_defaults(func=cmd_models_fetch)
    p = models.add_parser("list", help="known model recipes and whether they are present")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models_list)
    p = models.add_parser("verify", help="re-hash every present model")
    p.set_defaults(func=cmd_models_verify)

    p = sub.add_parser("ingest", help="bring the index in line with the corpus (incremental)")
    p.add_argument("--only", nargs="+", metavar="DOC_ID", help="only these documents")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--strict", action="store_true", help="exit 1 if a document is missing or failed")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("stats", help="what the index holds")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    def question_parser(name: str, help_text: str):  # noqa: ANN202 - the options retrieve and ask share
        q = sub.add_parser(name, help=help_text)
        q.add_argument("question", nargs="?")
        q.add_argument("--json", action="store_true")
        q.add_argument("--batch", metavar="FILE.jsonl", help='one {"id", "question"} per line; one JSON line out each')
        q.add_argument("--kind", nargs="+", help="only these document kinds (plan, sou, …)")
        q.add_argument("--doc-id", dest="doc_id", nargs="+", help="only these documents")
        q.add_argument("--topic", nargs="+", help="only passages whose section path contains this")
        return q

    p = question_parser("retrieve", "the passages that best answer QUESTION (hybrid search)")
    p.add_argument("--k", type=int, default=10, help="number of passages (default 10)")
    p.set_defaults(func=cmd_retrieve)

    p = question_parser("ask", "a grounded, cited answer to QUESTION")
    p.add_argument("--extractive", action="store_true", help="no LLM: quote the first sentences of the context the model would get")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("repair-text", help="repair OCR-damaged Swedish in FILE and print it")
    p.add_argument("file")
    p.add_argument("--quiet", action="store_true", help="no report on stderr")
    p.set_defaults(func=cmd_repair_text)

    feedback = sub.add_parser("feedback", help="feedback users gave on answers").add_subparsers(
        dest="feedback_command", required=True)
    p = feedback.add_parser("export", help="write all feedback as CSV (to stdout, or --out FILE)")
    p.add_argument("--out", metavar="FILE.csv")
    p.set_defaults(func=cmd_feedback_export)

    from evals.run import add_arguments as eval_arguments

    p = sub.add_parser("eval", help="measure retrieval and answers on the dev questions, beside a naive baseline; "
                       "writes a report to evals/reports/")
    eval_arguments(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("config", help="show the effective configuration")
    p.set_defaults(func=cmd_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from kb.manifest import ManifestError
    from kb.models import ModelError
    from kb.store import StoreError

    try:
        return args.func(args)
    except (UserError, ConfigError, ManifestError, ModelError, StoreError) as exc:
        if args.debug:
            raise
        print(f"kb: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
