"""Every route × every principal, built from Flask's URL map. A new route without a rule here fails."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from sqlmodel import Session, select
from werkzeug.exceptions import HTTPException

from epro.access import PRINCIPALS
from epro.audit import SYSTEM, Actor
from epro.models import QuestionnaireSession, Response, StaffUser, Visit
from epro.questionnaires.answers import enter_on_behalf
from epro.questionnaires.sessions import open_tablet_session
from tests.conftest import sign_in

ALL = set(PRINCIPALS)
STAFF = {"nurse", "investigator", "admin"}
NURSE = {"nurse"}
ADMIN = {"admin"}
PATIENT = {"patient"}

EXPECTED: dict[str, set[str]] = {
    "index": ALL,
    "kiosk.resume": PATIENT,
    "kiosk.language": PATIENT,
    "kiosk.question": PATIENT,
    "kiosk.review": PATIENT,
    "kiosk.submit": PATIENT,
    "kiosk.thanks": ALL,
    "kiosk.locked": ALL,
    "kiosk.pause": PATIENT,
    "staff.login": {"anonymous"} | STAFF,
    "staff.logout": STAFF,
    "staff.set_language": {"anonymous"} | STAFF,
    "staff.home": STAFF,
    "staff.patients": STAFF,
    "staff.patient": STAFF,
    "staff.patient_ics": STAFF,
    "staff.new_patient": NURSE,
    "staff.edit_patient": NURSE,
    "staff.enrol_patient": NURSE,
    "followup.correct_day0": NURSE,
    "followup.withdraw": NURSE,
    "staff.visit": STAFF,
    "staff.start_tablet": NURSE,
    "staff.reschedule": NURSE,
    "staff.mark_missed": NURSE,
    "staff.enter_answers": NURSE,
    "staff.correct_response": NURSE,
    "staff.users": ADMIN,
    "staff.user": ADMIN,
    "staff.user_role": ADMIN,
    "staff.user_active": ADMIN,
    "staff.user_password": ADMIN,
    "staff.user_full_name": ADMIN,
    "signatures.sign": {"investigator"},
    "bundles.download": {"investigator"},
    # Clinical values and baseline characteristics: investigators read them on the visit and patient pages.
    "clinical.enter_values": NURSE,
    "clinical.correct_value": NURSE,
    "clinical.baseline": NURSE,
    "reports.summary": {"nurse", "investigator", "admin"},
    "reports.summaries": {"investigator", "admin"},
    "exports.index": {"investigator", "admin"},
    "exports.download": {"investigator", "admin"},
    "exports.everything": {"investigator", "admin"},
    "audit.trail_list": {"investigator", "admin"},
    "audit.verify": {"investigator", "admin"},
    "study.overview": STAFF,
    "study.acknowledge_review": NURSE,
}


def _denied(principal: str, endpoint: str, method: str, response) -> bool:  # type: ignore[no-untyped-def]
    location = response.headers.get("Location", "")
    if principal == "anonymous":
        if endpoint.startswith("kiosk."):
            return response.status_code == 302 and location.endswith("/tablet/locked")
        if method == "GET":
            return response.status_code == 302 and "/staff/login?next=" in location
        return response.status_code == 401
    if principal == "patient":
        return (
            response.status_code == 302
            and location.endswith("/tablet/")
            and endpoint not in ("kiosk.resume", "index")
        )
    return response.status_code == 403


@pytest.fixture
def matrix_app(app: Flask, world):  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF is tested elsewhere; here we reach the access check
    app.config["SIGNIN_ADDRESS_DELAY_AFTER"] = 1000
    for role in STAFF:
        world.staff(role, role)
    world.staff("victim", "nurse")
    patient = world.patient()
    today = world.today()
    with world.session() as s:
        visits = s.exec(select(Visit).where(Visit.patient_id == patient.id)).all()
        nurse = s.exec(select(StaffUser).where(StaffUser.username == "nurse")).one()
        actor = Actor("staff", nurse.id, "nurse")
        questionnaire = open_tablet_session(s, visits[0], actor)
        values = {"PS1": 70, "WB1": 5, "QOL1": 6}
        enter_on_behalf(s, actor, visits[1], values, "ko", "Paper form", today, today)
        s.commit()
        ids = {
            "patient_id": patient.id,
            "visit_id": visits[2].id,
            "response_id": 1,
            "user_id": s.exec(select(StaffUser).where(StaffUser.username == "victim")).one().id,
            "number": 1,
            "name": "long",
            "code": "WEIGHT",
        }
        app.config["_matrix"] = {"ids": ids, "kiosk": {"sid": questionnaire.id, "token": questionnaire.token}}
    assert SYSTEM
    return app


#: Routes after which the principal's cookie (every copy of it) no longer works, by design. (The tablet's
#: token also rotates whenever staff resume its session, so its cookie is made afresh for every request.)
SESSION_ENDING = {"staff.logout"}


def _cookie_for(app: Flask, principal: str) -> str | None:
    client = app.test_client()
    if principal == "anonymous":
        return None
    if principal == "patient":
        kiosk = app.config["_matrix"]["kiosk"]
        with Session(app.extensions["epro_engine"]) as db:  # its token rotates at every pause and lock
            token = db.get(QuestionnaireSession, kiosk["sid"]).token
        with client.session_transaction() as session:
            session["kiosk"] = {**kiosk, "token": token, "seen": time.time() + 3600}
    else:
        assert sign_in(client, principal).status_code == 302
    cookie = client.get_cookie("epro_session")
    return cookie.value if cookie else None


def test_every_route_has_an_explicit_rule_in_this_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert endpoints - EXPECTED.keys() == set(), (
        "new route(s): add them to EXPECTED with their allowed principals"
    )
    assert EXPECTED.keys() - endpoints == set(), "stale entries in EXPECTED"


def test_access_matrix_is_enforced_on_the_server(matrix_app):
    app = matrix_app
    cookies = {principal: _cookie_for(app, principal) for principal in PRINCIPALS}
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(app.config["_matrix"]["ids"][m.group(1)]), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for principal in PRINCIPALS:
                client = app.test_client()
                if principal == "patient":
                    cookies[principal] = _cookie_for(app, principal)
                if cookies[principal]:
                    client.set_cookie("epro_session", cookies[principal])
                response = client.open(path, method=method)
                response.get_data()
                response.close()  # streamed downloads hold their request context until closed
                if rule.endpoint in SESSION_ENDING:  # sign-out ends every session of the account
                    cookies[principal] = _cookie_for(app, principal)
                assert response.status_code < 500, (rule.endpoint, method, principal, response.status_code)
                denied = _denied(principal, rule.endpoint, method, response)
                should_allow = principal in EXPECTED[rule.endpoint]
                assert denied != should_allow, (
                    rule.endpoint,
                    method,
                    principal,
                    response.status_code,
                    response.headers.get("Location"),
                )
                checked += 1
    print(f"access matrix: {checked} route × method × principal checks")
    assert checked > 100


def _offered_endpoints(app: Flask, html: str) -> set[str]:
    """The endpoints a page links to or posts to (its own site only)."""
    adapter = app.url_map.bind("localhost")
    found = set()
    for kind, target in re.findall(r'<(a|form)\b[^>]*?\b(?:href|action)="(/[^"#?]*)', html):
        method = "POST" if kind == "form" else "GET"
        try:
            endpoint, _args = adapter.match(target, method=method)
        except HTTPException:  # a static file, or a path that takes another method
            continue
        found.add(endpoint)
    return found


def test_pages_offer_each_role_only_what_its_rules_allow(matrix_app):
    """Templates ask the views' own rules (can(endpoint)): a page never offers a link or a form its reader
    would be refused, and does offer each role its own actions."""
    app = matrix_app
    ids = app.config["_matrix"]["ids"]
    with Session(app.extensions["epro_engine"]) as db:
        answered = db.exec(select(Response.visit_id)).first()
    pages = [
        "/staff/",
        "/staff/patients",
        f"/staff/patients/{ids['patient_id']}",
        f"/staff/visits/{answered}",
    ]
    offered: dict[str, set[str]] = {}
    for role in sorted(STAFF):
        client = app.test_client()
        sign_in(client, role)
        offered[role] = set()
        for page in pages:
            response = client.get(page)
            assert response.status_code == 200, (role, page)
            offered[role] |= _offered_endpoints(app, response.text)
        refused = {endpoint for endpoint in offered[role] if role not in EXPECTED[endpoint]}
        assert refused == set(), (role, refused)
    assert {"staff.new_patient", "staff.correct_response", "followup.withdraw"} <= offered["nurse"]
    assert "signatures.sign" in offered["investigator"]
    assert {"staff.users", "audit.trail_list", "exports.index"} <= offered["admin"]
