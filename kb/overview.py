"""What the knowledge base holds: for the app's documents view and its "what does it contain?" answer.

Design choices:
- Read from the store's ledger (what is actually indexed, with chunk counts and ingest
  times) joined with the manifest (year, link, and the documents we only cite), so the view
  never claims a document that failed to ingest.
- Returns plain rows and Markdown; the app decides how to show them.
"""

from __future__ import annotations

from kb.config import Settings
from kb.manifest import load_sources
from kb.present import escape_text
from kb.ui_text import LANGUAGE_NAMES, kind_label, ui


def held_documents(ledger: dict[str, dict], settings: Settings, language: str = "sv") -> list[list]:
    """[title, kind, year, language, chunks, last ingest, link] for each indexed document."""
    sources = {s.id: s for s in load_sources(settings.corpus_dir, settings.data_dir)}
    rows = []
    order = {doc_id: i for i, doc_id in enumerate(sources)}
    for doc_id, meta in sorted(ledger.items(), key=lambda kv: (order.get(kv[0], 10**6), kv[0])):
        s = sources.get(doc_id)
        lang = meta.get("language", "")
        rows.append([meta.get("title", doc_id), kind_label(language, meta.get("kind", "document")),
                     (s.year if s else "") or str(meta.get("date", ""))[:4],
                     LANGUAGE_NAMES.get(language, {}).get(lang, lang), int(meta.get("chunks", 0)),
                     str(meta.get("ingested_at", "")).replace("T", " "), meta.get("url", "") or ""])
    return rows


def linked_documents(settings: Settings, language: str = "sv") -> list[list]:
    """[title, kind, year, link] for documents the manifest cites without text."""
    return [[s.title, kind_label(language, s.kind), s.year, s.url or ""]
            for s in load_sources(settings.corpus_dir, settings.data_dir) if not s.has_text]


def contents_markdown(ledger: dict[str, dict], settings: Settings, language: str = "sv") -> str:
    held = held_documents(ledger, settings, language)
    linked = linked_documents(settings, language)
    lines = [escape_text(ui(language, "contents_title", n=len(held)))]
    for title, kind, year, _lang, _chunks, _when, _url in held:
        lines.append(f"- {escape_text(title)} ({escape_text(kind)}{', ' + escape_text(year) if year else ''})")
    if linked:
        lines.append("")
        lines.append(escape_text(ui(language, "contents_linked", n=len(linked))))
        for title, _kind, _year, url in linked:
            link = f" – <{url}>" if url.startswith(("https://", "http://")) else ""
            lines.append(f"- {escape_text(title)}{link}")
    return "\n".join(lines)
