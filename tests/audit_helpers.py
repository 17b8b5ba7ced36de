"""Shared by the audit tests (tests/test_audit.py, tests/test_audit_guard.py): a visit answered on the
tablet, and `flask --app epro audit verify`."""

from __future__ import annotations

from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import World
from tests.kiosk_helpers import Tablet


def answered_visit(world: World, client: FlaskClient, study_id: str = "EPR-101") -> int:
    """Nurse "nurse1" hands the tablet over for the patient's baseline visit, which is answered in English
    (80, 6, 5) and submitted; the visit's id."""
    world.staff("nurse1", "nurse")
    visit = world.visit(world.patient(study_id), "BL")
    assert visit.id is not None
    tablet = Tablet(client)
    tablet.start("nurse1", visit.id)
    tablet.complete("en", (80, 6, 5))
    return visit.id


def audit_verify(app: Flask) -> Result:
    return app.test_cli_runner().invoke(args=["audit", "verify"])
