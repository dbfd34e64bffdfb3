"""Admin rules: upload names cannot escape the uploads folder, files are validated, logins are limited."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kb import admin
from kb.config import Settings


@pytest.mark.parametrize(("name", "expected"), [
    ("Kulturföreningen Blåklockans årsplan 2026.txt", "Kulturföreningen-Blåklockans-årsplan-2026.txt"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\evil.PDF", "evil.pdf"),
    ("/abs/path/to/notes.md", "notes.md"),
    (".hidden.md", "hidden.md"),
    ("a b/../c.htm", "c.html"),
    ("...txt.txt", "txt.txt"),
    ("<script>.html", "script.html"),
    ("x..md", "x.md"),
])
def test_safe_names(name: str, expected: str) -> None:
    assert admin.safe_name(name) == expected


@pytest.mark.parametrize("name", ["evil.exe", "archive.pdf.zip", "noext", "", "../", ".pdf"])
def test_unsupported_names_are_refused(name: str) -> None:
    with pytest.raises(admin.UploadError) as err:
        admin.safe_name(name)
    assert "stöds inte" in err.value.message("sv") and "not supported" in err.value.message("en")


def _settings(tmp_path, **kw) -> Settings:  # noqa: ANN001
    return replace(Settings(), data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus", **kw)


def test_store_upload_validates_and_keeps_names_unique(tmp_path) -> None:  # noqa: ANN001
    from pdfgen import make_pdf

    settings = _settings(tmp_path, max_pages=3)
    src = tmp_path / "in"
    src.mkdir()
    text = src / "a.txt"
    text.write_text("Föreningen ordnar läger.", encoding="utf-8")
    first = admin.store_upload(text, "Årsplan.txt", settings)
    second = admin.store_upload(text, "årsplan.md".replace(".md", ".txt"), settings)
    assert first.path.parent == tmp_path / "data" / "uploads"
    assert first.doc_id != second.doc_id and second.path.name == "årsplan-2.txt"
    assert set(admin.uploaded_documents(settings)) == {first.doc_id, second.doc_id}

    fake = src / "fake.pdf"
    fake.write_text("not a pdf")
    empty = src / "empty.txt"
    empty.write_bytes(b"")
    binary = src / "bin.txt"
    binary.write_bytes(b"\x00\x01\x02" * 10)
    many = src / "many.pdf"
    make_pdf(many, [["sida"]] * 5)
    for path, sv in [(fake, "ingen PDF"), (empty, "tom"), (binary, "inte ut att vara text"), (many, "för många sidor")]:
        with pytest.raises(admin.UploadError) as err:
            admin.store_upload(path, path.name, settings)
        assert sv in err.value.message("sv")
    big = src / "big.txt"
    big.write_bytes(b"a" * (1024 * 1024 + 1))
    with pytest.raises(admin.UploadError, match="too large"):
        admin.store_upload(big, "big.txt", replace(settings, max_file_mb=1))
    assert len(admin.uploaded_documents(settings)) == 2  # nothing refused was stored

    removed = admin.remove_upload(first.doc_id, settings)
    assert not removed.exists() and set(admin.uploaded_documents(settings)) == {second.doc_id}
    with pytest.raises(admin.UploadError):
        admin.remove_upload("plan", settings)  # only uploads can be removed


def test_login_guard_locks_out_after_failures() -> None:
    guard = admin.LoginGuard("hemligt", max_attempts=3, lockout_s=0.5)
    assert not guard.check("1.2.3.4", "fel")
    assert not guard.check("1.2.3.4", "fel")
    assert guard.check("1.2.3.4", "hemligt")  # success resets the count
    for _ in range(3):
        assert not guard.check("1.2.3.4", "fel")
    assert guard.locked_for("1.2.3.4") > 0
    assert not guard.check("1.2.3.4", "hemligt")  # right password, but locked out
    assert guard.check("5.6.7.8", "hemligt")  # other clients are unaffected
    import time

    time.sleep(0.6)
    assert guard.check("1.2.3.4", "hemligt")


def test_no_password_means_no_login() -> None:
    guard = admin.LoginGuard(None, 3, 10)
    assert not guard.check("x", "")
    assert not guard.check("x", "anything")
