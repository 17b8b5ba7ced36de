"""Finding 5 of issue 14: the tablet's token rotates at every pause, lock, resume and submit, so a copy
of the tablet's cookie (and its forms) taken before reaches nothing afterwards."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import func, select

from epro.models import QuestionnaireSession, Response
from epro.questionnaires.patient_mode import COOKIE_KEY
from tests.conftest import csrf_of, sign_in
from tests.kiosk_helpers import Tablet, handed_over

COOKIE = "epro_session"


@pytest.fixture
def answered(world, client):  # type: ignore[no-untyped-def]
    """A tablet whose patient answered every item and is on the review screen."""
    tablet, visit = handed_over(world, client)
    tablet.choose_language("ko")
    for number, value in enumerate((70, 5, 6), start=1):
        tablet.answer(number, value)
    assert client.get("/tablet/review").status_code == 200
    return tablet, visit


def _copy(client: FlaskClient, app: Flask) -> FlaskClient:
    """Another browser with a copy of the tablet's cookie as it is now."""
    copy = app.test_client()
    copy.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    copy.copied = client.get_cookie(COOKIE).value  # type: ignore[attr-defined]
    return copy


def _replay_reaches_nothing(world, copy: FlaskClient, tablet: Tablet) -> None:  # type: ignore[no-untyped-def]
    review = copy.get("/tablet/review")
    assert review.status_code == 302 and review.location.endswith("/tablet/locked")
    copy.set_cookie(COOKIE, copy.copied)  # type: ignore[attr-defined]  # the same stale copy, again
    submitted = copy.post("/tablet/submit", data={"csrf_token": tablet.csrf, "token": tablet.token})
    assert submitted.status_code in (302, 409) and "/tablet/thanks" not in submitted.location
    with world.session() as s:
        assert s.exec(select(func.count()).select_from(Response)).one() == 0


def test_a_cookie_copied_before_pause_reaches_nothing(world, app, client, answered):
    tablet, _visit = answered
    copy = _copy(client, app)
    paused = client.get("/tablet/locked")  # "Pause and return the tablet"
    assert paused.status_code == 200
    _replay_reaches_nothing(world, copy, tablet)


def test_a_cookie_copied_before_the_idle_lock_reaches_nothing(world, app, client, answered):
    tablet, _visit = answered
    copy = _copy(client, app)
    with client.session_transaction() as session:
        session[COOKIE_KEY] = {**session[COOKIE_KEY], "seen": time.time() - 3600}
    assert client.get("/tablet/review").location.endswith("/tablet/locked")
    _replay_reaches_nothing(world, copy, tablet)


def test_the_nurse_resuming_a_paused_session_gives_it_a_new_token(world, app, client, answered):
    tablet, visit = answered
    copy = _copy(client, app)
    client.get("/tablet/locked")
    nurse = app.test_client()
    sign_in(nurse, "nurse1")
    resumed = nurse.post(
        f"/staff/visits/{visit.id}/tablet", data={"csrf_token": csrf_of(nurse.get("/staff/").text)}
    )
    assert resumed.status_code == 302
    assert nurse.get("/tablet/review").status_code == 200  # the resumed tablet works ...
    _replay_reaches_nothing(world, copy, tablet)  # ... the copy from before the pause does not


def test_a_cookie_copied_before_submit_cannot_submit_again(world, app, client, answered):
    tablet, _visit = answered
    copy = _copy(client, app)
    assert tablet.submit().location.endswith("/tablet/thanks")
    with world.session() as s:
        before = s.exec(select(func.count()).select_from(Response)).one()
        token_now = s.exec(select(QuestionnaireSession.token)).one()
    assert token_now != tablet.token
    again = copy.post("/tablet/submit", data={"csrf_token": tablet.csrf, "token": tablet.token})
    assert again.status_code in (302, 409)
    with world.session() as s:
        assert s.exec(select(func.count()).select_from(Response)).one() == before == 3
