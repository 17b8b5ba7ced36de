"""Which database the suite runs on: a fresh SQLite file per test (default), or, with
EPRO_TEST_DB=postgresql, a fresh database per test on a throwaway PostgreSQL server.

Either way each test's database is a copy of a template migrated by Alembic (and holding the instrument
catalogue) once per test process: a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL, whose
server starts on first use. Copying is far faster than migrating per test. The pytest side (markers,
fixtures, which tests the PostgreSQL pass runs, dropping and stopping) is tests/database_plugin.py.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import sqlite3
import tempfile
from contextlib import closing
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


def _migrate_to_head(url: str, folder: Path) -> None:
    """Alembic to head, then the instrument catalogue, as the `app` fixture used to do per test."""
    from epro import create_app, db, migrate
    from epro.catalog import sync_instruments

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "template",
            "DATABASE_URL": url,
            "AUDIT_KEY_FILE": str(folder / "audit_key"),
            "AUDIT_ANCHOR_FILE": str(folder / "audit-anchors"),
        }
    )
    try:
        with app.app_context():
            migrate.upgrade(db.engine())
            with db.unit_of_work() as session:
                sync_instruments(session)
    finally:
        app.extensions["epro_engine"].dispose()


class SqliteTemplate:
    """One migrated SQLite file per test process; each test gets a byte copy of it."""

    def __init__(self) -> None:
        self.path: Path | None = None

    def _built(self) -> Path:
        if self.path is None:
            folder = Path(tempfile.mkdtemp(prefix="epro-template-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            path = folder / "template.sqlite3"
            _migrate_to_head(f"sqlite:///{path}", folder)
            # Fold the write-ahead log into the file, so the file alone is the whole database.
            with closing(sqlite3.connect(path)) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
            self.path = path
        return self.path

    def copy_to(self, target: Path) -> str:
        shutil.copyfile(self._built(), target)
        return f"sqlite:///{target}"


sqlite_template = SqliteTemplate()


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
            folder = Path(tempfile.mkdtemp(prefix="epro-template-"))
            try:
                _migrate_to_head(self.started().create_database(TEMPLATE), folder)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
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
    """The test's database, migrated to head with the instrument catalogue: a SQLite file in tmp_path, or a
    PostgreSQL database (dropped after the test)."""
    if on_postgres():
        return postgres.new()
    return sqlite_template.copy_to(tmp_path / "epro.sqlite3")


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
