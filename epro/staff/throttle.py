"""A brake on guessing staff passwords, counted in the database so every worker and server sees it.

Failed sign-ins are rows in `signin_failure`, per account (the user name as typed, whether or not it
exists, so the brake tells nothing about which names are real) and per client address. Within the window:

- per account, after SIGNIN_ACCOUNT_DELAY_AFTER failures each further attempt must wait a delay that
  doubles with every failure (1 s, 2 s, 4 s ... at most SIGNIN_MAX_DELAY_SECONDS); at
  SIGNIN_ACCOUNT_LOCK_AFTER failures the account is locked for the window (audited, shown to admins);
- per address, after SIGNIN_ADDRESS_DELAY_AFTER failures the same doubling delay, never a lock: a clinic
  whose staff share one address is slowed down, never shut out, and the right password goes through as
  soon as the delay has passed.

A successful sign-in and an admin's password reset clear the account's failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, func, select

from epro.models import SignInFailure, utcnow


@dataclass(frozen=True)
class Wait:
    """Why and how long a sign-in attempt must wait before it is even checked."""

    seconds: int
    locked: bool


def account_key(username: str | None) -> str:
    return (username or "").strip().lower()[:64]


def _window() -> timedelta:
    return timedelta(minutes=float(current_app.config["SIGNIN_WINDOW_MINUTES"]))


def _delay(failures: int, free: int) -> timedelta:
    if failures < free:
        return timedelta(0)
    cap = float(current_app.config["SIGNIN_MAX_DELAY_SECONDS"])
    return timedelta(seconds=min(2.0 ** (failures - free), cap))


def _failures(db: Session, column: Mapped[str], value: str, since: datetime) -> tuple[int, datetime | None]:
    count, last = db.exec(
        select(func.count(), func.max(SignInFailure.at)).where(
            column == value, col(SignInFailure.at) >= since
        )
    ).one()
    return count, last


def wait_before(db: Session, account: str, address: str, now: datetime | None = None) -> Wait | None:
    """How long this account and address must still wait before a sign-in is checked; None: go ahead."""
    config = current_app.config
    now = now or utcnow()
    since = now - _window()
    count, last = _failures(db, col(SignInFailure.account), account, since)
    waits: list[Wait] = []
    if last is not None:
        if count >= int(config["SIGNIN_ACCOUNT_LOCK_AFTER"]):
            waits.append(Wait(_seconds(last + _window() - now), locked=True))
        else:
            delay = _delay(count, int(config["SIGNIN_ACCOUNT_DELAY_AFTER"]))
            waits.append(Wait(_seconds(last + delay - now), locked=False))
    count, last = _failures(db, col(SignInFailure.address), address, since)
    if last is not None:
        delay = _delay(count, int(config["SIGNIN_ADDRESS_DELAY_AFTER"]))
        waits.append(Wait(_seconds(last + delay - now), locked=False))
    waits = [wait for wait in waits if wait.seconds > 0]
    return max(waits, key=lambda wait: (wait.locked, wait.seconds)) if waits else None


def _seconds(delta: timedelta) -> int:
    seconds = delta.total_seconds()
    return int(seconds) + (seconds % 1 > 0) if seconds > 0 else 0


def record_failure(db: Session, account: str, address: str) -> bool:
    """Count one failure (and forget those older than the window); True when it has just locked the account."""
    now = utcnow()
    since = now - _window()
    db.exec(
        delete(SignInFailure).where(
            (col(SignInFailure.account) == account) | (col(SignInFailure.address) == address),
            col(SignInFailure.at) < since,
        )
    )
    db.add(SignInFailure(account=account, address=address[:64], at=now))
    db.flush()
    count, _last = _failures(db, col(SignInFailure.account), account, since)
    return count == int(current_app.config["SIGNIN_ACCOUNT_LOCK_AFTER"])


def clear_account(db: Session, account: str) -> None:
    db.exec(delete(SignInFailure).where(col(SignInFailure.account) == account))


def locked_accounts(db: Session) -> dict[str, datetime]:
    """Account key -> until when it is locked, for the admins' account list."""
    now = utcnow()
    rows = db.exec(
        select(SignInFailure.account, func.count(), func.max(SignInFailure.at))
        .where(SignInFailure.at >= now - _window())
        .group_by(SignInFailure.account)
    ).all()
    lock_after = int(current_app.config["SIGNIN_ACCOUNT_LOCK_AFTER"])
    return {account: last + _window() for account, count, last in rows if count >= lock_after}
