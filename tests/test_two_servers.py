"""Two app servers (real gunicorn, two processes) on one PostgreSQL database, as docs/deploy.md describes.

A tablet session a nurse begins on one server finishes on the other: the sign-in, the CSRF token and the
tablet's patient mode all live in the signed session cookie, so any server with the same secret key
accepts them, and the answers land in the one database. Runs in both suite runs (it always uses
PostgreSQL).
"""

from __future__ import annotations

import http.cookiejar
import os
import secrets
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import select

from epro import create_app, db, migrate
from epro.catalog import sync_instruments
from epro.models import Response
from tests.conftest import World
from tests.kiosk_helpers import Tablet
from tests.pg_server import free_port

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 60


@dataclass
class Page:
    status_code: int
    text: str
    location: str | None


class _EveryStatus(urllib.request.HTTPErrorProcessor):
    """Hand back redirects and errors as they are, like a test client (no following, no exceptions)."""

    def http_response(self, request, response):  # type: ignore[no-untyped-def]
        return response


class HttpClient:
    """A browser on the tablet talking to one server over real HTTP; its cookie jar can move to another."""

    def __init__(self, base_url: str, jar: http.cookiejar.CookieJar) -> None:
        self.base_url = base_url
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _EveryStatus)

    def _send(self, path: str, data: dict[str, str] | None = None) -> Page:
        body = None if data is None else urllib.parse.urlencode(data).encode()
        with self._opener.open(self.base_url + path, data=body, timeout=30) as response:
            return Page(response.status, response.read().decode(), response.headers.get("Location"))

    def get(self, path: str, follow_redirects: bool = False) -> Page:
        page = self._send(path)
        while follow_redirects and page.status_code in (301, 302, 303) and page.location:
            page = self._send(urllib.parse.urlsplit(page.location).path)
        return page

    def post(self, path: str, data: dict[str, str]) -> Page:
        return self._send(path, data)


class AppServer:
    """`gunicorn 'epro:create_app()'` on a free port of 127.0.0.1, configured only by EPRO_* variables."""

    def __init__(self, name: str, log_dir: Path, **settings: str) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"gunicorn-{name}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("EPRO_")}
        env.update({f"EPRO_{key}": value for key, value in settings.items()})
        command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{self.port}"]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*command, "epro:create_app()"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn {self.name} exited:\n{self.log.read_text()}")
            try:
                urllib.request.urlopen(f"{self.url}/staff/login", timeout=5).close()
                return
            except OSError:
                time.sleep(0.2)
        pytest.fail(
            f"gunicorn {self.name} did not answer within {STARTUP_SECONDS} s:\n{self.log.read_text()}"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


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
def servers(study_on_postgres: World, postgres_url: str, tmp_path: Path) -> Iterator[dict[str, AppServer]]:
    shared_key = "shared-" + secrets.token_hex(32)
    started = {
        "A": AppServer("A", tmp_path, DATABASE_URL=postgres_url, SECRET_KEY=shared_key),
        "B": AppServer("B", tmp_path, DATABASE_URL=postgres_url, SECRET_KEY=shared_key),
        "other key": AppServer("C", tmp_path, DATABASE_URL=postgres_url, SECRET_KEY="other-" + shared_key),
    }
    try:
        for server in started.values():
            server.wait_until_serving()
        yield started
    finally:
        for server in started.values():
            server.stop()


def test_tablet_session_begun_on_one_server_finishes_on_the_other(study_on_postgres, servers):
    world = study_on_postgres
    visit = world.visit(world.patient("EPR-201", language="ko"), "BL")
    jar = http.cookiejar.CookieJar()

    # Server A: the nurse signs in and hands the tablet over for the visit. Then A goes away.
    tablet = Tablet(HttpClient(servers["A"].url, jar))
    tablet.start("nurse1", visit.id)
    servers["A"].stop()

    # A server with another secret key does not honour the cookie: the tablet would be back at sign-in.
    elsewhere = HttpClient(servers["other key"].url, jar).get("/tablet/language")
    assert elsewhere.status_code == 302 and "/tablet/language" not in (elsewhere.location or "")

    # Server B, same key and database: the patient answers, reviews and submits with the same cookie jar.
    tablet.client = HttpClient(servers["B"].url, jar)  # type: ignore[assignment]
    language_page = tablet.client.get("/tablet/language")
    assert language_page.status_code == 200 and "한국어" in language_page.text
    assert (tablet.choose_language("en").location or "").endswith("/tablet/question/1")
    assert (tablet.answer(1, 80).location or "").endswith("/tablet/question/2")
    assert (tablet.answer(2, 6).location or "").endswith("/tablet/question/3")
    assert (tablet.answer(3, 5).location or "").endswith("/tablet/review")
    assert (tablet.submit().location or "").endswith("/tablet/thanks")
    assert "Thank you" in tablet.client.get("/tablet/thanks").text

    with world.session() as s:
        rows = s.exec(select(Response).where(Response.visit_id == visit.id).order_by(Response.id)).all()
    assert [(r.item_code, r.value, r.language, r.entered_by) for r in rows] == [
        ("PS1", 80, "en", "patient"),
        ("WB1", 6, "en", "patient"),
        ("QOL1", 5, "en", "patient"),
    ]
