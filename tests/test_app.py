"""The app's construction without a browser: the empty-index banner, admin presence, served paths."""

from __future__ import annotations

from dataclasses import replace

import app
from kb.config import PROJECT_ROOT


def _component(blocks, elem_id: str):  # noqa: ANN001, ANN202
    return next((b for b in blocks.blocks.values() if getattr(b, "elem_id", None) == elem_id), None)


def test_empty_index_shows_what_to_run(settings) -> None:  # noqa: ANN001
    blocks = app.build_app(replace(settings, answer_mode="extractive"))
    banner = _component(blocks, "kb-no-index")
    assert banner.visible and "kb ingest" in banner.value
    assert _component(blocks, "kb-admin-password") is None  # no password configured: no admin at all


def test_with_index_no_banner_and_admin_only_with_password(small_index) -> None:  # noqa: ANN001
    blocks = app.build_app(small_index)
    assert not _component(blocks, "kb-no-index").visible
    with_admin = app.build_app(replace(small_index, admin_password="hemligt"))
    assert _component(with_admin, "kb-admin-password") is not None


def test_launch_blocks_our_directories(settings) -> None:  # noqa: ANN001
    kwargs = app.launch_kwargs(settings)
    blocked = set(kwargs["blocked_paths"])
    for path in (PROJECT_ROOT, settings.data_dir, settings.corpus_dir, settings.models_dir):
        assert str(path.resolve()) in blocked
    assert kwargs["allowed_paths"] == [] and kwargs["server_name"] == "127.0.0.1"
    assert kwargs["max_file_size"] == f"{settings.max_file_mb}mb"
