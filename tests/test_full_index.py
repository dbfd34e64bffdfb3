"""The real, full index built by the set-up (`scripts/setup.sh`): every document, right shape.

Runs against the default configuration (KB_* from the environment). `scripts/test.sh` sets
KB_FULL_INDEX=1 so that a missing index fails; run alone, without it, these tests skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def full_stats() -> dict:
    out = subprocess.run([sys.executable, "-m", "kb.cli", "stats", "--json"], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    if not data["documents"] and not os.environ.get("KB_FULL_INDEX"):
        pytest.skip("no full index here; scripts/test.sh builds it")
    return data


def test_whole_corpus_is_indexed(full_stats: dict) -> None:
    docs = {d["doc_id"]: d for d in full_stats["documents"]}
    assert len(docs) >= 5
    assert {"plan", "sou-2016-13", "sou-2016-13-full", "sou-2016-78", "sou-2019-56", "sou-2019-56-en",
            "sou-2019-56-full"} <= set(docs)
    assert docs["plan"]["pages"] == 12
    assert docs["sou-2019-56-en"]["language"] == "en" and docs["plan"]["language"] == "sv"
    assert docs["sou-2016-13-full"]["chunks"] > 500
    assert full_stats["chunks"] == sum(d["chunks"] for d in docs.values())


def test_rerun_on_unchanged_corpus_is_quick(full_stats: dict) -> None:
    out = subprocess.run([sys.executable, "-m", "kb.cli", "ingest", "--json", "--quiet"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert {d["status"] for d in report["documents"]} == {"unchanged"}
    assert report["seconds"] < 15
