"""Staff sessions the server can end.

The session cookie is signed, not stored, so on its own a copy of it would stay good until it expired.
Each sign-in therefore records in the cookie the account's session generation and when it began; every
request compares them with the database (the account row is read on every request anyway) and with the
idle and absolute lifetimes. Raising the generation ends every session of the account at once: sign-out,
a password change or reset, a role change and deactivation all do.
"""

from __future__ import annotations

import time

from flask import current_app, session
from sqlmodel import Session

from epro.models import StaffUser

GENERATION = "staff_gen"
SIGNED_IN_AT = "staff_since"
SEEN = "staff_seen"


def begin(user: StaffUser) -> None:
    """Mark the (freshly cleared) cookie session as a sign-in of this account, now."""
    now = time.time()
    session[GENERATION] = user.session_generation
    session[SIGNED_IN_AT] = now
    session[SEEN] = now


def end_every_session(db: Session, user: StaffUser) -> None:
    """Every session cookie issued to this account so far is refused from the next request on."""
    user.session_generation += 1
    db.add(user)
    db.flush()


def is_current(user: StaffUser) -> bool:
    """This cookie was issued under the account's current generation and is within its absolute lifetime."""
    if session.get(GENERATION) != user.session_generation:
        return False
    began = session.get(SIGNED_IN_AT)
    limit = 3600 * float(current_app.config["STAFF_MAX_SESSION_HOURS"])
    return isinstance(began, int | float) and 0 <= time.time() - began <= limit


def idle_too_long() -> bool:
    """More than the idle lifetime since this cookie's last request (the time is signed by the server)."""
    seen = session.get(SEEN)
    limit = 60 * float(current_app.config["STAFF_IDLE_MINUTES"])
    return not isinstance(seen, int | float) or time.time() - seen > limit


def touch() -> None:
    session[SEEN] = time.time()
