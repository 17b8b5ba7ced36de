"""What the benchmarks need to drive epro from outside: a free port, an epro process's environment, a
browser with a cookie jar, the form tokens of a page, and a clinic with one visit open for a tablet.

bench is not the test suite and imports nothing from tests/ (the suite's own harness is
tests/gunicorn_harness.py).
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-secret"
NURSE, PASSWORD = "benchnurse", "bench password 1234"
_FIELD = re.compile(r'<input\b[^>]*\bname="(csrf_token|token)"[^>]*\bvalue="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def app_env(database_url: str, **settings: str) -> dict[str, str]:
    """This process's environment without its EPRO_* settings, plus the database, a secret key and
    `settings` (as EPRO_<NAME>)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("EPRO_")}
    env.update(EPRO_DATABASE_URL=database_url, EPRO_SECRET_KEY=SECRET_KEY)
    env.update({f"EPRO_{key}": value for key, value in settings.items()})
    return env


def _hidden_field(html: str, name: str) -> str:
    for field, value in _FIELD.findall(html):
        if field == name:
            return value
    raise ValueError(f"the page has no hidden field {name!r}")


def csrf_of(html: str) -> str:
    return _hidden_field(html, "csrf_token")


def token_of(html: str) -> str:
    """The questionnaire session's token on a tablet page."""
    return _hidden_field(html, "token")


@dataclass(frozen=True)
class Reply:
    status: int
    location: str
    text: str


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


class Browser:
    """One browser on 127.0.0.1:port: a cookie jar; redirects are returned, not followed."""

    def __init__(self, port: int, timeout: float = 60) -> None:
        self.base, self.timeout = f"http://127.0.0.1:{port}", timeout
        self.jar = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _KeepRedirects
        )

    def get(self, path: str) -> Reply:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, **form: str) -> Reply:
        return self._open(urllib.request.Request(self.base + path, data=urlencode(form).encode()))

    def _open(self, request: urllib.request.Request) -> Reply:
        request.add_header("Accept-Language", "ko")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return Reply(response.status, response.headers.get("Location", ""), response.read().decode())
        except urllib.error.HTTPError as answer:  # a redirect (not followed) or an error page
            return Reply(answer.code, answer.headers.get("Location", ""), answer.read().decode())

    def cookie_header(self) -> str:
        """The Cookie header this browser sends (for wrk)."""
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)


def clinic_with_one_open_visit(database_url: str) -> int:
    """A migrated database with nurse NURSE and one patient enrolled today; the id of the baseline visit,
    due today."""
    from sqlmodel import select

    from epro import create_app, db, migrate
    from epro.audit import SYSTEM
    from epro.catalog import sync_instruments
    from epro.clock import clinic_today
    from epro.enrolment import enrol
    from epro.models import Visit
    from epro.registry import create_staff_user, register_patient
    from epro.schedule import load_protocol

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY})
    try:
        with app.app_context():
            migrate.upgrade(db.engine())
            with db.unit_of_work() as session:
                sync_instruments(session)
                create_staff_user(session, SYSTEM, username=NURSE, password=PASSWORD, role="nurse")
                patient = register_patient(
                    session, SYSTEM, study_id="TB-001", birth_year=1960, sex="F", preferred_language="ko"
                )
                enrol(session, patient, load_protocol(app.config["PROTOCOL"]), clinic_today(), SYSTEM)
                query = select(Visit).where(Visit.patient_id == patient.id, Visit.code == "BL")
                visit_id = session.exec(query).one().id
                assert visit_id is not None
                return visit_id
    finally:
        app.extensions["epro_engine"].dispose()


def status_mb(field: str, pid: int | str = "self") -> float:
    """A memory figure of a process from /proc/<pid>/status, in MB: VmRSS now, VmHWM its peak so far (of
    this process image only, unlike os.wait4's ru_maxrss, which also counts the parent's RSS at the fork)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)
