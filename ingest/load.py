"""Loaders: turn a .txt, .md, .html or .pdf file into a list of structural blocks.

Design choices:
- Every loader returns the same thing, a list of ``Block`` (heading or paragraph, with page
  numbers where the format has them), so chunking knows nothing about file formats.
- Heading levels come from the text itself where formats flatten them: the SOU HTML has only
  flat h2 headings, so "4", "4.1", "4.1.1" give levels 1–3, and an unnumbered heading sits
  one level below the last numbered one. Paragraph numbers inside law proposals ("2 kap.")
  are not headings. Over-long headings (two run together) keep a short label and their full
  text is kept as a paragraph, so nothing is lost.
- Plain text has no markup, so headings are recognised by shape (short, no final
  punctuation, starts with a capital); "Insatsområde 1", "Kapitel 2" … open a part whose
  following headings are one level down, which gives paths like
  ``Insatsområde 2 › Verka för att utveckla de offentliga föreningsstöden``.
- Pages: PDF pages one at a time (pypdf), form feeds in text, and the plan's own convention
  (a line starting with a single space begins a new page) when the manifest says so.
- OCR repair is passed in as a function and applied to the raw text before structure is
  read, so headings and page markers are found in repaired text.
- Limits (file size, pages, characters per document) are explicit and raise ``LoadError`` with a
  reason a user can act on. Damage that leaves most of a document usable does not: an
  unreadable PDF page is left out, a page with an absurd amount of text (hidden text, garbage)
  is cut at ``max_page_chars``, a few bytes of broken UTF-8 are replaced; each is recorded in
  ``LoadedDocument.warnings`` for the ingest report. Time and memory limits are not here: a
  parser stuck inside pypdf cannot police itself, so ``ingest.sandbox`` runs loading in a
  limited worker process.
- pypdf (>= 6.16.1) already refuses the classic bombs: streams that inflate past 75 MB,
  self-referencing objects, cyclic page trees. We rely on that and turn its errors and its
  repair warnings into reasons.
"""

from __future__ import annotations

import html
import logging
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

Repair = Callable[[str], str]

BULLET_GLYPHS = "\uf0b7•▪◦●·"
_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+(\S.*)$")
_LAW_PARAGRAPH = re.compile(r"^\d+\s*(kap|§)\.?(\s|$)", re.IGNORECASE)
_PART_HEADING = re.compile(
    r"^(insatsomr[aå]de|kapitel|avsnitt|del|bilaga|chapter|part|section)\s+\d+\b", re.IGNORECASE
)
_LABEL = re.compile(r"^(\w+\s+\d+)\s*[:.–-]\s+\S")
_LIST_ITEM = re.compile(r"^(\d+[.)]|[a-z][.)])\s+[a-zåäö]")
MAX_HEADING_CHARS = 160
LABEL_CHARS = 90


class LoadError(ValueError):
    """The file cannot be read as a document; the message is shown to the user."""


@dataclass
class Block:
    kind: str  # "heading" | "para"
    text: str
    level: int = 0
    page: int | None = None
    page_end: int | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if self.page_end is None:
            self.page_end = self.page
        if self.kind == "heading" and not self.label:
            self.label = heading_label(self.text)


@dataclass
class LoadedDocument:
    blocks: list[Block]
    pages: int = 0  # 0 when the format has no pages
    title: str | None = None  # from the document itself (h1, PDF metadata)
    warnings: list[str] = field(default_factory=list)  # what was left out or repaired, for the report
    damaged: bool = False  # parts of the file could not be read
    cut: bool = False  # text was left out because of a limit (KB_MAX_PAGE_CHARS)

    @property
    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)


def heading_label(text: str) -> str:
    """The short form of a heading used in section paths ("Insatsområde 2")."""
    m = _LABEL.match(text)
    if m and _PART_HEADING.match(text):
        return m.group(1)
    if len(text) <= LABEL_CHARS:
        return text
    cut = text[:LABEL_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


def numbered_level(text: str) -> int | None:
    m = _NUMBERED.match(text)
    if not m or not m.group(2)[:1].isalpha():
        return None
    return m.group(1).count(".") + 1


def clean_inline(text: str) -> str:
    text = text.replace("\uf0b7", "•").replace("\u00ad", "").replace("\xa0", " ")
    return re.sub(r"[ \t]+", " ", text).strip()


# --------------------------------------------------------------------------- plain text


def _split_pages(text: str, page_mode: str | None) -> list[tuple[int | None, str]]:
    """(page, line) pairs; page is None when the text has no page marks."""
    if "\f" in text:
        out = []
        for n, page in enumerate(text.split("\f"), 1):
            out += [(n, line) for line in page.split("\n")]
        return out
    lines = text.split("\n")
    if page_mode != "leading-space":
        return [(None, line) for line in lines]
    out, page = [], 1
    for i, line in enumerate(lines):
        if i > 0 and re.match(r"^ \S", line):
            page += 1
        out.append((page, line))
    return out


def _join_lines(lines: list[str]) -> str:
    """Unwrap a paragraph: join lines, undo end-of-line hyphenation, keep bullets on their own line."""
    out = ""
    for raw in lines:
        line = clean_inline(raw)
        if not line:
            continue
        if not out:
            out = line
        elif line[0] in BULLET_GLYPHS:
            out += "\n" + line
        elif out.endswith("-") and len(out) > 1 and out[-2].isalpha() and line[0].islower():
            out = out[:-1] + line
        else:
            out += " " + line
    return out


def looks_like_heading(text: str, n_lines: int) -> bool:
    if not text or n_lines > 3 or len(text) > MAX_HEADING_CHARS or "\n" in text:
        return False
    if text[-1] in ".,;:!?" or text[0] in BULLET_GLYPHS or text[0] in "(-–—\"'|":
        return False
    if _LIST_ITEM.match(text) or _LAW_PARAGRAPH.match(text):
        return False
    if not (text[0].isupper() or text[0].isdigit()):
        return False
    words = text.split()
    if len(words) > 22 or len(text) < 3:
        return False
    letters = sum(c.isalpha() for c in text)
    return letters >= 0.6 * len(text.replace(" ", ""))


def _heading_lines(para: list[tuple[int | None, str]], width: int) -> int:
    """How many leading lines of a paragraph are a heading set directly above its text.

    A hard line break well short of the text width, followed by a capitalised line, ends a
    heading when the lines before it look like one.
    """
    if len(para) < 2 or width < 30:
        return 0
    for k in range(1, min(3, len(para) - 1) + 1):
        line = para[k - 1][1].strip()
        nxt = para[k][1].strip()
        if len(line) < 0.7 * width and nxt[:1].isupper():
            candidate = _join_lines([ln for _, ln in para[:k]])
            return k if looks_like_heading(candidate, k) else 0
    return 0


def parse_plain(text: str, page_mode: str | None = None, first_page: int | None = None) -> list[Block]:
    """Paragraphs and headings from plain text; pages from form feeds or the page mode."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paged = _split_pages(text, page_mode)
    if first_page is not None:
        paged = [(first_page, line) for _, line in paged]
    blocks: list[Block] = []
    para: list[tuple[int | None, str]] = []
    lengths = sorted(len(line.strip()) for _, line in paged if line.strip())
    width = lengths[math.ceil(0.9 * (len(lengths) - 1))] if lengths else 0
    # Text extracted from PDFs has no blank lines: a short line that ends a sentence ends a paragraph.
    soft_breaks = len(paged) > 1 and all(line.strip() for _, line in paged)

    def flush() -> None:
        if not para:
            return
        k = _heading_lines(para, width)
        if k:
            heading = _join_lines([line for _, line in para[:k]])
            blocks.append(Block("heading", heading, page=para[0][0], page_end=para[k - 1][0]))
            del para[:k]
        joined = _join_lines([line for _, line in para])
        if joined:
            kind = "heading" if looks_like_heading(joined, len(para)) else "para"
            blocks.append(Block(kind, joined, page=para[0][0], page_end=para[-1][0]))
        para.clear()

    for page, line in paged:
        if not line.strip():
            flush()
            continue
        if para and page != para[-1][0] and para[-1][1].rstrip()[-1:] in ".!?:":
            flush()  # a new page after a finished sentence starts a new paragraph
        para.append((page, line))
        stripped = line.strip()
        if soft_breaks and stripped[-1] in ".!?:" and len(stripped) < 0.8 * width:
            flush()
    flush()
    assign_levels(blocks)
    return blocks


def assign_levels(blocks: list[Block], base: int = 1) -> None:
    """Give headings levels: numbered by depth, parts open a level, others one below."""
    in_part = False
    last_numbered = 0
    for b in blocks:
        if b.kind != "heading":
            continue
        depth = numbered_level(b.text)
        if depth is not None:
            b.level = depth
            last_numbered = depth
        elif _PART_HEADING.match(b.text):
            b.level = base
            in_part = True
        elif last_numbered:
            b.level = last_numbered + 1
        else:
            b.level = base + 1 if in_part else base


def load_text(path: Path, repair: Repair | None = None, page_mode: str | None = None) -> LoadedDocument:
    text, notes = decode_text_report(path.read_bytes(), path.name)
    if repair:
        text = repair(text)
    blocks = parse_plain(text, page_mode)
    pages = max((b.page_end or 0 for b in blocks), default=0)
    return LoadedDocument(blocks, pages, warnings=notes)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
MAX_CONTROL_SHARE = 0.01  # more control characters than this: binary data, not text
MAX_BAD_UTF8_SHARE = 0.001  # up to 1 broken byte in 1,000: UTF-8 with a few bad bytes, not another encoding


def decode_text(data: bytes, name: str) -> str:
    return decode_text_report(data, name)[0]


def decode_text_report(data: bytes, name: str) -> tuple[str, list[str]]:
    """The text of a file and notes on how it was decoded; ``LoadError`` when it is not text.

    UTF-8 first (with or without a BOM), UTF-16 when a BOM says so, then Windows-1252 (old
    Swedish files). A file that is UTF-8 except for a few broken bytes (two files joined, a
    cut download) stays UTF-8 with the bytes replaced, rather than turning every å into "Ã¥".
    """
    notes: list[str] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise LoadError(f"{name}: marked as UTF-16 text but not valid UTF-16") from None
    elif b"\x00" in data[:4096]:
        raise LoadError(f"{name}: looks like a binary file, not text (if it is UTF-16 without a byte-order "
                        "mark, save it as UTF-8)")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            lenient = data.decode("utf-8", "replace").lstrip("\ufeff")
            bad = lenient.count("\ufffd") - data.count("\ufffd".encode())
            multibyte = sum(1 for c in lenient if ord(c) > 127) - bad
            if bad <= max(3, MAX_BAD_UTF8_SHARE * len(data)) and multibyte > bad:
                text = lenient
                notes.append(f"{bad} byte(s) were not valid UTF-8 and were replaced by \ufffd")
            else:
                try:
                    text = data.decode("cp1252")
                except UnicodeDecodeError:
                    text = data.decode("latin-1")
    controls = len(_CONTROL.findall(text))
    if controls > MAX_CONTROL_SHARE * len(text):
        raise LoadError(f"{name}: does not look like text ({controls} control characters); save it as UTF-8 text")
    return text, notes


# --------------------------------------------------------------------------- markdown

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def load_markdown(path: Path, repair: Repair | None = None) -> LoadedDocument:
    text, notes = decode_text_report(path.read_bytes(), path.name)
    if repair:
        text = repair(text)
    blocks: list[Block] = []
    para: list[str] = []
    in_code = False

    def flush() -> None:
        joined = _join_lines([re.sub(r"^\s*[-*+]\s+", "• ", line) for line in para])
        if joined:
            blocks.append(Block("para", joined))
        para.clear()

    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        m = None if in_code else _MD_HEADING.match(line)
        if m:
            flush()
            blocks.append(Block("heading", clean_inline(m.group(2)), level=len(m.group(1))))
        elif line.strip():
            para.append(line)
        else:
            flush()
    flush()
    title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    return LoadedDocument(blocks, 0, title, warnings=notes)


# --------------------------------------------------------------------------- html


class _HTMLBlocks(HTMLParser):
    BLOCK_TAGS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "div", "pre", "blockquote", "dd", "dt"}
    SKIP_TAGS = {"script", "style", "head", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[str, str]] = []
        self._buf: list[str] = []
        self._tag: str | None = None
        self._skip = 0

    def _flush(self) -> None:
        text = clean_inline(" ".join("".join(self._buf).split()))
        if text and self._tag:
            self.items.append((self._tag, text))
        self._buf = []

    def handle_starttag(self, tag: str, attrs) -> None:  # noqa: ANN001
        if tag in self.SKIP_TAGS:
            self._skip += 1
        elif tag in self.BLOCK_TAGS:
            self._flush()
            self._tag = tag
        elif tag == "br":
            self._buf.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCK_TAGS:
            self._flush()
            self._tag = "p"

    def handle_data(self, data: str) -> None:
        if not self._skip:
            if self._tag is None:
                self._tag = "p"
            self._buf.append(data)


def load_html(path: Path, repair: Repair | None = None) -> LoadedDocument:
    raw, notes = decode_text_report(path.read_bytes(), path.name)
    parser = _HTMLBlocks()
    parser.feed(raw)
    parser.close()
    parser._flush()
    blocks: list[Block] = []
    title = None
    last_numbered = 0
    for tag, text in parser.items:
        text = html.unescape(text)
        if repair:
            text = repair(text)
        if tag == "h1":
            title = title or text
            continue
        if tag in {"h2", "h3", "h4", "h5", "h6"}:
            if _LAW_PARAGRAPH.match(text):
                blocks.append(Block("para", text))
                continue
            depth = numbered_level(text)
            if depth is not None:
                level = last_numbered = depth
            elif last_numbered:
                level = last_numbered + 1
            else:
                level = int(tag[1]) - 1
            blocks.append(Block("heading", text, level=level))
            if len(text) > MAX_HEADING_CHARS:
                blocks.append(Block("para", text))
            continue
        prefix = "• " if tag == "li" and not text.startswith("•") else ""
        blocks.append(Block("para", prefix + text))
    return LoadedDocument(blocks, 0, title, warnings=notes)


# --------------------------------------------------------------------------- pdf


class _PypdfNotes(logging.Handler):
    """Collects pypdf's repair warnings ("Object 5 0 not defined") from this thread, in order."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            message = record.getMessage().strip()
            if message and message not in self.messages:
                self.messages.append(message)


def _pdf_error(exc: Exception) -> str:
    from pypdf.errors import LimitReachedError

    if isinstance(exc, LimitReachedError):
        return f"beyond pypdf's safety limits, possibly a decompression bomb ({exc})"
    return str(exc) or type(exc).__name__


def load_pdf(path: Path, repair: Repair | None = None, max_pages: int = 2000, max_page_chars: int | None = None,
             max_chars: int | None = None) -> LoadedDocument:
    """Pages of a PDF. Unreadable pages are left out and over-long page texts cut, with warnings;
    the document fails only when nothing is left or a limit on the whole is passed."""
    notes = _PypdfNotes()
    pypdf_log = logging.getLogger("pypdf")
    pypdf_log.addHandler(notes)
    propagate, pypdf_log.propagate = pypdf_log.propagate, False  # reported, not printed
    try:
        doc = _load_pdf(path, repair, max_pages, max_page_chars, max_chars)
    finally:
        pypdf_log.removeHandler(notes)
        pypdf_log.propagate = propagate
    if notes.messages:
        shown = "; ".join(notes.messages[:3]) + (f" (+{len(notes.messages) - 3} more)" if len(notes.messages) > 3 else "")
        doc.warnings.append(f"the PDF is damaged or unusual; pypdf repaired what it could: {shown}")
    return doc


def _load_pdf(path: Path, repair: Repair | None, max_pages: int, max_page_chars: int | None,
              max_chars: int | None) -> LoadedDocument:
    from pypdf import PdfReader

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as exc:  # noqa: BLE001 - pypdf raises several kinds here
                raise LoadError(f"{path.name}: the PDF is encrypted and cannot be opened ({exc})") from exc
            if not ok:
                raise LoadError(f"{path.name}: the PDF is password-protected")
        n_pages = len(reader.pages)
    except LoadError:
        raise
    except (RecursionError, MemoryError) as exc:
        raise LoadError(f"{path.name}: not a readable PDF (its structure is too deep or too large)") from exc
    except Exception as exc:  # noqa: BLE001 - a hostile file can make pypdf raise nearly anything
        raise LoadError(f"{path.name}: not a readable PDF ({_pdf_error(exc)})") from exc
    if n_pages > max_pages:
        raise LoadError(f"{path.name}: {n_pages} pages, more than the limit of {max_pages} (KB_MAX_PAGES)")
    blocks: list[Block] = []
    unreadable: list[str] = []
    cut: list[str] = []
    total = 0
    for number in range(1, n_pages + 1):
        try:
            text = reader.pages[number - 1].extract_text() or ""
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken page must not sink the document
            unreadable.append(f"page {number}: {_pdf_error(exc)}")
            continue
        if max_page_chars is not None and len(text) > max_page_chars:
            cut.append(f"{number} ({len(text):,} characters)")
            text = text[:max_page_chars].rsplit(None, 1)[0]
        total += len(text)
        if max_chars is not None and total > max_chars:
            raise LoadError(f"{path.name}: more than {max_chars:,} characters of text by page {number}, "
                            "the limit for one document (KB_MAX_DOC_CHARS)")
        if repair:
            text = repair(text)
        blocks += parse_plain(text, first_page=number)
    assign_levels(blocks)
    title = None
    try:
        meta = reader.metadata
        title = (meta.title or None) if meta else None
    except Exception:  # noqa: BLE001 - metadata is optional
        title = None
    if title is not None and not isinstance(title, str):
        title = None
    doc = LoadedDocument(blocks, n_pages, title)
    if unreadable:
        doc.damaged = True
        if not any(b.kind == "para" for b in blocks):
            raise LoadError(f"{path.name}: no text could be extracted ({'; '.join(unreadable[:3])})")
        doc.warnings.append(f"{len(unreadable)} of {n_pages} pages could not be read and are left out: "
                            + "; ".join(unreadable[:5]) + (" …" if len(unreadable) > 5 else ""))
    if cut:
        doc.cut = True
        doc.warnings.append(f"text cut at {max_page_chars:,} characters (KB_MAX_PAGE_CHARS) on page(s) "
                            + ", ".join(cut[:10]) + (" …" if len(cut) > 10 else ""))
    return doc


# --------------------------------------------------------------------------- dispatch


def load_document(path: Path, repair: Repair | None = None, page_mode: str | None = None,
                  max_bytes: int | None = None, max_pages: int = 2000, max_page_chars: int | None = None,
                  max_chars: int | None = None) -> LoadedDocument:
    """Load any supported file; raise ``LoadError`` with a reason when it cannot be used."""
    if not path.is_file():
        raise LoadError(f"{path.name}: file not found")
    size = path.stat().st_size
    if size == 0:
        raise LoadError(f"{path.name}: the file is empty")
    if max_bytes is not None and size > max_bytes:
        raise LoadError(f"{path.name}: {size / 1e6:.1f} MB, more than the limit of {max_bytes / 1e6:.0f} MB (KB_MAX_FILE_MB)")
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        with open(path, "rb") as fh:
            if not fh.read(1024).lstrip().startswith(b"%PDF"):
                raise LoadError(f"{path.name}: named .pdf but is not a PDF file")
        doc = load_pdf(path, repair, max_pages, max_page_chars, max_chars)
    elif suffix in (".html", ".htm"):
        doc = load_html(path, repair)
    elif suffix == ".md":
        doc = load_markdown(path, repair)
    elif suffix == ".txt":
        doc = load_text(path, repair, page_mode)
    else:
        raise LoadError(f"{path.name}: unsupported file type {suffix or '(none)'}; use .txt, .md, .html or .pdf")
    if not any(b.kind == "para" for b in doc.blocks):
        raise LoadError(f"{path.name}: no text could be extracted")
    chars = sum(len(b.text) for b in doc.blocks)
    if max_chars is not None and chars > max_chars:
        raise LoadError(f"{path.name}: {chars:,} characters of text, more than the limit of {max_chars:,} "
                        "for one document (KB_MAX_DOC_CHARS)")
    return doc
