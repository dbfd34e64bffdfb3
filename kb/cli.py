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
    except RuntimeError as exc:
        raise UserError(str(exc)) from exc
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

    p = sub.add_parser("repair-text", help="repair OCR-damaged Swedish in FILE and print it")
    p.add_argument("file")
    p.add_argument("--quiet", action="store_true", help="no report on stderr")
    p.set_defaults(func=cmd_repair_text)

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
