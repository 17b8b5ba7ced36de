"""The study overview in a real browser at 1024×768: the investigator lands on it after signing in and
reads the constructed study's figures; a nurse acknowledges a clinically meaningful change on the clinic
list. axe-core finds no serious or critical violation on either screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from sqlmodel import select

from epro import db
from epro.models import StaffUser
from tests import study_world
from tests.e2e.conftest import Study
from tests.e2e.screens import LANDSCAPE, Inspector, tablet
from tests.gunicorn_harness import GunicornServer


@pytest.fixture(scope="module")
def constructed(study: Study) -> None:
    app = study.app()
    with app.app_context():
        nurse = db.session().exec(select(StaffUser).where(StaffUser.username == "nurse_ko")).one()
        nurse_id = nurse.id
    study_world.build(app, nurse_id)  # type: ignore[arg-type]
    app.extensions["epro_engine"].dispose()


def _sign_in(page, server: GunicornServer, username: str, password: str, seen: Inspector) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"http://127.0.0.1:{server.port}/staff/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form:has(#username) button.primary")


def test_investigator_lands_on_the_study_overview(
    constructed: None, study: Study, server: GunicornServer, chromium: Browser, artifacts
) -> None:  # type: ignore[no-untyped-def]
    seen = Inspector(artifacts)
    for language in ("en", "ko"):
        context = tablet(chromium, LANDSCAPE, language)
        page = context.new_page()
        _sign_in(page, server, f"investigator_{language}", study.password, seen)
        page.wait_for_url("**/study/")
        text = page.inner_text("main")
        assert "56.7 ± 15.3" in text and "60.0 (50.0–65.0)" in text and "-5.0 ± 21.2" in text
        assert page.locator("svg.study-chart").count() >= 3
        heading = "Study overview" if language == "en" else "연구 현황"
        assert heading in page.inner_text("h1")
        sign_off = "Investigator sign-off" if language == "en" else "연구자 서명"
        assert sign_off in page.inner_text("#matrix thead")
        rows = page.locator("#matrix tbody tr").count()
        assert rows >= 3 and page.locator("#matrix tbody [data-signature-status]").count() == rows
        seen.axe(page, f"{language}-study-overview")
        seen.shot(page, f"study-overview-{language}-landscape")
        context.close()
    seen.assert_clean()


def test_a_nurse_acknowledges_a_meaningful_change(
    constructed: None, study: Study, server: GunicornServer, chromium: Browser, artifacts
) -> None:  # type: ignore[no-untyped-def]
    seen = Inspector(artifacts)
    context = tablet(chromium, LANDSCAPE, "ko")
    page = context.new_page()
    _sign_in(page, server, "nurse_ko", study.password, seen)
    page.wait_for_url("**/staff/")
    row = page.locator('#review tr:has(a:text-is("EPR-202"))')
    assert "PS: 80 → 60 (-20;" in row.inner_text()
    seen.axe(page, "ko-clinic-list-needs-review")
    seen.shot(page, "clinic-list-needs-review-ko-landscape")
    row.locator("textarea").fill("환자와 통화함, 금요일 외래 방문 예정")
    row.locator("button").click()
    page.wait_for_url("**/staff/#review")
    assert "확인 메모가 저장되었습니다." in page.inner_text("main")
    assert page.locator('#review tr:has(a:text-is("EPR-202"))').count() == 0
    assert page.locator('#review tr:has(a:text-is("EPR-201"))').count() == 1
    seen.axe(page, "ko-clinic-list-acknowledged")
    context.close()
    seen.assert_clean()
