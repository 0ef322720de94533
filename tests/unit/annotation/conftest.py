"""Fixtures for the suggestion tests: services in each mode, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotation.suggest import SuggestConfig, SuggestionService
from annotation.suggest.dates import ReignCalendar


@pytest.fixture(scope="session")
def sanmiao_calendar() -> ReignCalendar:
    """The reign calendar that ships with sanmiao (no CBDB)."""
    return ReignCalendar(None)


@pytest.fixture(scope="session")
def patterns_service(tmp_path_factory, sanmiao_calendar) -> SuggestionService:
    """No ../shared, no model: 《…》 and dates only (what a fresh checkout can do)."""
    home = tmp_path_factory.mktemp("home-patterns")
    return SuggestionService(SuggestConfig(home=home, shared_dir=None), calendar=sanmiao_calendar)


@pytest.fixture(scope="session")
def rules_service(tmp_path_factory, shared_dir: Path) -> SuggestionService:
    home = tmp_path_factory.mktemp("home-rules")
    return SuggestionService(SuggestConfig(home=home, shared_dir=shared_dir, use_model=False))


@pytest.fixture(scope="session")
def dev_sentences(shared_dir: Path):
    from annotation.suggest.corpus import read_conll

    path = shared_dir / "corpus" / "chisiec" / "ner_dev.txt"
    if not path.is_file():
        pytest.fail(f"CHisIEC dev set missing at {path}")
    return read_conll(path)
