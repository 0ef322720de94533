"""The installed `guji` command finds every package of the project, not only the checkout does.

Tests run from the repository root, where every top-level package is importable from the working
directory; an installed command run anywhere else finds only what pyproject.toml lists. A new
top-level package missing there broke `guji serve` outside the checkout (ModuleNotFoundError:
organisations) while every test passed.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_SHIPPED = {"tests", "bench", "scripts"}


def test_every_top_level_package_is_listed_in_pyproject():
    include = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name not in NOT_SHIPPED)
    assert packages, "no packages found"
    missing = [p for p in packages if not any(fnmatch.fnmatch(p, pattern) for pattern in include)]
    assert not missing, f"top-level packages not installed by pyproject.toml: {missing}"

