"""Two app servers (real gunicorn, two workers each) on one PostgreSQL database, as docs/deploy.md describes.

A tablet session a nurse begins on one server finishes on the other: the sign-in, the CSRF token and the
tablet's patient mode all live in the signed session cookie, so any server with the same secret key
accepts them, and the answers land in the one database. Runs in both suite runs (it always uses
PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from epro import create_app, db, migrate
from epro.catalog import sync_instruments
from epro.models import Response
from tests.conftest import PASSWORD, World, csrf_of, token_of
from tests.gunicorn_harness import Browser, GunicornServer, Page, app_env


@pytest.fixture
def study_on_postgres(postgres_url: str) -> Iterator[World]:
    """A nurse and an enrolled patient in a PostgreSQL database (whatever the suite's database)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "setup-only", "DATABASE_URL": postgres_url})
    with app.app_context():
        migrate.upgrade(db.engine())
        with db.unit_of_work() as session:
            sync_instruments(session)
    world = World(app)
    world.staff("nurse1")
    yield world
    app.extensions["epro_engine"].dispose()


@pytest.fixture
def servers(
    study_on_postgres: World, postgres_url: str, tmp_path: Path
) -> Iterator[dict[str, GunicornServer]]:
    """Servers A and B share the database and the secret key; a third shares only the database."""
    env = app_env(postgres_url)
    started = {
        "A": GunicornServer(env, tmp_path / "A", workers=2),
        "B": GunicornServer(env, tmp_path / "B", workers=2),
        "other key": GunicornServer(app_env(postgres_url, SECRET_KEY="other"), tmp_path / "C", workers=1),
    }
    try:
        # One after the other from this thread: the harness ties each server's life to the thread that
        # started it (parent-death signal), so a helper thread's exit would stop the server.
        for server in started.values():
            server.start()
        yield started
    finally:
        for server in started.values():
            server.stop()


def moved(browser: Browser, server: GunicornServer) -> Browser:
    """The same browser (its cookie jar) now talking to another server, as after a proxy's switch."""
    other = Browser(server.port)
    other.cookies = dict(browser.cookies)
    browser.close()
    return other


def expect(page: Page, status: int, location_end: str = "") -> Page:
    assert page.status == status and page.location.endswith(location_end), (
        page.path,
        page.status,
        page.location,
    )
    return page


def test_tablet_session_begun_on_one_server_finishes_on_the_other(study_on_postgres, servers):
    world = study_on_postgres
    visit = world.visit(world.patient("EPR-201", language="ko"), "BL")

    # Server A: the nurse signs in and hands the tablet over for the visit. Then A goes away.
    tablet = Browser(servers["A"].port)
    login = expect(tablet.get("/staff/login"), 200)
    expect(
        tablet.post("/staff/login", username="nurse1", password=PASSWORD, csrf_token=csrf_of(login.text)), 302
    )
    home = expect(tablet.get("/staff/"), 200)
    expect(tablet.post(f"/staff/visits/{visit.id}/tablet", csrf_token=csrf_of(home.text)), 302, "/tablet/")
    first = expect(tablet.get("/tablet/language"), 200)
    form = {"csrf_token": csrf_of(first.text), "token": token_of(first.text)}
    servers["A"].stop()

    # A server with another secret key does not honour the cookie: the tablet would be locked out.
    elsewhere = moved(tablet, servers["other key"])
    expect(elsewhere.get("/tablet/language"), 302)
    elsewhere.close()

    # Server B, same key and database: the patient answers, reviews and submits with the same cookies.
    tablet = moved(tablet, servers["B"])
    assert "한국어" in expect(tablet.get("/tablet/language"), 200).text
    expect(tablet.post("/tablet/language", language="en", **form), 302, "/tablet/question/1")
    for number, value in ((1, 80), (2, 6), (3, 5)):
        following = "/tablet/review" if number == 3 else f"/tablet/question/{number + 1}"
        expect(tablet.post(f"/tablet/question/{number}", value=str(value), **form), 302, following)
    expect(tablet.post("/tablet/submit", **form), 302, "/tablet/thanks")
    assert "Thank you" in expect(tablet.get("/tablet/thanks"), 200).text
    tablet.close()

    with world.session() as s:
        rows = s.exec(select(Response).where(Response.visit_id == visit.id).order_by(Response.id)).all()
    assert [(r.item_code, r.value, r.language, r.entered_by) for r in rows] == [
        ("PS1", 80, "en", "patient"),
        ("WB1", 6, "en", "patient"),
        ("QOL1", 5, "en", "patient"),
    ]
