"""Session cookies and security headers as a browser (and an attacker) sees them."""

from __future__ import annotations

import pytest

from tests.conftest import sign_in
from tests.kiosk_helpers import Tablet


def test_every_response_carries_the_security_headers(client):
    for path in ("/staff/login", "/tablet/locked", "/static/css/app.css", "/no-such-page"):
        response = client.get(path)
        response.close()
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_pages_carry_no_inline_script(world, client):
    world.staff()
    sign_in(client, "nurse1")
    for path in ("/staff/", "/staff/patients", "/staff/login"):
        assert "<script>" not in client.get(path).text
        assert " onclick=" not in client.get(path).text


def test_session_cookie_is_httponly_lax_and_secure_over_https(world, app):
    world.staff()
    plain = app.test_client()
    response = sign_in(plain, "nurse1")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = app.test_client()
    page = secure.get("/staff/login", base_url="https://localhost")
    from tests.conftest import csrf_of

    response = secure.post(
        "/staff/login",
        base_url="https://localhost",
        data={"username": "nurse1", "password": "correct horse battery", "csrf_token": csrf_of(page.text)},
        headers={"Referer": "https://localhost/staff/login"},
    )
    assert "Secure" in response.headers["Set-Cookie"]


def test_tablet_pages_hold_no_patient_data_in_titles_or_urls(world, client):
    world.staff()
    patient = world.patient("EPR-777")
    tablet = Tablet(client)
    tablet.start("nurse1", world.visit(patient, "BL").id)
    tablet.choose_language("ko")
    for path in ("/tablet/language", "/tablet/question/1", "/tablet/locked"):
        page = client.get(path)
        assert "<title>epro</title>" in page.text
        assert "EPR-777" not in page.text and "EPR-777" not in path


def test_pages_are_not_cached(world, client):
    world.staff()
    sign_in(client, "nurse1")
    assert client.get("/staff/").headers["Cache-Control"] == "no-store"


def test_oversized_request_is_refused(world, client):
    world.staff()
    sign_in(client, "nurse1")
    response = client.post("/staff/patients/new", data={"study_id": "x" * 200_000})
    assert response.status_code == 413
    assert "너무 큽니다" in response.text


def test_wsgi_refuses_debug(monkeypatch):
    import importlib
    import sys

    monkeypatch.setenv("EPRO_DEBUG", "true")
    sys.modules.pop("wsgi", None)
    with pytest.raises(RuntimeError, match="debug"):
        importlib.import_module("wsgi")
    sys.modules.pop("wsgi", None)


def test_control_characters_are_refused_and_nothing_is_stored(world, client):
    world.staff()
    visit = world.visit(world.patient(day0_offset=-30), "M1")
    sign_in(client, "nurse1")
    from tests.conftest import csrf_of

    csrf = csrf_of(client.get("/staff/").text)
    for reason in ("left\x00early", "bell\x07", "esc\x1b[31m"):
        response = client.post(
            f"/staff/visits/{visit.id}/missed", data={"csrf_token": csrf, "reason": reason}
        )
        assert response.status_code == 400 and "저장되지 않았습니다" in response.text
    from epro.models import Visit

    with world.session() as s:
        assert s.get(Visit, visit.id).missed_at is None
    assert client.get("/staff/patients", query_string={"q": "EPR\x00-101"}).status_code == 200


def test_behind_a_proxy_the_forwarded_scheme_makes_the_cookie_secure(tmp_path):
    from epro import create_app, db, migrate
    from tests.databases import database_url

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "k", "DATABASE_URL": database_url(tmp_path), "PROXY_FIX_X_PROTO": 1}
    )
    with app.app_context():
        migrate.upgrade(db.engine())
    response = app.test_client().get("/staff/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in response.headers["Set-Cookie"]
    app.extensions["epro_engine"].dispose()
