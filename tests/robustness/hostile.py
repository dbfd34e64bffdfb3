"""Hostile and broken input files, generated on the fly (nothing crafted is committed).

Why a raw writer next to ``tests/pdfgen.py``: the attacks need structures no PDF library
will write on purpose (objects that point at themselves, a page tree that contains itself, a
``/Count`` that lies, a stream that inflates to a gigabyte), so each file is assembled from
numbered object bodies with a correct cross-reference table, and the lie is in the bodies.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from pdfgen import make_pdf

FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def _escape(line: str) -> bytes:
    raw = line.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_ops(lines: list[str], color: bytes = b"0 g", y: int = 770) -> bytes:
    """A content-stream fragment drawing ``lines`` top-down in ``color`` (``1 g`` is white)."""
    ops = [color + b" BT /F1 11 Tf 14 TL 72 %d Td" % y]
    ops += [b"(" + _escape(line) + b") Tj T*" for line in lines]
    ops.append(b"ET")
    return b"\n".join(ops)


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def raw_pdf(path: Path, objects: dict[int, bytes], root: int = 1, xref: bool = True) -> Path:
    """Write objects {number: body} with a valid xref table (unless ``xref`` is False)."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for n in sorted(objects):
        offsets[n] = len(out)
        out += b"%d 0 obj\n" % n + objects[n] + b"\nendobj\n"
    size = max(objects) + 1
    start = len(out)
    if xref:
        out += b"xref\n0 %d\n0000000000 65535 f \n" % size
        for n in range(1, size):
            out += (b"%010d 00000 n \n" % offsets[n]) if n in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, start)
    path.write_bytes(bytes(out))
    return path


def one_page(path: Path, content: bytes, content_dict_extra: bytes = b"") -> Path:
    """A one-page PDF whose page content stream is ``content`` (already encoded as given)."""
    return raw_pdf(path, {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
           b"/Resources << /Font << /F1 5 0 R >> >> >>",
        4: stream(content, content_dict_extra),
        5: FONT,
    })


# --------------------------------------------------------------------------- the attacks


def flate_zeros(n_bytes: int) -> bytes:
    """``n_bytes`` of zeros, deflated (1 GB becomes about 1 MB), without holding 1 GB in memory."""
    comp = zlib.compressobj(9)
    block = bytes(1 << 20)
    parts = [comp.compress(block) for _ in range(n_bytes >> 20)]
    parts.append(comp.compress(bytes(n_bytes & ((1 << 20) - 1))))
    parts.append(comp.flush())
    return b"".join(parts)


def decompression_bomb(path: Path, gigabytes: float = 1.0) -> Path:
    """One content stream that inflates to ``gigabytes`` GB of zeros."""
    return one_page(path, flate_zeros(int(gigabytes * (1 << 30))), b"/Filter /FlateDecode ")


def many_stream_bomb(path: Path, pages: int = 40, mb_per_page: int = 60) -> Path:
    """Many pages, each with a stream just under pypdf's per-stream cap (75 MB): no single
    stream trips a limit, the total work is what hurts."""
    data = flate_zeros(mb_per_page << 20)
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 3: FONT, 4: stream(data, b"/Filter /FlateDecode ")}
    kids = []
    for i in range(pages):
        n = 5 + i
        objects[n] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                      b"/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(b"%d 0 R" % n)
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), pages)
    return raw_pdf(path, objects)


def self_referencing(path: Path) -> Path:
    """The page's /Contents is an object that is a reference to itself."""
    return raw_pdf(path, {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        4: b"4 0 R",
    })


def cyclic_page_tree(path: Path) -> Path:
    """A /Pages node whose kids include itself (and a page that is its own parent)."""
    return raw_pdf(path, {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R 2 0 R 4 0 R] /Count 3 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R "
           b"/Resources << /Font << /F1 6 0 R >> >> >>",
        4: b"<< /Type /Pages /Parent 4 0 R /Kids [4 0 R] /Count 1 >>",
        5: stream(text_ops(["Text i en trasig sidträdsstruktur."])),
        6: FONT,
    })


def lying_page_count(path: Path, claimed: int = 100_000) -> Path:
    """One real page; the page tree claims ``claimed`` pages."""
    return raw_pdf(path, {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count %d >>" % claimed,
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
           b"/Resources << /Font << /F1 5 0 R >> >> >>",
        4: stream(text_ops(["Bara en sida finns egentligen."])),
        5: FONT,
    })


def many_pages(path: Path, n: int) -> Path:
    """A real PDF with ``n`` pages that all share one small content stream."""
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 3: FONT,
               4: stream(text_ops(["Sida."]))}
    kids = []
    for i in range(n):
        objects[5 + i] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                          b"/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(b"%d 0 R" % (5 + i))
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), n)
    return raw_pdf(path, objects)


def long_page(path: Path, chars: int) -> Path:
    """One page carrying about ``chars`` characters of (Swedish) text in small type."""
    sentence = "Föreningen ordnar läxhjälp och språkcafé för nyanlända i kommunen. "
    lines = [sentence * 2] * (chars // (2 * len(sentence)) + 1)
    return one_page(path, text_ops(lines))


def truncated(path: Path, fraction: float = 0.5) -> Path:
    """A good PDF cut off part-way."""
    good = make_pdf(path, [["Rubrik", "Första sidans text om föreningar."], ["Andra sidan."]])
    data = good.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def corrupt(path: Path) -> Path:
    """A good PDF with its middle overwritten by noise (objects and xref damaged)."""
    good = make_pdf(path, [["Rubrik", "Text som ska bli oläslig."]] * 3)
    data = bytearray(good.read_bytes())
    mid = len(data) // 3
    data[mid:mid + len(data) // 3] = bytes((i * 37 + 11) % 256 for i in range(len(data) // 3))
    path.write_bytes(bytes(data))
    return path


def encrypted(path: Path, user_password: str = "hemligt", owner_password: str = "ägare") -> Path:
    """An AES/RC4-encrypted PDF (pypdf's default algorithm); empty user password opens it."""
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf(path.with_suffix(".plain.pdf"), [["Krypterad rubrik", "Hemlig text om föreningsstöd."]])
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="RC4-128")
    with open(path, "wb") as fh:
        writer.write(fh)
    plain.unlink()
    return path


def white_text_pdf(path: Path, visible: list[str], hidden: list[str]) -> Path:
    """A page with visible black text and, below it, white (invisible) text."""
    content = text_ops(visible) + b"\n" + text_ops(hidden, color=b"1 1 1 rg", y=400)
    return one_page(path, content)
