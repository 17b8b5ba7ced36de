"""pytest plugin (loaded by tests/conftest.py) for the database of the run, see tests/databases.py.

The `sqlite_only` marker; the `postgres_url` and `empty_postgres_url` fixtures for tests about PostgreSQL
itself (skipped in the SQLite run, so that run never starts a server: they run in the PostgreSQL pass);
each test's databases dropped after it; the server stopped at the end.

The PostgreSQL pass runs the tests whose database is the run's database: those using the `app` fixture
(directly or through `client`, `world`, ...) or a PostgreSQL fixture, and every test of a module that gets
a database from tests/databases.py or tests/fresh_state.py itself. The others (pure functions, the browser
journeys and load tests on their own SQLite files) would run exactly as in the SQLite pass, so that pass
alone runs them. EPRO_TEST_PG_ALL=1 runs everything on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
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


#: Fixtures that hand a test the run's database (or a PostgreSQL one).
DATABASE_FIXTURES = frozenset({"app", "postgres_url", "empty_postgres_url"})
#: What a test module's text holds when it gets databases itself (tests/databases.py, tests/fresh_state.py).
DATABASE_WORDS = ("database_url(", "fresh_app(", "postgres")
_module_texts: dict[Path, str] = {}


def uses_the_runs_database(item: pytest.Item) -> bool:
    if DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    path = Path(item.path)
    if path not in _module_texts:
        _module_texts[path] = path.read_text(encoding="utf-8")
    return any(word in _module_texts[path] for word in DATABASE_WORDS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not on_postgres():
        return
    if os.environ.get("EPRO_TEST_PG_ALL") != "1":
        elsewhere = [item for item in items if not uses_the_runs_database(item)]
        if elsewhere:
            kept = set(map(id, elsewhere))
            items[:] = [item for item in items if id(item) not in kept]
            config.hook.pytest_deselected(items=elsewhere)
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


def _postgres_pass_only() -> None:
    if not on_postgres():
        pytest.skip("about PostgreSQL itself: runs in the PostgreSQL pass (make test-postgres)")


@pytest.fixture
def postgres_url() -> str:
    """A fresh migrated PostgreSQL database (for tests about PostgreSQL itself; PostgreSQL pass only)."""
    _postgres_pass_only()
    return postgres.new()


@pytest.fixture
def empty_postgres_url() -> str:
    """A fresh PostgreSQL database with no tables (PostgreSQL pass only)."""
    _postgres_pass_only()
    return postgres.new(migrated=False)
