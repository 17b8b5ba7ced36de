"""A real epro under gunicorn, and browsers that drive it over HTTP, for load, crash and backup tests and
for benchmarks.

- `prepare_clinic(url)` migrates a database with `flask --app epro init-db` and adds nurses and patients
  whose baseline visit is due today.
- `GunicornServer(env)` starts gunicorn on a free port (several workers), waits until every worker
  answers, can SIGKILL a worker, and stops cleanly. It serves whatever database `env` names, so the same
  class runs two servers on one PostgreSQL database.
- `Browser` is one browser: its own cookie jar and keep-alive connection, no redirect following, and
  optional retries of requests a crash cut off (as a person pressing the button again would).
- `RemoteTablet` walks one complete questionnaire: a nurse signs in, opens the visit and hands the
  tablet over, the patient answers every item and submits.
- `Traffic` gathers what every browser saw (requests, statuses, cut connections).

Only the standard library speaks HTTP here: nothing to install.
"""

from __future__ import annotations

import atexit
import ctypes
import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from tests.conftest import PASSWORD, csrf_of, token_of

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET_KEY = "harness-secret-not-json"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def app_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of an epro process: this one's, plus the database and EPRO_* settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("EPRO_")}
    if "EPRO_PASSWORD_HASHING" in os.environ:  # the suite's cheap Argon2 (tests/conftest.py)
        env["EPRO_PASSWORD_HASHING"] = os.environ["EPRO_PASSWORD_HASHING"]
    env.update({"EPRO_DATABASE_URL": database_url, "EPRO_SECRET_KEY": SECRET_KEY})
    env.update({f"EPRO_{key}": value for key, value in settings.items()})
    return env


def flask_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `flask --app epro ARGS` as an operator would; the caller checks returncode and output."""
    return subprocess.run(
        [str(BIN / "flask"), "--app", "epro", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@dataclass(frozen=True)
class Clinic:
    nurses: list[str]
    #: Visit id -> the instrument codes due, for one baseline visit (due today) per patient.
    visits: dict[int, str]
    password: str = PASSWORD


def prepare_clinic(database_url: str, *, patients: int, nurses: int = 4, prefix: str = "LD") -> Clinic:
    """Migrate with the real `init-db` command, then add nurses and enrolled patients (day 0 today)."""
    done = flask_cli(app_env(database_url), "init-db")
    assert done.returncode == 0, done.stderr
    from sqlmodel import select

    from epro import create_app, db
    from epro.audit import SYSTEM
    from epro.clock import clinic_today
    from epro.enrolment import enrol
    from epro.models import Visit
    from epro.registry import create_staff_user, register_patient
    from epro.schedule import load_protocol

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY})
    names = [f"loadnurse{n}" for n in range(nurses)]
    visits = {}
    with app.app_context(), db.unit_of_work() as session:
        for name in names:
            create_staff_user(session, SYSTEM, username=name, password=PASSWORD, role="nurse")
        protocol = load_protocol(app.config["PROTOCOL"])
        for number in range(1, patients + 1):
            patient = register_patient(
                session,
                SYSTEM,
                study_id=f"{prefix}-{number:03d}",
                birth_year=1950 + number % 40,
                sex="MF"[number % 2],
                preferred_language="ko" if number % 3 else "en",
            )
            enrol(session, patient, protocol, clinic_today(), SYSTEM)
            visit = session.exec(
                select(Visit).where(Visit.patient_id == patient.id, Visit.code == "BL")
            ).one()
            visits[visit.id] = visit.instruments
    app.extensions["epro_engine"].dispose()
    return Clinic(names, visits)


def _stop_when_parent_dies() -> None:
    """In the child before exec: Linux sends gunicorn SIGTERM when the thread that started it ends (the
    test process exits or is killed), so no server outlives its test run. Start servers from the
    test's own thread, not from a short-lived helper thread."""
    if sys.platform == "linux":
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class GunicornServer:
    """`gunicorn "epro:create_app()"` on 127.0.0.1, logs in log_dir; use as a context manager.

    With preload (the default) the master builds the app once and forks its workers: they start in
    milliseconds, which matters on a small machine and when killed workers are replaced. The app opens
    no database connection while it is built, so no connection is shared across the fork.
    """

    def __init__(
        self,
        env: dict[str, str],
        log_dir: Path,
        *,
        workers: int = 4,
        worker_class: str = "sync",
        threads: int = 1,
        port: int | None = None,
        timeout: int = 60,
        preload: bool = True,
    ) -> None:
        self.env, self.log_dir, self.workers, self.preload = env, log_dir, workers, preload
        self.worker_class, self.threads, self.timeout = worker_class, threads, timeout
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    @property
    def error_log(self) -> Path:
        return self.log_dir / f"gunicorn-{self.port}-error.log"

    def start(self) -> GunicornServer:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        command = [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--threads",
            str(self.threads),
            "--timeout",
            str(self.timeout),
            "--graceful-timeout",
            "10",
            "--backlog",
            "256",
            "--error-logfile",
            str(self.error_log),
            *(["--preload"] if self.preload else []),
            "epro:create_app()",
        ]
        self.process = subprocess.Popen(
            command, env=self.env, cwd=ROOT, start_new_session=True, preexec_fn=_stop_when_parent_dies
        )
        atexit.register(self.stop)
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        """Until every worker is up and the sign-in page answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.log_tail()
            if len(self.worker_pids()) >= self.workers:
                probe = Browser(self.port, timeout=5)
                try:
                    if probe.get("/staff/login").status == 200:
                        return
                except ConnectionCut:
                    pass
                finally:
                    probe.close()
            time.sleep(0.1)
        raise TimeoutError(f"gunicorn did not come up: {self.log_tail()}")

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except FileNotFoundError:
            return []

    def kill_worker(self, sig: signal.Signals = signal.SIGKILL) -> int | None:
        """Kill one worker at random (the master starts a new one); returns its pid."""
        pids = self.worker_pids()
        if not pids:
            return None
        victim = random.choice(pids)
        try:
            os.kill(victim, sig)
        except ProcessLookupError:
            return None
        self.kills += 1
        return victim

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        if not self.error_log.exists():
            return ""
        return "\n".join(self.error_log.read_text(errors="replace").splitlines()[-lines:])

    def error_summary(self) -> Counter[str]:
        """The exceptions the workers logged (their last traceback line), counted."""
        if not self.error_log.exists():
            return Counter()
        lines = self.error_log.read_text(errors="replace").splitlines()
        return Counter(line for line in lines if re.match(r"^[\w.]+(Error|Exception)\b", line))

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class ConnectionCut(Exception):
    """The server closed or refused the connection without an answer (e.g. its worker was killed)."""


class FlowError(AssertionError):
    """The app answered something a tablet did not expect."""


@dataclass
class Page:
    method: str
    path: str
    status: int
    location: str
    text: str


@dataclass
class Traffic:
    """What every browser saw; thread-safe."""

    statuses: Counter[int] = field(default_factory=Counter)
    cuts: int = 0
    server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, page: Page) -> None:
        with self.lock:
            self.statuses[page.status] += 1
            if page.status >= 500:
                self.server_errors.append(f"{page.status} {page.method} {page.path}")

    def cut(self) -> None:
        with self.lock:
            self.cuts += 1

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def count_5xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


class Browser:
    """One browser: a cookie jar and a keep-alive connection; redirects are returned, not followed."""

    def __init__(
        self, port: int, *, traffic: Traffic | None = None, retries: int = 0, timeout: float = 60
    ) -> None:
        self.port, self.traffic, self.retries, self.timeout = port, traffic, retries, timeout
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None

    def get(self, path: str) -> Page:
        return self.request("GET", path)

    def post(self, path: str, **form: str) -> Page:
        return self.request("POST", path, form)

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Page:
        """Send, resending up to `retries` times when a crash cut the connection off."""
        for attempt in range(self.retries + 1):
            try:
                return self._send(method, path, form)
            except ConnectionCut:
                if self.traffic is not None:
                    self.traffic.cut()
                if attempt == self.retries:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, form: dict[str, str] | None) -> Page:
        headers = {"Accept-Language": "ko"}
        body = None
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        except (http.client.HTTPException, OSError) as exc:
            self.close()
            raise ConnectionCut(f"{method} {path}: {exc!r}") from exc
        for header in response.headers.get_all("Set-Cookie") or []:
            self._store_cookie(header)
        if response.will_close:
            self.close()
        page = Page(method, path, response.status, response.headers.get("Location", ""), text)
        if self.traffic is not None:
            self.traffic.saw(page)
        return page

    def _store_cookie(self, header: str) -> None:
        for name, morsel in SimpleCookie(header).items():
            if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _expect(page: Page, status: int, location_end: str | None = None) -> Page:
    if page.status != status or (location_end is not None and not page.location.endswith(location_end)):
        raise FlowError(f"{page.method} {page.path}: {page.status} -> {page.location!r}")
    return page


@dataclass
class RemoteTablet:
    """A nurse hands this tablet over for one visit; the patient answers each item and submits."""

    browser: Browser
    nurse: str
    password: str
    visit_id: int
    answers: list[int]
    language: str = "ko"
    #: The staff page the nurse starts the tablet from ({visit_id} is filled in): the visit's own page,
    #: or "/staff/" for the clinic list (whose size grows with the clinic).
    start_page: str = "/staff/visits/{visit_id}"
    #: Press Submit twice at once (two requests with the same cookie), as an impatient finger does.
    double_tap: bool = False
    #: The statuses of the two submits of a double tap, sorted.
    tap_statuses: list[int] = field(default_factory=list)
    #: "thanks" (the submit was acknowledged), "already submitted" (a resent submit found it done),
    #: or what went wrong; None until the walk ends.
    outcome: str | None = None
    #: time.monotonic() when the submit was sent and when its answer arrived.
    submit_sent_at: float | None = None
    acknowledged_at: float | None = None

    def run(self) -> None:
        try:
            self.outcome = self._walk()
            self.acknowledged_at = time.monotonic()
        except (FlowError, ConnectionCut) as exc:
            self.outcome = f"failed: {exc}"
        finally:
            self.browser.close()

    @property
    def acknowledged(self) -> bool:
        return self.outcome in ("thanks", "already submitted")

    def _walk(self) -> str:
        b = self.browser
        login = _expect(b.get("/staff/login"), 200)
        _expect(
            b.post(
                "/staff/login", username=self.nurse, password=self.password, csrf_token=csrf_of(login.text)
            ),
            302,
        )
        page = _expect(b.get(self.start_page.format(visit_id=self.visit_id)), 200)
        _expect(
            b.post(f"/staff/visits/{self.visit_id}/tablet", csrf_token=csrf_of(page.text)), 302, "/tablet/"
        )
        first = _expect(b.get("/tablet/language"), 200)
        form = {"csrf_token": csrf_of(first.text), "token": token_of(first.text)}
        _expect(b.post("/tablet/language", language=self.language, **form), 302)
        for number, value in enumerate(self.answers, start=1):
            _expect(b.get(f"/tablet/question/{number}"), 200)
            following = "/tablet/review" if number == len(self.answers) else f"/tablet/question/{number + 1}"
            _expect(b.post(f"/tablet/question/{number}", value=str(value), **form), 302, following)
        _expect(b.get("/tablet/review"), 200)
        self.submit_sent_at = time.monotonic()
        done = self._double_tap(form) if self.double_tap else b.post("/tablet/submit", **form)
        if done.status == 409:
            return "already submitted"
        _expect(done, 302, "/tablet/thanks")
        _expect(b.get("/tablet/thanks"), 200)
        return "thanks"

    def _double_tap(self, form: dict[str, str]) -> Page:
        twin = Browser(self.browser.port, traffic=self.browser.traffic, retries=self.browser.retries)
        twin.cookies = dict(self.browser.cookies)
        pages: dict[int, Page | Exception] = {}

        def tap(index: int, browser: Browser) -> None:
            try:
                pages[index] = browser.post("/tablet/submit", **form)
            except ConnectionCut as exc:
                pages[index] = exc
            finally:
                browser.close()

        threads = [threading.Thread(target=tap, args=pair) for pair in ((0, self.browser), (1, twin))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        answered = [page for page in pages.values() if isinstance(page, Page)]
        if not answered:
            raise ConnectionCut("both taps of a double tap were cut off")
        self.tap_statuses = sorted(page.status for page in answered)
        if pages.get(1) is not None and isinstance(pages[1], Page) and pages[1].status == 302:
            self.browser.cookies = twin.cookies  # the twin's answer is the one the screen shows
        return next((page for page in answered if page.status == 302), answered[0])


class WorkerKiller(threading.Thread):
    """SIGKILLs a random worker every `every` seconds once `after_requests` requests were answered,
    until `kills` workers died or stop() is called: a crash in the middle of real traffic."""

    def __init__(
        self, server: GunicornServer, traffic: Traffic, *, kills: int, every: float, after_requests: int
    ) -> None:
        super().__init__(daemon=True)
        self.server, self.traffic, self.kills = server, traffic, kills
        self.every, self.after_requests = every, after_requests
        self.stopped = threading.Event()
        self.victims: list[int] = []

    def run(self) -> None:
        while not self.stopped.is_set() and self.traffic.requests < self.after_requests:
            time.sleep(0.01)
        while not self.stopped.is_set() and len(self.victims) < self.kills:
            victim = self.server.kill_worker(signal.SIGKILL)
            if victim is not None:
                self.victims.append(victim)
            self.stopped.wait(self.every)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


def run_together(tablets: Iterable[RemoteTablet]) -> None:
    """Walk every tablet in its own thread, all starting at once."""
    tablets = list(tablets)
    barrier = threading.Barrier(len(tablets) + 1)

    def walk(tablet: RemoteTablet) -> None:
        barrier.wait()
        tablet.run()

    threads = [threading.Thread(target=walk, args=(t,), daemon=True) for t in tablets]
    for thread in threads:
        thread.start()
    barrier.wait()
    for thread in threads:
        thread.join(timeout=300)


def random_answers(visit_instruments: str, rng: random.Random) -> list[int]:
    """One allowed value per item of the visit's instruments, in the order the tablet shows them."""
    from epro import instruments

    values = []
    for code in visit_instruments.split():
        for item in instruments.current(code).items:
            values.append(rng.choice(sorted(item.values)))
    return values


@dataclass
class VisitRecord:
    """What the database holds for one visit after a run."""

    session_states: list[str]
    #: Submitted answers in the order the tablet asked them.
    responses: list[int]
    drafts: int


def stored_visits(database_url: str) -> dict[int, VisitRecord]:
    """Read every visit's sessions, answers and drafts straight from the database."""
    from sqlalchemy import create_engine
    from sqlmodel import Session, col, select

    from epro.models import DraftAnswer, QuestionnaireSession, Response, Visit

    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            records = {visit_id: VisitRecord([], [], 0) for visit_id in session.exec(select(Visit.id)).all()}
            for visit_id, state in session.exec(
                select(QuestionnaireSession.visit_id, QuestionnaireSession.state).order_by(
                    col(QuestionnaireSession.id)
                )
            ).all():
                records[visit_id].session_states.append(state)
            for visit_id, value in session.exec(
                select(Response.visit_id, Response.value).order_by(col(Response.id))
            ).all():
                records[visit_id].responses.append(value)
            for visit_id in session.exec(
                select(QuestionnaireSession.visit_id).join(
                    DraftAnswer, col(DraftAnswer.session_id) == QuestionnaireSession.id
                )
            ).all():
                records[visit_id].drafts += 1
        return records
    finally:
        engine.dispose()


def sqlite_integrity(path: Path) -> list[str]:
    """PRAGMA integrity_check: ["ok"] for a sound database file."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(path)) as connection:
        return [row[0] for row in connection.execute("PRAGMA integrity_check")]


def audit_chain(database_url: str):  # type: ignore[no-untyped-def]
    """The audit chain report (epro.audit.verify) of a database, read from outside the server."""
    from sqlalchemy import create_engine
    from sqlmodel import Session

    from epro.audit.verify import verify_chain

    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            return verify_chain(session)
    finally:
        engine.dispose()
