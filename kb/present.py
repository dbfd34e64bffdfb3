"""Turning answers and passages into what the chat shows: Markdown messages and source cards.

Design choices:
- Everything that comes from a user or a document is escaped here, once, before it reaches
  Gradio: HTML special characters become entities and Markdown punctuation is backslashed, so
  a question or passage containing ``<script>`` or ``[x](javascript:…)`` is shown as text.
  Only the markup built here (citation links, cards) is live.
- Links to documents are shown only for http(s) URLs.
- Card element ids carry the turn number (``kb-src-<turn>-<n>``): every answer in a
  conversation keeps working links to its own sources.
- No Gradio import: rendering is plain functions, tested without a browser.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from kb.ui_text import kind_label, ui

_CITE = re.compile(r"\[(\d+)\]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def _h(text: str) -> str:
    """HTML-escaped, and inert inside Gradio's HTML template (no ``${…}`` or ``{{…}}``)."""
    return html.escape(str(text)).replace("$", "&#36;").replace("{", "&#123;").replace("}", "&#125;")


def escape_text(text: str) -> str:
    """Plain text safe inside Markdown that Gradio renders: no HTML, no Markdown syntax."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def card_id(turn: int, n: int, cited: bool = True) -> str:
    return f"kb-{'src' if cited else 'hit'}-{turn}-{n}"


def answer_markdown(answer: str, turn: int, citation_numbers: Iterable[int] = (), notices: Iterable[str] = (),
                    language: str = "sv") -> str:
    """The answer as Markdown: escaped text, each known ``[n]`` a link to its card, notices in italics."""
    known = set(citation_numbers)
    out: list[str] = []
    pos = 0
    for m in _CITE.finditer(answer):
        out.append(escape_text(answer[pos:m.start()]))
        n = int(m.group(1))
        out.append(f"[\\[{n}\\]](#{card_id(turn, n)})" if n in known else escape_text(m.group(0)))
        pos = m.end()
    out.append(escape_text(answer[pos:]))
    text = "".join(out)
    for notice in notices:
        text += f"\n\n*{escape_text(notice)}*"
    return text


def plain_markdown(text: str) -> str:
    """A user's message or a status line as Markdown that shows exactly the text."""
    return escape_text(text)


def _safe_url(url: str | None) -> str | None:
    return url if url and re.match(r"https?://[^\s\"'<>]+$", url) else None


def _span(text: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` stands in ``text``: verbatim, or, for a list the context joined into one
    line (its lines joined with spaces, long items cut with "…"), from its first word to its last:
    any run of spaces matches any whitespace, a "…" any stretch of text."""
    if not quote:
        return None
    start = text.find(quote)
    if start >= 0:
        return start, start + len(quote)
    pieces = [p.strip() for p in quote.split("…")]
    pattern = r"[\s\S]*?".join(r"\s+".join(re.escape(w) for w in p.split()) for p in pieces if p)
    found = re.search(pattern, text) if pattern else None
    return (found.start(), found.end()) if found else None  # not found: no highlight rather than a wrong one


def _highlight(text: str, quote: str) -> str:
    """Escaped passage text with the quoted sentence (or list) in <mark>, when it is found there."""
    span = _span(text, quote)
    if span is None:
        return _h(text)
    start, end = span
    return f"{_h(text[:start])}<mark>{_h(text[start:end])}</mark>{_h(text[end:])}"


def _location(page: int | None, page_end: int | None, section: str, language: str) -> str:
    parts = []
    if page:
        parts.append(f"{ui(language, 'page')} {page}" + (f"–{page_end}" if page_end and page_end != page else ""))
    if section:
        parts.append(section)
    return ", ".join(parts)


def card(anchor: str, n: int, title: str, kind: str, location: str, text: str, quote: str, url: str | None,
         language: str) -> str:
    link = _safe_url(url)
    link_html = (f'<a class="kb-doc-link" href="{_h(link)}" target="_blank" rel="noopener noreferrer">'
                 f'{_h(ui(language, "open_document"))} ↗</a>') if link else ""
    return (f'<article class="kb-card" id="{anchor}" tabindex="-1" aria-label="{_h(f"[{n}] {title}")}">'
            f'<header><span class="kb-num">[{n}]</span> <strong class="kb-title">{_h(title)}</strong></header>'
            f'<div class="kb-meta">{_h(kind_label(language, kind))}'
            f'{" · " + _h(location) if location else ""}</div>'
            f'<blockquote class="kb-passage">{_highlight(text, quote)}</blockquote>{link_html}</article>')


def passage_cards(passages: list, turn: int, language: str) -> str:
    """Cards for retrieved passages (shown first, while the answer is written), numbered by rank."""
    return "".join(
        card(card_id(turn, p.rank, cited=False), p.rank, p.short_title or p.title, p.kind,
             _location(p.page, p.page_end, p.section, language), p.text, "", p.url, language)
        for p in passages)


def citation_cards(answer, turn: int, language: str) -> str:  # noqa: ANN001 - kb.answer.Answer
    """Cards for the citations of a finished answer (numbered as in the answer, quote highlighted),
    then the retrieved passages nobody cited, folded away."""
    by_text = {p.text: p for p in answer.passages}
    cited_texts = set()
    cards = []
    for c in answer.citations:
        # a list continued into the next chunk is cited with both chunks' text: its first passage
        p = by_text.get(c.text) or next((q for q in answer.passages if q.text and q.text in c.text), None)
        cited_texts.add(c.text)
        page_end = p.page_end if p else None
        kind = p.kind if p else "document"
        cards.append(card(card_id(turn, c.n), c.n, (p.short_title if p else "") or c.title, kind,
                          _location(c.page, page_end, c.section, language), c.text, c.quote, c.url, language))
    rest = [p for p in answer.passages if p.text not in cited_texts]
    out = "".join(cards)
    if rest:
        out += (f'<details class="kb-more"><summary>{_h(ui(language, "sources_more"))} ({len(rest)})'
                f'</summary>{passage_cards(rest, turn, language)}</details>')
    return out


def sources_panel(turns: list[dict], language: str) -> str:
    """All turns' cards, the newest first, each under its question."""
    if not turns:
        return f'<p class="kb-empty">{_h(ui(language, "sources_empty"))}</p>'
    sections = []
    for t in reversed(turns):
        heading = ui(language, "sources_cited" if t.get("final") else "sources_found")
        sections.append(f'<section class="kb-turn" aria-label="{_h(heading)}">'
                        f'<h3>{_h(heading)}: <q>{_h(t["question"])}</q></h3>{t["cards"]}</section>')
    return "".join(sections)


def sources_footer(answer, turn: int, language: str) -> str:  # noqa: ANN001 - kb.answer.Answer
    """A short list under the answer linking each citation to its card (useful on a phone)."""
    if not answer.citations:
        return ""
    items = []
    for c in answer.citations:
        where = _location(c.page, None, "", language)
        label = f"{c.title}{', ' + where if where else ''}"
        items.append(f"[\\[{c.n}\\]](#{card_id(turn, c.n)}) {escape_text(label)}")
    return f"\n\n**{escape_text(ui(language, 'sources_label'))}:** " + " · ".join(items)
