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
import pwd
import shlex
import shutil
import sqlite3
import tempfile
from contextlib import AbstractContextManager, closing
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from port_for import select_random
from psycopg import sql
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor

BACKENDS = ("sqlite", "postgresql")
SUPERUSER = "postgres"
# A disposable cluster (pytest-postgresql already turns fsync off): durability off, small enough for a
# shared 2-core machine.
SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c synchronous_commit=off -c full_page_writes=off"
    " -c max_connections=200 -c shared_buffers=64MB -c timezone=UTC"
)


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


def find_bindir() -> Path:
    """EPRO_PG_BINDIR if set, else the newest /usr/lib/postgresql/<version>/bin, else pg_ctl on PATH."""
    if os.environ.get("EPRO_PG_BINDIR"):
        return Path(os.environ["EPRO_PG_BINDIR"])
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if versions:
        return versions[-1]
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        raise RuntimeError("PostgreSQL binaries not found: install the Debian package 'postgresql'")
    return Path(pg_ctl).parent


def _pg_ctl(root: Path) -> Path:
    """pg_ctl, or as root (which initdb and pg_ctl refuse) a wrapper in `root` that runs it as the
    `postgres` system user, who then owns `root` and the cluster in it."""
    pg_ctl = find_bindir() / "pg_ctl"
    if os.geteuid() != 0:
        return pg_ctl
    account = pwd.getpwnam(SUPERUSER)
    os.chown(root, account.pw_uid, account.pw_gid)
    wrapper = root / "pg_ctl"
    wrapper.write_text(f'#!/bin/sh\nexec runuser -u {SUPERUSER} -- {shlex.quote(str(pg_ctl))} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def _start_server() -> tuple[PostgreSQLExecutor, Path]:
    """A cluster in a new temporary directory, started by pytest-postgresql's executor (initdb, then
    pg_ctl start; trusts local connections, fsync off) on a free port of 127.0.0.1."""
    root = Path(tempfile.mkdtemp(prefix="epro-pg-"))
    server = PostgreSQLExecutor(
        executable=str(_pg_ctl(root)),
        host="127.0.0.1",
        port=select_random(),  # port_for: pytest-postgresql's own port picker
        datadir=str(root / "data"),
        unixsocketdir=str(root),
        logfile=str(root / "server.log"),
        startparams="-w",
        dbname="epro",
        user=SUPERUSER,
        postgres_options=SERVER_OPTIONS,
    )
    try:
        server.start()
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server, root


class PostgresDatabases:
    """The session's PostgreSQL server, its migrated template, and the databases handed out to tests:
    pytest-postgresql's PostgreSQLExecutor runs the server, its DatabaseJanitor creates and drops databases.
    The server starts on first use, so the SQLite run never starts one."""

    def __init__(self) -> None:
        self.server: PostgreSQLExecutor | None = None
        self._root: Path | None = None
        self._names = itertools.count(1)
        self._templated = False
        self.created: list[str] = []

    def started(self) -> PostgreSQLExecutor:
        if self.server is None:
            self.server, self._root = _start_server()
            atexit.register(self.stop)
        return self.server

    def url(self, name: str, user: str = SUPERUSER) -> str:
        """The SQLAlchemy URL epro uses (EPRO_DATABASE_URL)."""
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.started().port}/{name}"

    def _janitor(self, name: str, template: str | None = None, as_template: bool = False) -> DatabaseJanitor:
        server = self.started()
        return DatabaseJanitor(
            user=server.user,
            host=server.host,
            port=server.port,
            dbname=name,
            template_dbname=template,
            as_template=as_template,
        )

    def admin(self) -> AbstractContextManager[psycopg.Cursor]:
        """An autocommit cursor on the maintenance database (CREATE ROLE, ...)."""
        return self._janitor("postgres").cursor()

    def create(self, name: str, *, template: str | None = None, owner: str | None = None) -> str:
        """CREATE DATABASE (a copy of `template`, owned by `owner`); its URL."""
        janitor = self._janitor(name, template)
        janitor.init()
        if owner:
            with janitor.cursor() as cursor:
                cursor.execute(
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                        sql.Identifier(name), sql.Identifier(owner)
                    )
                )
        return self.url(name)

    def drop(self, name: str) -> None:
        """Drop it even if a connection was left open (a server process still running, say)."""
        self._janitor(name).drop()

    def _template(self) -> str:
        if not self._templated:
            template = self.started().template_dbname
            self._janitor(template, as_template=True).init()
            folder = Path(tempfile.mkdtemp(prefix="epro-template-"))
            try:
                _migrate_to_head(self.url(template), folder)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            self._templated = True
        return self.started().template_dbname

    def new(self, *, migrated: bool = True, owner: str | None = None) -> str:
        """A new database's URL: migrated to head (a copy of the template), or empty."""
        template = self._template() if migrated else None
        name = f"epro_test_{os.getpid()}_{next(self._names)}"
        url = self.create(name, template=template, owner=owner)
        self.created.append(name)
        return url

    def drop_created(self) -> None:
        while self.created:
            self.drop(self.created.pop())

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None


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
