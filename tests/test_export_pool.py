"""Finding 2 of issue 14: exports and PDF downloads hold at most one pooled connection at a time, a
request that finds the pool busy gets a clear 503 at once (never a 500, never a body cut off half way),
and the server recovers by itself: 20 exports at once on the dev server and under gunicorn."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from epro import create_app, db, migrate
from epro.audit import SYSTEM
from epro.catalog import sync_instruments
from epro.registry import create_staff_user
from tests.conftest import PASSWORD, csrf_of, sign_in
from tests.databases import database_url

BUSY = "지금은 서버가 바쁩니다"


def _app(tmp_path: Path, **pool: object) -> Flask:
    app = create_app({"TESTING": True, "SECRET_KEY": "pool", "DATABASE_URL": database_url(tmp_path), **pool})
    with app.app_context():
        migrate.upgrade(db.engine())
        with db.unit_of_work() as session:
            sync_instruments(session)
            create_staff_user(session, SYSTEM, username="inv1", password=PASSWORD, role="investigator")
            create_staff_user(session, SYSTEM, username="nurse1", password=PASSWORD, role="nurse")
    return app


@pytest.fixture
def one_connection_app(tmp_path: Path) -> Iterator[Flask]:
    """A pool of exactly one connection: a request that needed two at once could never finish."""
    app = _app(tmp_path, DB_POOL_SIZE=1, DB_POOL_OVERFLOW=0, DB_POOL_TIMEOUT=2)
    yield app
    app.extensions["epro_engine"].dispose()


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize("name", ["long", "sdtm-qs", "audit", "dictionary"])
def test_an_export_needs_only_one_connection(one_connection_app, name):
    client = one_connection_app.test_client()
    sign_in(client, "inv1")
    response = client.get(f"/exports/{name}.csv")
    assert response.status_code == 200
    body = response.get_data()
    response.close()
    if name == "audit":
        assert _rows(body)[-1]["action"] == "export.audit"


def test_a_pdf_summary_needs_only_one_connection(one_connection_app):
    from datetime import timedelta

    from epro.clock import clinic_today
    from epro.enrolment import enrol
    from epro.registry import register_patient
    from epro.schedule import load_protocol

    app = one_connection_app
    with app.app_context(), db.unit_of_work() as s:
        patient = register_patient(
            s, SYSTEM, study_id="EPR-401", birth_year=1960, sex="F", preferred_language="ko"
        )
        enrol(s, patient, load_protocol("default"), clinic_today() - timedelta(days=10), SYSTEM)
        patient_id = patient.id
    client = app.test_client()
    sign_in(client, "nurse1")
    csrf = csrf_of(client.get("/staff/").text)
    response = client.post(f"/reports/patients/{patient_id}/summary", data={"lang": "en", "csrf_token": csrf})
    assert response.status_code == 200 and response.data[:5] == b"%PDF-"


def test_a_busy_pool_is_a_clear_503_and_the_next_export_works(one_connection_app):
    app = one_connection_app
    client = app.test_client()
    sign_in(client, "inv1")
    held = app.extensions["epro_engine"].connect()  # someone else holds the only connection
    try:
        busy = client.get("/exports/long.csv")
        assert busy.status_code == 503 and BUSY in busy.text
        assert busy.headers["Retry-After"] and busy.headers["Cache-Control"] == "no-store"
    finally:
        held.close()
    again = client.get("/exports/audit.csv")
    assert again.status_code == 200 and _rows(again.get_data())[-1]["action"] == "export.audit"


# --- 20 exports at once ----------------------------------------------------------------------------------

EXPORTS = 20


def _twenty_exports_at_once(port: int, cookie: str) -> list[tuple[int, bytes]]:
    from tests.gunicorn_harness import Browser

    results: list[tuple[int, bytes]] = []
    lock = threading.Lock()
    start = threading.Barrier(EXPORTS)

    def one(number: int) -> None:
        browser = Browser(port, timeout=120)
        browser.cookies["epro_session"] = cookie
        start.wait()
        page = browser.get(f"/exports/{('audit', 'long', 'sdtm-qs', 'dictionary')[number % 4]}.csv")
        browser.close()
        with lock:
            results.append((page.status, page.text.encode("utf-8")))

    threads = [threading.Thread(target=one, args=(n,)) for n in range(EXPORTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return results


def _signed_in_cookie(port: int) -> str:
    from tests.gunicorn_harness import Browser

    browser = Browser(port)
    page = browser.get("/staff/login")
    answer = browser.post("/staff/login", username="inv1", password=PASSWORD, csrf_token=csrf_of(page.text))
    assert answer.status == 302
    browser.close()
    return browser.cookies["epro_session"]


def _check(results: list[tuple[int, bytes]], port: int, cookie: str) -> None:
    from tests.gunicorn_harness import Browser

    assert len(results) == EXPORTS
    statuses = sorted(status for status, _body in results)
    assert set(statuses) <= {200, 503}, statuses
    for status, body in results:
        if status == 503:
            assert BUSY in body.decode("utf-8")
        else:  # a complete CSV: its header, and every row ended
            text = body.decode("utf-8")
            assert not text.startswith("\ufeff") and "," in text.splitlines()[0] and text.endswith("\r\n")
    browser = Browser(port)
    browser.cookies["epro_session"] = cookie
    after = browser.get("/exports/audit.csv")
    browser.close()
    assert after.status == 200 and _rows(after.text.encode("utf-8"))[-1]["action"] == "export.audit"


def _study(url: str) -> None:
    from tests.gunicorn_harness import prepare_clinic

    prepare_clinic(url, patients=60, nurses=1)


@pytest.mark.sqlite_only(reason="the dev server in this process, on a SQLite file")
def test_twenty_exports_at_once_on_the_dev_server(tmp_path: Path) -> None:
    url = database_url(tmp_path)
    _study(url)
    app = create_app({"SECRET_KEY": "pool", "DATABASE_URL": url})
    with app.app_context(), db.unit_of_work() as session:
        create_staff_user(session, SYSTEM, username="inv1", password=PASSWORD, role="investigator")
    server = make_server("127.0.0.1", 0, app, threaded=True)  # what `flask run` serves with
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        cookie = _signed_in_cookie(server.port)
        _check(_twenty_exports_at_once(server.port, cookie), server.port, cookie)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["epro_engine"].dispose()


def test_twenty_exports_at_once_under_gunicorn(tmp_path: Path) -> None:
    """Two gthread workers of four threads: the size of server a 2-core clinic machine runs."""
    from tests.gunicorn_harness import GunicornServer, app_env, flask_cli

    url = database_url(tmp_path)
    _study(url)
    env = app_env(url)
    created = flask_cli(
        env, "create-user", "inv1", "--role", "investigator", stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert created.returncode == 0, created.stderr
    with GunicornServer(env, tmp_path / "logs", workers=2, worker_class="gthread", threads=4) as server:
        cookie = _signed_in_cookie(server.port)
        _check(_twenty_exports_at_once(server.port, cookie), server.port, cookie)
        assert not any("Error" in line for line in server.error_summary()), server.log_tail()
