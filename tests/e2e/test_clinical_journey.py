"""A nurse enters laboratory values at a visit, in a real browser at 1024x768: a value outside the usual
range is held back until she ticks the confirmation, then saved and flagged; every screen passes axe."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Browser, expect
from sqlmodel import select

from epro import db
from epro.audit import SYSTEM
from epro.clock import clinic_today
from epro.enrolment import enrol
from epro.models import ClinicalValue
from epro.registry import register_patient
from epro.schedule import load_protocol
from tests.e2e.conftest import Study
from tests.e2e.screens import LANDSCAPE, Inspector, squeeze, tablet
from tests.e2e.test_journeys import sign_in, url_of
from tests.gunicorn_harness import GunicornServer

STUDY_ID = "EJ-401"


def _patient_with_a_past_visit(study: Study) -> tuple[int, date]:
    """EJ-401, day 0 twenty days ago: week 2 is past, with no clinical value yet. Its id and date."""
    app = study.app()
    try:
        with app.app_context(), db.unit_of_work() as session:
            patient = register_patient(
                session, SYSTEM, study_id=STUDY_ID, birth_year=1960, sex="M", preferred_language="ko"
            )
            day0 = clinic_today() - timedelta(days=20)
            visits = enrol(session, patient, load_protocol(app.config["PROTOCOL"]), day0, SYSTEM)
            week2 = next(v for v in visits if v.code == "W2")
            return week2.id, week2.target_date  # type: ignore[return-value]
    finally:
        app.extensions["epro_engine"].dispose()


def _values(study: Study, visit_id: int) -> dict[str, ClinicalValue]:
    app = study.app()
    try:
        with app.app_context(), db.unit_of_work() as session:
            rows = session.exec(select(ClinicalValue).where(ClinicalValue.visit_id == visit_id)).all()
            return {row.measure_code: row for row in rows}
    finally:
        app.extensions["epro_engine"].dispose()


def test_a_nurse_enters_a_laboratory_value_confirms_an_unusual_one_and_sees_it_flagged(
    server: GunicornServer, chromium: Browser, study: Study, artifacts: Path
) -> None:
    visit_id, visit_date = _patient_with_a_past_visit(study)
    seen = Inspector(artifacts)
    context = tablet(chromium, LANDSCAPE, "ko")
    page = context.new_page()
    sign_in(page, server, "nurse_ko", study.password, seen)

    page.goto(url_of(server, f"/staff/visits/{visit_id}"))
    expect(page.locator("#clinical-heading")).to_have_text("임상 지표")
    assert "프로트롬빈 시간 (활성도)" in squeeze(page.inner_text("section.clinical"))  # the criterion
    seen.axe(page, "clinical-visit-empty")
    page.tap("section.clinical a.button")
    page.wait_for_url(f"**/staff/visits/{visit_id}/clinical")
    seen.axe(page, "clinical-entry")
    expect(page.locator("#sample_date")).to_have_value(visit_date.isoformat())  # defaults to the visit date

    page.fill("#value_ALB", "1.2")  # albumin below the usual 1.5-5.5 g/dL
    page.fill("#value_WEIGHT", "61.5")
    page.tap("form button.primary")
    expect(page.locator(".field-error").first).to_contain_text("통상 범위(1.5–5.5 g/dL)를 벗어난 값입니다")
    expect(page.locator("#value_ALB")).to_have_value("1.2")  # what she typed is kept
    expect(page.locator("#value_WEIGHT")).to_have_value("61.5")
    assert _values(study, visit_id) == {}
    seen.axe(page, "clinical-entry-needs-confirmation")
    seen.shot(page, "clinical-entry-needs-confirmation")

    page.check("#confirm_ALB")
    page.tap("form button.primary")
    page.wait_for_url(f"**/staff/visits/{visit_id}*")
    text = squeeze(page.inner_text("section.clinical"))
    assert "1.2 g/dL" in text and "통상 범위 이탈 (확인됨)" in text and "61.5 kg" in text
    seen.axe(page, "clinical-visit-filled")
    seen.shot(page, "clinical-visit-filled")

    values = _values(study, visit_id)
    assert values["ALB"].value_number == Decimal("1.2") and values["ALB"].out_of_range
    assert values["WEIGHT"].value_number == Decimal("61.5") and not values["WEIGHT"].out_of_range
    context.close()
    seen.assert_clean()
