"""pytest plugin (loaded by tests/conftest.py) for the database of the run, see tests/databases.py.

The `sqlite_only` marker; the `postgres_url` and `empty_postgres_url` fixtures for tests that need
PostgreSQL whatever the run; each test's databases dropped after it; the server stopped at the end.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from types import FrameType

import pytest

from tests.databases import backend, on_postgres, postgres


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt("terminated")


def pytest_configure(config: pytest.Config) -> None:
    backend()
    # A run stopped by SIGTERM (a CI timeout, `timeout`, kill) unwinds like Ctrl-C: fixtures stop the
    # servers they started and the PostgreSQL server is shut down, instead of being left running.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)
    config.addinivalue_line(
        "markers", "sqlite_only(reason): the test checks SQLite itself; skipped on the PostgreSQL run"
    )


def pytest_report_header() -> str:
    if on_postgres():
        return "database: postgresql (throwaway server, one database per test; EPRO_TEST_DB=postgresql)"
    return "database: sqlite (one file per test; set EPRO_TEST_DB=postgresql for PostgreSQL)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not on_postgres():
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "SQLite only")
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


@pytest.hookimpl(trylast=True)  # after pytest's own session finish has torn down the fixtures
def pytest_sessionfinish() -> None:
    postgres.stop()


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    """Autouse, so it is set up before (and torn down after) the app that connects to the database."""
    yield
    postgres.drop_created()


@pytest.fixture
def postgres_url() -> str:
    """A fresh migrated PostgreSQL database, in either run (for tests about PostgreSQL itself)."""
    return postgres.new()


@pytest.fixture
def empty_postgres_url() -> str:
    """A fresh PostgreSQL database with no tables, in either run."""
    return postgres.new(migrated=False)
