"""The README's configuration table documents every setting (docs checked by tests, as datasette does).

Design choice: the variable names are read from ``kb/config.py``'s source, the one place settings
are read from the environment, so a new ``KB_*`` variable without a README row fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_environment_variable_has_a_row_in_the_readme() -> None:
    names = set(re.findall(r'"(KB_[A-Z0-9_]+)"', (ROOT / "kb" / "config.py").read_text(encoding="utf-8")))
    assert len(names) >= 30
    table = "\n".join(line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
                      if line.startswith("| `KB_"))
    missing = sorted(n for n in names if f"`{n}`" not in table)
    assert not missing, f"settings without a README row: {missing}"
