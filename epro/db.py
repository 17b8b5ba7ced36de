"""Engine and the one database session per request (or per CLI unit of work).

SQLite runs in WAL mode with a busy timeout and foreign keys on. Every write transaction on SQLite starts
with BEGIN IMMEDIATE, so two workers never both read and then both try to upgrade to a writer (which
SQLite refuses at once, whatever the busy timeout); reads stay deferred and never block.

Writers queue instead of polling: before BEGIN IMMEDIATE a thread takes its process's lock for that
database file, then an exclusive flock on a lock file beside it (shared by every process), and lets both
go when the transaction commits or rolls back. The kernel wakes the next writer the moment the lock is
free, where SQLite's busy handler would sleep 1, 2, 5, 10 ... 100 ms between retries. The busy timeout
stays as the last resort (a writer that never took the lock, another program on the file).

Commits are `synchronous=NORMAL` (in WAL mode: never corrupt, but the last commits may be lost at a power
cut); a transaction begun inside `durable()` commits with `synchronous=FULL` (the WAL is fsynced before
COMMIT returns), which a final submission uses: see docs/reliability.md.

PostgreSQL (postgresql+psycopg://...) keeps its default READ COMMITTED: unique constraints stop duplicate
answers and the audit trail serialises its appenders with an advisory lock. Each connection runs in UTC,
like SQLite, so the server's own time zone setting never shifts a stored time.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

from flask import Flask, current_app, g, request
from sqlalchemy import Connection, Dialect, Engine, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.selectable import ReturnsRows
from sqlmodel import Session, create_engine

from epro.private_files import create_private

T = TypeVar("T")
_write_intent: ContextVar[bool] = ContextVar("epro_write_intent", default=False)
_durable: ContextVar[bool] = ContextVar("epro_durable", default=False)
BUSY_TIMEOUT_MS = 15_000
SYNCHRONOUS = "NORMAL"  # every commit; a durable() transaction commits FULL
DURABLE_SYNCHRONOUS = "FULL"


class WriterQueue:
    """One database file's writers, in line: a lock per process, then a flock shared by all processes.

    The flock's file is opened once per process (after a fork the child opens its own: a descriptor
    inherited from the parent would share the parent's lock)."""

    def __init__(self, lock_path: Path | None) -> None:
        self.lock_path = lock_path
        self.thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        if self.lock_path is None:
            return None
        if self._pid != os.getpid():
            self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self) -> bool:
        """Wait for our turn (at most the busy timeout; past it, go on and let SQLite's handler wait)."""
        if not self.thread_lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            return False
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            self.thread_lock.release()
            return False
        return True

    def release(self) -> None:
        try:
            if self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self.thread_lock.release()


_queues: dict[str, WriterQueue] = {}
_queues_lock = threading.Lock()


def writer_queue(database: str | None) -> WriterQueue:
    """The queue of a database file (one per file and process), or a process-only one for :memory:."""
    key = os.path.realpath(database) if database else ""
    with _queues_lock:
        if key not in _queues:
            _queues[key] = WriterQueue(Path(f"{key}-writer.lock") if key else None)
        return _queues[key]


class QueuedConnection(sqlite3.Connection):
    """A SQLite connection that gives its writer-queue turn back when its transaction ends."""

    queue: WriterQueue | None = None
    holds_turn = False
    durable = False

    writers: WriterQueue | None = None  # this database file's queue (set on connecting)

    def take_turn(self, queue: WriterQueue) -> None:
        if queue.acquire():
            self.queue, self.holds_turn = queue, True

    def begin_write(self) -> None:
        """Begin a write transaction: in a durable() block switch to synchronous=FULL, take the writer
        queue's turn, then BEGIN IMMEDIATE."""
        if _durable.get():
            self.execute(f"PRAGMA synchronous={DURABLE_SYNCHRONOUS}")
            self.durable = True
        if self.writers is not None:
            self.take_turn(self.writers)
        self.execute("BEGIN IMMEDIATE")

    def _end_turn(self) -> None:
        if self.durable:
            self.durable = False
            self.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
        if self.holds_turn:
            self.holds_turn = False
            assert self.queue is not None
            self.queue.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._end_turn()

    def close(self) -> None:
        try:
            if self.holds_turn:
                assert self.queue is not None
                self.queue.release()
                self.holds_turn = False
        finally:
            super().close()


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
            connect_args={
                "timeout": BUSY_TIMEOUT_MS / 1000,
                "check_same_thread": False,
                "factory": QueuedConnection,
            },
            **({} if memory else limits),
        )
        _configure_sqlite(engine, writer_queue(None if memory else make_url(url).database))
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


def _configure_sqlite(engine: Engine, queue: WriterQueue) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        if isinstance(dbapi_connection, QueuedConnection):
            dbapi_connection.writers = queue
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        if not _write_intent.get():
            connection.exec_driver_sql("BEGIN")
            return
        dbapi = connection.connection.dbapi_connection
        if isinstance(dbapi, QueuedConnection):
            dbapi.begin_write()
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def engine() -> Engine:
    return current_app.extensions["epro_engine"]


def session() -> Session:
    """The request's session; created on first use, closed (and rolled back if uncommitted) at teardown."""
    if "db_session" not in g:
        g.db_session = Session(engine(), expire_on_commit=False)
    return g.db_session


def write_intended() -> bool:
    """Whether transactions begun now are writers (a POST request, a unit_of_work)."""
    return _write_intent.get()


@contextmanager
def _writing(db: Session) -> Iterator[Session]:
    """Transactions begun inside are writers (BEGIN IMMEDIATE on SQLite); db commits on leaving."""
    token = _write_intent.set(True)
    try:
        yield db
        db.commit()
    finally:
        _write_intent.reset(token)


@contextmanager
def unit_of_work(bind: Engine | None = None) -> Iterator[Session]:
    """A write session outside a request (CLI, tests): commits on success, rolls back on error."""
    with Session(bind or engine(), expire_on_commit=False) as db, _writing(db):
        yield db


@contextmanager
def write_in_read_request() -> Iterator[Session]:
    """Write from a GET: end the request's read transaction, then write in one that begins IMMEDIATE.

    (A deferred transaction that read first cannot become a writer once another worker has committed.)
    """
    db = session()
    db.rollback()
    with _writing(db):
        yield db


@contextmanager
def durable() -> Iterator[None]:
    """Write transactions begun inside commit only once they are on disk (SQLite: synchronous=FULL),
    so an acknowledged commit survives a power cut. PostgreSQL commits durably anyway."""
    token = _durable.set(True)
    try:
        yield
    finally:
        _durable.reset(token)


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


class DriverStatement:
    """A Core statement compiled once for a dialect and run on the DBAPI cursor itself, for a hot path:
    no compiled-cache look-up, execution context or result wrapping per call (on the tablet's answer POST
    these cost more than SQLite running the statements). Parameters and result columns still go through
    their types' processors (e.g. UTCDateTime), as SQLAlchemy would apply them. Plain bound parameters
    only (no expanding ``IN`` lists, whose SQL SQLAlchemy renders per call)."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.compiled = compiled
        self.sql = compiled.string
        self.positions = tuple(compiled.positiontup or ()) if compiled.positional else None
        self.bind_processors = {
            compiled.bind_names[bind]: processor
            for bind in compiled.binds.values()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        columns = statement.exported_columns if isinstance(statement, ReturnsRows) else ()
        self.result_processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]

    def rows(self, connection: DBAPIConnection, params: Mapping[str, object]) -> list[tuple[Any, ...]]:
        values = self.compiled.construct_params(dict(params))
        for name, processor in self.bind_processors.items():
            values[name] = processor(values[name])
        cursor = connection.cursor()
        try:
            cursor.execute(
                self.sql, [values[n] for n in self.positions] if self.positions is not None else values
            )
            rows = cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()
        processors = self.result_processors
        if not any(processors):
            return [tuple(row) for row in rows]
        return [
            tuple(
                value if process is None else process(value)
                for value, process in zip(row, processors, strict=True)
            )
            for row in rows
        ]


class PerDialect(Generic[T]):
    """What ``build`` makes for a dialect, made once per dialect name (e.g. statements compiled for it)."""

    def __init__(self, build: Callable[[Dialect], T]) -> None:
        self.build = build
        self.made: dict[str, T] = {}

    def __call__(self, dialect: Dialect) -> T:
        if dialect.name not in self.made:
            self.made[dialect.name] = self.build(dialect)
        return self.made[dialect.name]


def driver_read(
    statement: PerDialect[DriverStatement], params: Mapping[str, object]
) -> list[tuple[Any, ...]]:
    """The rows of one statement, read on a pooled DBAPI connection outside any write transaction, so a
    write request holds the writer's turn for its write alone (SQLite: the statement's own implicit read
    transaction; PostgreSQL: rolled back as the connection goes back to the pool). What was read may have
    changed by the time a later write runs: that write must check again, in its own statement, whatever
    it relies on (e.g. ``INSERT ... SELECT ... WHERE EXISTS``)."""
    database = engine()
    raw = database.raw_connection()
    try:
        assert raw.dbapi_connection is not None
        return statement(database.dialect).rows(raw.dbapi_connection, params)
    finally:
        raw.close()


class DriverConnection(NamedTuple):
    """A DBAPI connection in a transaction, and the dialect DriverStatements run on it are compiled for."""

    dbapi: DBAPIConnection
    dialect: Dialect


def driver_of(orm: Session) -> DriverConnection:
    """The DBAPI connection under an ORM session's transaction (begun if it was not)."""
    connection = orm.connection()
    assert connection.connection.dbapi_connection is not None
    return DriverConnection(connection.connection.dbapi_connection, connection.dialect)


@contextmanager
def driver_write() -> Iterator[DriverConnection]:
    """A write transaction on a pooled DBAPI connection, for a hot path's DriverStatements: committed on
    leaving, rolled back on an error. On SQLite it begins as every write does (the writer queue's turn,
    then BEGIN IMMEDIATE); PostgreSQL's driver begins one with the first statement."""
    database = engine()
    raw = database.raw_connection()
    try:
        dbapi = raw.dbapi_connection
        assert dbapi is not None
        if isinstance(dbapi, QueuedConnection):
            dbapi.begin_write()
        try:
            yield DriverConnection(dbapi, database.dialect)
        except BaseException:
            dbapi.rollback()
            raise
        dbapi.commit()
    finally:
        raw.close()
