"""Engine and the one database session per request (or per CLI unit of work).

SQLite runs in WAL mode with a busy timeout and foreign keys on. Every write transaction on SQLite starts
with BEGIN IMMEDIATE, so two workers never both read and then both try to upgrade to a writer (which
SQLite refuses at once, whatever the busy timeout); reads stay deferred and never block.

PostgreSQL (postgresql+psycopg://...) keeps its default READ COMMITTED: unique constraints stop duplicate
answers and the audit trail serialises its appenders with an advisory lock. Each connection runs in UTC,
like SQLite, so the server's own time zone setting never shifts a stored time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app, g, request
from sqlalchemy import Engine, event, make_url
from sqlmodel import Session, create_engine

from epro.private_files import create_private

_write_intent: ContextVar[bool] = ContextVar("epro_write_intent", default=False)
BUSY_TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class PoolLimits:
    """Connections one process keeps (size), may open beyond that (overflow), and how many seconds a
    request waits for one before it is refused with a 503 (timeout). Size it to the process's threads:
    every request holds at most one connection at a time."""

    size: int = 4
    overflow: int = 4
    timeout: float = 5.0


def make_engine(url: str, pool: PoolLimits | None = None) -> Engine:
    pool = pool or PoolLimits()
    limits = {"pool_size": pool.size, "max_overflow": pool.overflow, "pool_timeout": pool.timeout}
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        if not memory and "mode=ro" not in url:
            _private_database_file(url)
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **({} if memory else limits),
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql"):
        # Named in pg_stat_activity, so a DBA can tell epro's connections (per server and worker) apart.
        connect_args = {"application_name": "epro", "options": "-c timezone=UTC"}
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **limits)
    return create_engine(url, pool_pre_ping=True, **limits)


def _private_database_file(url: str) -> None:
    """Create the SQLite file owner-only before SQLite does (it would use the umask, often 0644)."""
    database = make_url(url).database
    if database and Path(database).parent.is_dir():
        create_private(Path(database))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def engine() -> Engine:
    return current_app.extensions["epro_engine"]


def session() -> Session:
    """The request's session; created on first use, closed (and rolled back if uncommitted) at teardown."""
    if "db_session" not in g:
        g.db_session = Session(engine(), expire_on_commit=False)
    return g.db_session


@contextmanager
def unit_of_work(bind: Engine | None = None) -> Iterator[Session]:
    """A write session outside a request (CLI, tests): commits on success, rolls back on error."""
    token = _write_intent.set(True)
    try:
        with Session(bind or engine(), expire_on_commit=False) as db:
            yield db
            db.commit()
    finally:
        _write_intent.reset(token)


@contextmanager
def write_in_read_request() -> Iterator[Session]:
    """Write from a GET: end the request's read transaction, then write in one that begins IMMEDIATE.

    (A deferred transaction that read first cannot become a writer once another worker has committed.)
    """
    db = session()
    db.rollback()
    token = _write_intent.set(True)
    try:
        yield db
        db.commit()
    finally:
        _write_intent.reset(token)


def init_app(app: Flask) -> None:
    pool = PoolLimits(
        size=int(app.config["DB_POOL_SIZE"]),
        overflow=int(app.config["DB_POOL_OVERFLOW"]),
        timeout=float(app.config["DB_POOL_TIMEOUT"]),
    )
    app.extensions["epro_engine"] = make_engine(app.config["DATABASE_URL"], pool)

    @app.before_request
    def mark_write_intent() -> None:
        g.write_intent_token = _write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))

    @app.teardown_request
    def close_session(_exc: BaseException | None) -> None:
        db = g.pop("db_session", None)
        if db is not None:
            db.close()
        token = g.pop("write_intent_token", None)
        if token is not None:
            _write_intent.reset(token)
