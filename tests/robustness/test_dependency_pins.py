"""Dependencies stay on versions without known vulnerabilities (issue 8, item 6).

Both the lower bounds declared in ``pyproject.toml`` (what a fresh install may resolve to) and
the versions installed here (what actually runs) must be at or above the first fixed release.
Why these two: they read untrusted input. Gradio serves the app (before 6.16.0 its file
explorer joined caller-controlled path segments: path traversal, GHSA-j36p-7w88-g82j). pypdf
parses uploaded PDFs (releases before 6.16.1 have published denial-of-service advisories for
crafted outlines and XForm-heavy pages, CVE-2026-84310/84311; earlier 6.x releases fixed
further crafted-PDF memory and loop issues). Raise a minimum here when a new advisory lands.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from kb.config import PROJECT_ROOT

SAFE_MINIMUM = {"gradio": "6.16", "pypdf": "6.16.1"}


def declared() -> dict[str, Requirement]:
    data = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = [Requirement(r) for r in data["project"]["dependencies"]]
    return {r.name.lower(): r for r in requirements}


def _just_below(minimum: Version) -> list[Version]:
    """Versions a bound must exclude: the previous patch/minor releases and pre-releases of the minimum."""
    major, minor, micro = (list(minimum.release) + [0, 0])[:3]
    below = [Version(f"{major}.{minor}.{micro}rc1"), Version(f"{major}.{max(minor - 1, 0)}.99")]
    if micro:
        below.append(Version(f"{major}.{minor}.{micro - 1}"))
    return [v for v in below if v < minimum]


def unsafe(requirement: Requirement, minimum: Version) -> str | None:
    """Why ``requirement`` may resolve to a version below ``minimum``, or None when it cannot."""
    lower = [Version(s.version) for s in requirement.specifier if s.operator in (">=", ">", "==", "~=", "===")]
    if not lower:
        return f"{requirement} has no lower bound"
    if max(lower) < minimum:
        return f"{requirement} allows versions below {minimum}"
    admitted = [str(v) for v in _just_below(minimum) if requirement.specifier.contains(v, prereleases=True)]
    return f"{requirement} admits {', '.join(admitted)}" if admitted else None


@pytest.mark.parametrize("name", sorted(SAFE_MINIMUM))
def test_declared_lower_bound_is_safe(name: str) -> None:
    requirement = declared().get(name)
    assert requirement is not None, f"{name} is no longer a declared dependency; update SAFE_MINIMUM"
    assert unsafe(requirement, Version(SAFE_MINIMUM[name])) is None


@pytest.mark.parametrize("name", sorted(SAFE_MINIMUM))
def test_installed_version_is_safe(name: str) -> None:
    try:
        installed = Version(version(name))
    except PackageNotFoundError:
        pytest.fail(f"{name} is not installed")
    assert installed >= Version(SAFE_MINIMUM[name]), f"{name} {installed} is installed; at least {SAFE_MINIMUM[name]} is safe"


def test_the_check_catches_a_drifted_pin() -> None:
    minimum = Version("6.16.1")
    for drifted in ("pypdf>=6.16.0,<8", "pypdf>=6,<8", "pypdf", "pypdf<8", "pypdf~=6.15", "pypdf>6.16"):
        assert unsafe(Requirement(drifted), minimum), drifted
    for fine in ("pypdf>=6.16.1,<8", "pypdf>=7", "pypdf==7.1.1"):
        assert unsafe(Requirement(fine), minimum) is None, fine
