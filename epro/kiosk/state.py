"""What the tablet's (signed) session cookie holds in patient mode: which questionnaire session, and when
the patient last touched the screen. Nothing about the patient is stored in the cookie."""

from __future__ import annotations

import time
from typing import TypedDict

from flask import session

from epro.models import QuestionnaireSession


class KioskState(TypedDict):
    sid: int
    token: str
    seen: float


def enter_patient_mode(questionnaire: QuestionnaireSession) -> None:
    assert questionnaire.id is not None
    session["kiosk"] = KioskState(sid=questionnaire.id, token=questionnaire.token, seen=time.time())


def current_state() -> KioskState | None:
    return session.get("kiosk")


TOUCH_EVERY_SECONDS = 5  # the idle clock's precision: the cookie is re-signed at most this often


def touch() -> None:
    """Restart the idle clock; within TOUCH_EVERY_SECONDS of the last restart the cookie is left as it is
    (no Set-Cookie, no re-signing), so the lock comes at most that much earlier than KIOSK_IDLE_SECONDS."""
    state = session.get("kiosk")
    now = time.time()
    if state is not None and now - state["seen"] >= TOUCH_EVERY_SECONDS:
        state["seen"] = now
        session.modified = True


def is_idle(state: KioskState, idle_seconds: int) -> bool:
    return time.time() - state["seen"] > idle_seconds


def end_patient_mode() -> None:
    """Leave patient mode for the neutral locked screen; only a staff sign-in goes anywhere else."""
    session.clear()
