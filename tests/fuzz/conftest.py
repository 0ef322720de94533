import pytest

SUMMARY = pytest.StashKey[list]()


def pytest_configure(config):
    config.stash[SUMMARY] = []


def pytest_terminal_summary(terminalreporter, config):
    """What the fuzz run sent (its fixture fills this in): shown in every CI log."""
    for line in config.stash.get(SUMMARY, []):
        terminalreporter.write_line(line)
