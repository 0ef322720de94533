"""Shared test fixtures.

Real data lives in ``../shared`` beside the project (never copied into it). Tests that need it
are skipped with a clear reason when it is absent, except under ``CI=true`` where its absence is
a failure: CI always has it, so a skip there would hide a broken setup.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GUJI_SHARED", ROOT.parent / "shared")).resolve()
IN_CI = os.environ.get("CI", "").lower() == "true"
# a `guji serve --sample` a test starts must not build the suggestion model in the background
# (minutes of both cores); the tests of that feature ask for it explicitly
os.environ.setdefault("GUJI_SUGGEST_AUTO_TRAIN", "false")

pytest_plugins = ["tests._services"]


def require(condition: bool, reason: str) -> None:
    """Skip when a real resource is missing; under CI=true that is a failure instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    require(SHARED.is_dir(), f"real data not found at {SHARED} (put the shared/ folder beside the project or set GUJI_SHARED)")
    return SHARED


@pytest.fixture(scope="session")
def kanripo_dir(shared_dir: Path) -> Path:
    path = shared_dir / "corpus" / "kanripo"
    require(path.is_dir(), f"Kanripo corpus not found at {path}")
    return path


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT
