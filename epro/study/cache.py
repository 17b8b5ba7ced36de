"""The overview of the current data, computed once per change of data rather than once per request.

Every change to the study's data is recorded in the audit trail in the same transaction, so the newest
audit event that is not a sign-in or an export names the data's version; with the clinic's date (statuses
move with the calendar) it keys the cached overview. A page view costs one indexed look-up while nothing
changed; after a change the overview is made again from the tallies kept in the database
(epro.study.tallies), which are first brought up to date for the patients the change touched. Each
process keeps its own overview; the tallies are shared by every process (and `flask study-report`).
"""

from __future__ import annotations

import secrets
import threading
import weakref
from collections.abc import Callable
from datetime import date
from typing import TypeVar, cast

from sqlalchemy import ColumnElement, Engine, not_, or_
from sqlmodel import Session, col, select

from epro.models import AuditEvent
from epro.study.overview import StudyOverview

T = TypeVar("T")
MAX_DATABASES = 8
#: data_version()'s (database, version), then what else the result depends on.
CacheKey = tuple[tuple[str, int], *tuple[object, ...]]

#: Audit actions that read data without changing it.
READ_ONLY_ACTIONS = ("auth.%", "export.%")

_lock = threading.Lock()
#: The latest overview per database (one in production; a benchmark or a test run may hold several).
_cached: dict[str, tuple[CacheKey, StudyOverview]] = {}
#: Other results kept per data version, by name (the clinic list's "needs review").
_slots: dict[str, tuple[CacheKey, object]] = {}
#: A token per engine object, so two databases never share.
_tokens: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def engine_of(db: Session) -> Engine:
    """The engine this session reads (the session's bind, or the engine of the connection it is bound to)."""
    return db.get_bind().engine


def _database(db: Session) -> str:
    """A token of the engine this session reads."""
    engine = engine_of(db)
    token = _tokens.get(engine)
    if token is None:
        token = _tokens[engine] = secrets.token_hex(8)
    return token


def read_only_action() -> ColumnElement[bool]:
    """The audit events that read data without changing it."""
    return or_(*(col(AuditEvent.action).like(pattern) for pattern in READ_ONLY_ACTIONS))


def latest_change(db: Session) -> int:
    """The id of the newest audit event that changed data (0 before any)."""
    query = select(AuditEvent.id).where(not_(read_only_action())).order_by(col(AuditEvent.id).desc()).limit(1)
    return db.exec(query).first() or 0


def data_version(db: Session) -> tuple[str, int]:
    return _database(db), latest_change(db)


def cached(key: CacheKey) -> StudyOverview | None:
    with _lock:
        found = _cached.get(key[0][0])
    return found[1] if found is not None and found[0] == key else None


def remember(key: CacheKey, overview: StudyOverview) -> None:
    with _lock:
        if len(_cached) >= MAX_DATABASES:
            _cached.clear()
        _cached[key[0][0]] = (key, overview)


def kept(name: str, key: CacheKey, compute: Callable[[], T]) -> T:
    """compute() once per key (data version, which names the database, and context) in this process."""
    slot = f"{name} {key[0][0]}"
    with _lock:
        found = _slots.get(slot)
    if found is not None and found[0] == key:
        return cast(T, found[1])  # what compute() returned for this name
    value = compute()
    with _lock:
        if len(_slots) >= MAX_DATABASES:
            _slots.clear()
        _slots[slot] = (key, value)
    return value


def cache_key(db: Session, today: date, *context: object) -> CacheKey:
    rest: tuple[object, ...] = (today, *context)
    return (data_version(db), *rest)


def forget() -> None:
    """Drop the cached overview (benchmarks measure the computation this way; a data change does the same)."""
    with _lock:
        _cached.clear()
        _slots.clear()
