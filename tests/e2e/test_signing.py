"""The investigator's signing journey in a real browser at 1024x768, in Korean and in English: review,
a wrong password, sign with a meaning, sign again with the password only, see the signature superseded by
a nurse's correction, and download the certified copy. Every screen passes axe (no serious/critical)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from sqlmodel import select

from epro import db
from epro.audit import SYSTEM, Actor
from epro.clock import clinic_today
from epro.enrolment import enrol
from epro.models import Response, Visit
from epro.questionnaires.answers import correct_response, enter_on_behalf
from epro.registry import create_staff_user, register_patient
from epro.schedule import load_protocol
from tests.e2e.conftest import Study
from tests.e2e.screens import LANDSCAPE, Inspector, tablet
from tests.e2e.test_journeys import PATIENT_PAGE, sign_in, url_of
from tests.gunicorn_harness import GunicornServer

WORDS = {
    "ko": {
        "unsigned": "서명 전",
        "signed": "서명 완료",
        "reviewed": "검토함",
        "approved": "승인함",
        "superseded": "변경으로 서명 무효",
        "wrong": "사용자 이름 또는 비밀번호가 올바르지 않습니다",
    },
    "en": {
        "unsigned": "Not signed yet",
        "signed": "Signed",
        "reviewed": "Reviewed",
        "approved": "Approved",
        "superseded": "Superseded by a change on",
        "wrong": "The user name or password is not correct",
    },
}


def _prepare(study: Study, language: str) -> tuple[str, int]:
    """An investigator with a printed name, and a patient whose baseline a nurse entered."""
    app = study.app()
    study_id = f"SG-{'401' if language == 'ko' else '402'}"
    with app.app_context(), db.unit_of_work() as s:
        create_staff_user(
            s,
            SYSTEM,
            username=f"signer_{language}",
            password=study.password,
            role="investigator",
            preferred_language=language,
            full_name="김지훈" if language == "ko" else "Jihoon Kim",
        )
        patient = register_patient(
            s, SYSTEM, study_id=study_id, birth_year=1950, sex="M", preferred_language=language
        )
        enrol(s, patient, load_protocol(app.config["PROTOCOL"]), clinic_today(), SYSTEM)
        visit = s.exec(select(Visit).where(Visit.patient_id == patient.id, Visit.code == "BL")).one()
        nurse_user = create_staff_user(
            s, SYSTEM, username=f"es_nurse_{language}", password=study.password, role="nurse"
        )
        nurse = Actor("staff", nurse_user.id, nurse_user.username)
        enter_on_behalf(
            s, nurse, visit, {"PS1": 60, "WB1": 4, "QOL1": 4}, language, "e2e", clinic_today(), clinic_today()
        )
        patient_id = patient.id
    app.extensions["epro_engine"].dispose()
    assert patient_id is not None
    return study_id, patient_id


def _correct_an_answer(study: Study, patient_id: int) -> None:
    app = study.app()
    with app.app_context(), db.unit_of_work() as s:
        response = s.exec(
            select(Response)
            .join(Visit, Visit.id == Response.visit_id)
            .where(  # type: ignore[arg-type]
                Visit.patient_id == patient_id, Response.item_code == "PS1"
            )
        ).one()
        correct_response(s, Actor("system", None, "e2e"), response, 70, "e2e")
    app.extensions["epro_engine"].dispose()


def _sign(page: Page, meaning: str, password: str, username: str | None) -> None:
    page.check(f"input[name=meaning][value={meaning}]")
    if username is not None:
        page.fill("#username", username)
    page.fill("#password", password)
    page.tap("section[aria-labelledby=sign-title] button.primary")


@pytest.mark.parametrize("language", ["ko", "en"])
def test_investigator_reviews_and_signs_then_a_change_supersedes_it(
    language: str, study: Study, server: GunicornServer, chromium: Browser, artifacts: Path
) -> None:
    words = WORDS[language]
    study_id, patient_id = _prepare(study, language)
    seen = Inspector(artifacts)
    desk = tablet(chromium, LANDSCAPE, language)
    page = desk.new_page()
    signer = f"signer_{language}"
    sign_in(page, server, signer, study.password, seen)

    page.goto(url_of(server, f"/staff/patients/{patient_id}"))
    panel = page.locator(".signature-panel")
    assert words["unsigned"] in panel.inner_text()
    seen.axe(page, f"{language}-sign-patient-unsigned")
    page.tap(".signature-panel a.button.primary")
    page.wait_for_url(f"**/signatures/patients/{patient_id}")
    assert page.locator("#username").count() == 1 and study_id in page.content()
    seen.axe(page, f"{language}-sign-review")
    seen.shot(page, f"sign-review-{language}")

    _sign(page, "reviewed", "not the password", signer)
    page.wait_for_load_state()
    assert words["wrong"] in page.locator("[role=alert]").first.inner_text()
    seen.axe(page, f"{language}-sign-wrong-password")

    _sign(page, "reviewed", study.password, signer)
    page.wait_for_url(PATIENT_PAGE)
    state = page.locator(".signature-state").inner_text()
    full_name = "김지훈" if language == "ko" else "Jihoon Kim"
    assert words["signed"] in state and words["reviewed"] in state and full_name in state
    seen.axe(page, f"{language}-sign-patient-signed")
    page.locator(".signature-panel").scroll_into_view_if_needed()
    seen.shot(page, f"sign-patient-signed-{language}")

    # The second signature of this sign-in asks for the password only.
    page.tap(".signature-panel a.button.primary")
    page.wait_for_url(f"**/signatures/patients/{patient_id}")
    assert page.locator("#username").count() == 0
    _sign(page, "approved", study.password, None)
    page.wait_for_url(PATIENT_PAGE)
    assert words["approved"] in page.locator(".signature-state").inner_text()

    # A nurse corrects an answer: the signature is shown superseded until signed again.
    _correct_an_answer(study, patient_id)
    page.reload()
    assert page.locator("[data-signature-status=superseded]").count() == 1
    assert words["superseded"] in page.locator(".signature-state").inner_text()
    seen.axe(page, f"{language}-sign-patient-superseded")
    page.locator(".signature-panel").scroll_into_view_if_needed()
    seen.shot(page, f"sign-patient-superseded-{language}")

    with page.expect_download() as download:
        page.tap(".signature-panel form button")
    with zipfile.ZipFile(download.value.path()) as archive:
        assert "manifest.json" in archive.namelist()
        assert any(name.endswith(".pdf") for name in archive.namelist())
    desk.close()
    seen.assert_clean()
