"""Fixtures of the browser tests: the real app under gunicorn on 127.0.0.1, a study to work in, and
Debian's Chromium driven by Playwright (never a downloaded browser).

One SQLite database serves two servers: the clinic's (the default tablet idle time) and one whose
tablets lock after a few seconds, for the idle journey. Staff accounts and the patients the journeys
do not register themselves are made directly with epro's registry before the servers start.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from epro import create_app, db
from epro.audit import SYSTEM
from epro.clock import clinic_today
from epro.enrolment import enrol
from epro.registry import create_staff_user, register_patient
from epro.schedule import load_protocol
from tests.conftest import PASSWORD
from tests.gunicorn_harness import ROOT, SECRET_KEY, GunicornServer, app_env, flask_cli

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Seconds without a touch before the idle server's tablets lock: short, yet longer than the few taps the
#: test makes before it stops touching, even on a loaded 2-core machine (3 s locked the tablet mid-answer).
SHORT_IDLE_SECONDS = 10
#: Where the journeys leave their screenshots (git-ignored).
ARTIFACTS = ROOT / "test-artifacts" / "e2e"


@dataclass(frozen=True)
class Study:
    database_url: str
    password: str = PASSWORD

    def app(self):  # type: ignore[no-untyped-def]
        """An app object on the study's database, for looking into it from the test."""
        return create_app({"DATABASE_URL": self.database_url, "SECRET_KEY": SECRET_KEY})


def _prepare(database_url: str) -> None:
    done = flask_cli(app_env(database_url), "init-db")
    assert done.returncode == 0, done.stderr
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY})
    with app.app_context(), db.unit_of_work() as session:
        for language in ("ko", "en"):
            for role in ("nurse", "investigator"):
                create_staff_user(
                    session,
                    SYSTEM,
                    username=f"{role}_{language}",
                    password=PASSWORD,
                    role=role,
                    preferred_language=language,
                )
        protocol = load_protocol(app.config["PROTOCOL"])
        # Patients whose baseline visit is due today, for the second tablet session and the idle tablet.
        for study_id, language in (("EJ-201", "ko"), ("EJ-202", "en"), ("EJ-301", "ko")):
            patient = register_patient(
                session, SYSTEM, study_id=study_id, birth_year=1948, sex="F", preferred_language=language
            )
            enrol(session, patient, protocol, clinic_today(), SYSTEM)
    app.extensions["epro_engine"].dispose()


@pytest.fixture(scope="session")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    folder = tmp_path_factory.mktemp("e2e-instance")
    url = f"sqlite:///{folder / 'e.sqlite3'}"
    _prepare(url)
    return Study(url)


def _server(study: Study, log_dir: Path, workers: int, **settings: str) -> Iterator[GunicornServer]:
    server = GunicornServer(app_env(study.database_url, **settings), log_dir, workers=workers)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def server(study: Study, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    yield from _server(study, tmp_path_factory.mktemp("gunicorn"), workers=2)


@pytest.fixture(scope="session")
def idle_server(study: Study, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    yield from _server(
        study,
        tmp_path_factory.mktemp("gunicorn-idle"),
        workers=1,
        KIOSK_IDLE_SECONDS=str(SHORT_IDLE_SECONDS),
    )


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is missing: make system-packages installs it"
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
