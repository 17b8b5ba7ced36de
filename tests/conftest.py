"""Fixtures: a real app on a real database (a copy of one migrated by Alembic), and story-like helpers."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings
from sqlmodel import Session, col, func, select
from werkzeug.test import TestResponse

from epro import create_app, db
from epro.audit import SYSTEM
from epro.clock import clinic_today
from epro.enrolment import enrol
from epro.models import AuditEvent, Patient, Visit
from epro.registry import create_staff_user, register_patient
from epro.schedule import load_protocol
from tests.databases import database_url

# Database of the run (SQLite, or PostgreSQL with EPRO_TEST_DB=postgresql): tests/databases.py.
pytest_plugins = ["tests.database_plugin"]

PASSWORD = "correct horse battery"

# The cheapest Argon2 parameters for every app of the run, in this process and in the servers and commands
# it starts (tests/gunicorn_harness.py passes it on): the suite makes thousands of accounts and sign-ins.
# tests/test_passwords.py asserts the production parameters.
os.environ.setdefault("EPRO_PASSWORD_HASHING", "test-only-cheap")

# Hypothesis: derandomised by default, so `make test` on a clean clone tries the same examples every run;
# a failure prints its example and a @reproduce_failure blob. HYPOTHESIS_PROFILE=explore searches afresh.
settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None, database=None)
settings.register_profile("explore", print_blob=True, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With pytest-xdist (`make test` runs `-n 2 --dist loadgroup`): each test module stays on one worker,
    in order, with its module fixtures built once; the browser journeys all go to one worker, so one
    Chromium and one pair of servers serve them."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        module = Path(item.path).relative_to(Path(__file__).parent)
        group = "e2e" if module.parts[0] == "e2e" else str(module)
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app on the test's own database, already migrated (tests/databases.py copies a template)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url(tmp_path),
            "AUDIT_KEY_FILE": str(tmp_path / "audit_key"),
            "AUDIT_ANCHOR_FILE": str(tmp_path / "audit-anchors"),
        }
    )
    yield app
    app.extensions["epro_engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class World:
    """Builds study objects so tests read as stories."""

    app: Flask

    def session(self) -> Session:
        return Session(self.app.extensions["epro_engine"], expire_on_commit=False)

    def staff(self, username: str = "nurse1", role: str = "nurse", language: str = "ko") -> int:
        with self.app.app_context(), db.unit_of_work() as s:
            user = create_staff_user(
                s, SYSTEM, username=username, password=PASSWORD, role=role, preferred_language=language
            )
            return user.id  # type: ignore[return-value]

    def patient(self, study_id: str = "EPR-101", *, language: str = "ko", day0_offset: int = 0) -> Patient:
        """A patient enrolled with day 0 = today + day0_offset (clinic time)."""
        with self.app.app_context(), db.unit_of_work() as s:
            patient = register_patient(
                s, SYSTEM, study_id=study_id, birth_year=1965, sex="F", preferred_language=language
            )
            day0 = clinic_today() + timedelta(days=day0_offset)
            enrol(s, patient, load_protocol("default"), day0, SYSTEM)
            return patient

    def visit(self, patient: Patient, code: str) -> Visit:
        with self.session() as s:
            return s.exec(select(Visit).where(Visit.patient_id == patient.id, Visit.code == code)).one()

    def visits(self, patient_id: int) -> dict[str, Visit]:
        """The patient's visits by code."""
        with self.session() as s:
            return {v.code: v for v in s.exec(select(Visit).where(Visit.patient_id == patient_id)).all()}

    def audit(self, action: str) -> list[AuditEvent]:
        """The audit events of one action, oldest first."""
        with self.session() as s:
            query = select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
            return list(s.exec(query).all())

    def audit_count(self) -> int:
        with self.session() as s:
            return s.exec(select(func.count()).select_from(AuditEvent)).one()

    def today(self) -> date:
        with self.app.app_context():
            return clinic_today()


@pytest.fixture
def world(app: Flask) -> World:
    return World(app)


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
TOKEN_RE = re.compile(r'id="token" name="token" type="hidden" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1) or match.group(2)


def token_of(html: str) -> str:
    match = TOKEN_RE.search(html)
    assert match, "page has no session token"
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    page = client.get("/staff/login")
    return client.post(
        "/staff/login", data={"username": username, "password": password, "csrf_token": csrf_of(page.text)}
    )


def nurse_signed_in(world: World, client: FlaskClient, language: str = "ko") -> str:
    """Nurse "nurse1" created and signed in on `client`; the CSRF token of the staff pages."""
    world.staff("nurse1", "nurse", language)
    assert sign_in(client, "nurse1").status_code == 302
    return csrf_of(client.get("/staff/").text)


def post_form(client: FlaskClient, path: str, csrf: str, **data: str) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf, **data})
