"""Patient mode: what the tablet's (signed) session cookie holds while a patient has it (which
questionnaire session, and when the patient last touched the screen; nothing about the patient), and the
language the open session is shown in. Access rules, the staff idle timeout and the locale read these
public names rather than the cookie's key or the kiosk's request state."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TypedDict

from flask import g, session

if TYPE_CHECKING:  # a leaf: access and i18n, low in the house, import this module
    from epro.models import QuestionnaireSession

#: The cookie key that marks a tablet in patient mode.
COOKIE_KEY = "kiosk"


class KioskState(TypedDict):
    sid: int
    token: str
    seen: float


def enter_patient_mode(questionnaire: QuestionnaireSession) -> None:
    assert questionnaire.id is not None
    session[COOKIE_KEY] = KioskState(sid=questionnaire.id, token=questionnaire.token, seen=time.time())


def in_patient_mode() -> bool:
    return COOKIE_KEY in session


def current_state() -> KioskState | None:
    return session.get(COOKIE_KEY)


TOUCH_EVERY_SECONDS = 5  # the idle clock's precision: the cookie is re-signed at most this often


def touch() -> None:
    """Restart the idle clock; within TOUCH_EVERY_SECONDS of the last restart the cookie is left as it is
    (no Set-Cookie, no re-signing), so the lock comes at most that much earlier than KIOSK_IDLE_SECONDS."""
    state = session.get(COOKIE_KEY)
    now = time.time()
    if state is not None and now - state["seen"] >= TOUCH_EVERY_SECONDS:
        state["seen"] = now
        session.modified = True


def is_idle(state: KioskState, idle_seconds: int) -> bool:
    return time.time() - state["seen"] > idle_seconds


def end_patient_mode() -> None:
    """Leave patient mode for the neutral locked screen; only a staff sign-in goes anywhere else."""
    session.clear()


def show_in(language: str) -> None:
    """This request's pages are in the open session's language (the patient's choice, else preference)."""
    g.patient_language = language


def shown_language() -> str | None:
    """The language set by show_in for this request, if a tablet page is being served."""
    return g.get("patient_language")
