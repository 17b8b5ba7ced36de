"""Which database the suite runs on: a fresh SQLite file per test (default), or, with
EPRO_TEST_DB=postgresql, a fresh database per test on a throwaway PostgreSQL server.

The server starts on first use, once per session; each test's database is a copy (CREATE DATABASE ...
TEMPLATE) of one migrated by Alembic at that first use, which is faster than migrating per test. The pytest
side (markers, fixtures, dropping and stopping) is tests/database_plugin.py.
"""

from __future__ import annotations

import atexit
import itertools
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.pg_server import PostgresServer

BACKENDS = ("sqlite", "postgresql")
TEMPLATE = "epro_template"


def backend() -> str:
    """The database of this run: EPRO_TEST_DB, `sqlite` when unset."""
    name = os.environ.get("EPRO_TEST_DB", "sqlite") or "sqlite"
    if name not in BACKENDS:
        raise pytest.UsageError(f"EPRO_TEST_DB must be one of {', '.join(BACKENDS)}, not {name!r}")
    return name


def on_postgres() -> bool:
    return backend() == "postgresql"


class PostgresDatabases:
    """The session's PostgreSQL server, its migrated template, and the databases handed out to tests."""

    def __init__(self) -> None:
        self.server: PostgresServer | None = None
        self._names = itertools.count(1)
        self._templated = False
        self.created: list[str] = []

    def started(self) -> PostgresServer:
        if self.server is None:
            self.server = PostgresServer().start()
            atexit.register(self.stop)
        return self.server

    def _template(self) -> str:
        if not self._templated:
            from epro import migrate
            from epro.db import make_engine

            engine = make_engine(self.started().create_database(TEMPLATE))
            try:
                migrate.upgrade(engine)
            finally:
                engine.dispose()
            self._templated = True
        return TEMPLATE

    def new(self, *, migrated: bool = True, owner: str | None = None) -> str:
        """A new database's URL: migrated to head (a copy of the template), or empty."""
        template = self._template() if migrated else None
        name = f"epro_test_{os.getpid()}_{next(self._names)}"
        url = self.started().create_database(name, template=template, owner=owner)
        self.created.append(name)
        return url

    def drop_created(self) -> None:
        while self.created:
            name = self.created.pop()
            if self.server is not None:
                self.server.drop_database(name)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


postgres = PostgresDatabases()


def database_url(tmp_path: Path) -> str:
    """The test's database: empty SQLite file in tmp_path, or a migrated PostgreSQL database."""
    if on_postgres():
        return postgres.new()
    return f"sqlite:///{tmp_path / 'epro.sqlite3'}"


def tamper_with_audit_trail(url: str, statement: str, **params: object) -> None:
    """Run an UPDATE or DELETE on audit_event behind the app's back, as someone with full rights on the
    database could: the append-only guards are switched off for this one statement, on either database."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
                connection.execute(sa.text(statement), params)
                connection.exec_driver_sql("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
                return
            guards = connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'"
            ).all()
            for name, _sql in guards:
                connection.exec_driver_sql(f"DROP TRIGGER {name}")
            connection.execute(sa.text(statement), params)
            for _name, sql in guards:
                connection.exec_driver_sql(sql)
    finally:
        engine.dispose()
