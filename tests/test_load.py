"""Loaders: every supported format becomes headings and paragraphs with pages where known."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PLAN_FILE, SHARED, needs_mirror
from pdfgen import make_pdf

from ingest.load import LoadError, load_document


def test_pdf_pages_and_swedish_letters(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "plan.pdf", [
        ["Föreningsstöd i Örebro län", "Civilsamhällets organisationer är självständiga aktörer som",
         "bidrar till länets utveckling. Regionen ger långsiktigt stöd."],
        ["Internationell samverkan", "Föreningar kan söka stöd för internationella projekt och nätverk",
         "tillsammans med utländska partner."],
        ["Uppföljning", "Planen följs upp årligen av kulturnämnden."],
    ], title="Testplan")
    doc = load_document(pdf)
    assert doc.pages == 3
    assert doc.title == "Testplan"
    headings = [(b.text, b.page) for b in doc.blocks if b.kind == "heading"]
    assert headings == [("Föreningsstöd i Örebro län", 1), ("Internationell samverkan", 2), ("Uppföljning", 3)]
    paras = [b for b in doc.blocks if b.kind == "para"]
    assert paras[0].text.startswith("Civilsamhällets organisationer är självständiga aktörer som bidrar")
    assert [p.page for p in paras] == [1, 2, 3]


def test_plan_text_pages_and_headings() -> None:
    doc = load_document(PLAN_FILE, page_mode="leading-space")
    assert doc.pages == 12
    labels = [(b.level, b.label) for b in doc.blocks if b.kind == "heading"]
    assert labels[0] == (1, "Sammanfattning")
    assert [lab for lvl, lab in labels if lvl == 1 and lab.lower().startswith("insatsomr")] == [
        "Insatsomrade 1", "Insatsomrade 2", "Insatsomrade 3", "Insatsomrade 4"]
    # headings set directly above their text (no blank line) are still found
    assert any(lab == "Grundlaggande principer" for _, lab in labels)
    # a paragraph running over a page break keeps both pages
    assert any(b.page != b.page_end for b in doc.blocks if b.kind == "para")


def test_text_without_page_marks_has_no_pages(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("Rubrik\n\n Ett stycke som börjar med mellanslag.\n\nEtt till stycke.\n", encoding="utf-8")
    doc = load_document(f)
    assert doc.pages == 0 and all(b.page is None for b in doc.blocks)


def test_form_feeds_are_pages(tmp_path: Path) -> None:
    f = tmp_path / "paged.txt"
    f.write_text("Första sidan har text.\n\fAndra sidan har också text.\n", encoding="utf-8")
    doc = load_document(f)
    assert doc.pages == 2
    assert [b.page for b in doc.blocks] == [1, 2]


def test_markdown_headings(tmp_path: Path) -> None:
    f = tmp_path / "guide.md"
    f.write_text("# Guide\n\nIntro text här.\n\n## Bidrag\n\n- första punkten\n- andra punkten\n\n### Detaljer\n\nMer.\n",
                 encoding="utf-8")
    doc = load_document(f)
    assert [(b.level, b.text) for b in doc.blocks if b.kind == "heading"] == [(1, "Guide"), (2, "Bidrag"), (3, "Detaljer")]
    assert "• första punkten\n• andra punkten" in doc.text
    assert doc.title == "Guide"


@needs_mirror
def test_sou_html_heading_levels_from_numbers() -> None:
    doc = load_document(SHARED / "sou" / "sou-2016-13-fulltext.html")
    assert doc.title == "Palett för ett stärkt civilsamhälle"
    levels = {b.text.split()[0]: b.level for b in doc.blocks if b.kind == "heading" and b.text[:1].isdigit()}
    assert levels["2"] == 1 and levels["2.1"] == 2 and levels["2.1.1"] == 3
    # paragraph numbers of law proposals are not headings
    assert not any(b.kind == "heading" and b.text.startswith("2 kap.") for b in doc.blocks)
    assert "\uf0b7" not in doc.text and "•" in doc.text
    # entities are decoded
    assert "civilsamhälle" in doc.text and "&auml;" not in doc.text


def test_html_generic(tmp_path: Path) -> None:
    f = tmp_path / "page.html"
    f.write_text("<html><head><title>x</title><style>p{}</style></head><body><h1>Titel</h1><h2>Del A</h2>"
                 "<p>Text &amp; mer text.</p><script>alert(1)</script><h3>Under</h3><ul><li>ett</li></ul></body></html>",
                 encoding="utf-8")
    doc = load_document(f)
    assert doc.title == "Titel"
    assert [(b.level, b.text) for b in doc.blocks if b.kind == "heading"] == [(1, "Del A"), (2, "Under")]
    assert "alert" not in doc.text and "Text & mer text." in doc.text and "• ett" in doc.text


@pytest.mark.parametrize("name,content,reason", [
    ("empty.txt", b"", "empty"),
    ("fake.pdf", b"this is not a pdf at all", "not a PDF"),
    ("truncated.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", "not a readable PDF"),
    ("image.png", b"\x89PNG\r\n", "unsupported file type"),
    ("binary.txt", b"\x00\x01\x02binary", "binary"),
])
def test_unusable_files_give_reasons(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(LoadError, match=reason):
        load_document(f)


def test_limits(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "many.pdf", [["Sida med text."]] * 5)
    with pytest.raises(LoadError, match="more than the limit of 3"):
        load_document(pdf, max_pages=3)
    big = tmp_path / "big.txt"
    big.write_text("ord " * 300_000, encoding="utf-8")
    with pytest.raises(LoadError, match="KB_MAX_FILE_MB"):
        load_document(big, max_bytes=1_000_000)


def test_non_utf8_text_is_read(tmp_path: Path) -> None:
    f = tmp_path / "latin.txt"
    f.write_bytes("Föreningar i länet får stöd.".encode("cp1252"))
    assert "Föreningar i länet får stöd." in load_document(f).text
