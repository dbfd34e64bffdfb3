"""The corpus manifest: every document described, found, and cited documents linked."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SHARED, needs_mirror

from kb.config import PROJECT_ROOT
from kb.manifest import ManifestError, load_manifest, locate

CORPUS = PROJECT_ROOT / "corpus"


def test_project_manifest_is_complete() -> None:
    sources = {s.id: s for s in load_manifest(CORPUS)}
    assert all(s.from_manifest for s in sources.values()), "every file in corpus/ has a manifest entry"
    for s in sources.values():
        assert s.title and s.kind and s.language in ("sv", "en") and s.date and s.publisher
        assert s.url.startswith("https://"), s.id
    with_text = {i for i, s in sources.items() if s.has_text}
    assert with_text == {"plan", "sou-2016-13", "sou-2016-13-full", "sou-2016-78", "sou-2019-56", "sou-2019-56-en",
                         "sou-2019-56-full"}
    cited_only = {s.kind for s in sources.values() if not s.has_text}
    assert {"proposition", "ds", "skrivelse", "eu", "regional", "strategy"} <= cited_only
    assert sources["plan"].ocr and sources["plan"].pages == "leading-space"


@needs_mirror
def test_every_listed_file_is_found_through_the_mirror() -> None:
    for s in load_manifest(CORPUS):
        if s.has_text:
            path, tried = locate(s, CORPUS, SHARED)
            assert path is not None, (s.id, tried)


def test_missing_mirror_reports_where_it_looked(tmp_path: Path) -> None:
    s = next(s for s in load_manifest(CORPUS) if s.id == "sou-2016-78")
    path, tried = locate(s, CORPUS, tmp_path / "nowhere")
    assert path is None and tried and all(isinstance(p, Path) for p in tried)


@pytest.mark.parametrize("text,message", [
    ('[[document]]\ntitle = "x"\n', "needs an 'id'"),
    ('[[document]]\nid = "Bad Id"\ntitle = "x"\n', "must be lower-case"),
    ('[[document]]\nid = "a"\ntitle = "x"\n[[document]]\nid = "a"\ntitle = "y"\n', "duplicate ids: a"),
    ("[[document]\n", "sources.toml"),
])
def test_bad_manifests_are_explained(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "sources.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError, match=message):
        load_manifest(tmp_path)


def test_unlisted_files_get_derived_metadata(tmp_path: Path) -> None:
    (tmp_path / "Mötesanteckningar 2026.md").write_text("# Möte\n\nText.\n", encoding="utf-8")
    (tmp_path / "ignored.docx").write_bytes(b"x")
    sources = load_manifest(tmp_path)
    assert [(s.id, s.title, s.from_manifest) for s in sources] == [
        ("m-tesanteckningar-2026", "Mötesanteckningar 2026", False)]
