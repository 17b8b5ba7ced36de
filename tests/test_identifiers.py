"""Findings 3 and 8 of issue 14: identifiers and typed numbers are ASCII and what they look like.

Study IDs typed in full-width forms become their one ASCII spelling; other scripts' digits are refused
with a clear message; answers, weights and years take ASCII digits only, no exponent, no NaN, no more
decimal places than defined; a download's file name is a valid header whatever the study ID holds."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import func, select

from epro.audit import SYSTEM
from epro.models import ClinicalValue, DraftAnswer, Patient
from epro.registry import register_patient
from tests.conftest import csrf_of, sign_in
from tests.kiosk_helpers import Tablet


def _register(client, csrf: str, study_id: str, birth_year: str = "1961"):  # type: ignore[no-untyped-def]
    return client.post(
        "/staff/patients/new",
        data={
            "csrf_token": csrf,
            "study_id": study_id,
            "birth_year": birth_year,
            "sex": "F",
            "preferred_language": "ko",
        },
    )


@pytest.fixture
def nurse_csrf(world, client) -> str:  # type: ignore[no-untyped-def]
    world.staff()
    world.patient("EPR-001")
    sign_in(client, "nurse1")
    return csrf_of(client.get("/staff/").text)


def _study_ids(world) -> list[str]:  # type: ignore[no-untyped-def]
    with world.session() as s:
        return sorted(s.exec(select(Patient.study_id)).all())


def test_a_full_width_study_id_is_the_ascii_one_and_cannot_be_registered_twice(world, client, nurse_csrf):
    page = _register(client, nurse_csrf, "ＥＰＲ-００１")
    assert page.status_code == 400 and "이미 사용 중인 대상자 번호입니다" in page.text
    assert _register(client, nurse_csrf, "epr-００２").status_code == 302
    assert _study_ids(world) == ["EPR-001", "EPR-002"]


@pytest.mark.parametrize("look_alike", ["EPR-٠٠٢", "AB-𝟎𝟏𝟐", "EPR-০০৩", "ЕPR-004"])
def test_look_alike_study_ids_are_refused_with_a_clear_message(world, client, nurse_csrf, look_alike):
    page = _register(client, nurse_csrf, look_alike)
    if look_alike.startswith("AB-"):  # mathematical bold digits are digits in another font: AB-012
        assert page.status_code == 302 and "AB-012" in _study_ids(world)
        return
    assert page.status_code == 400
    assert "영문자 A-Z, 숫자 0-9와" in page.text and "만 쓸 수 있습니다" in page.text
    assert _study_ids(world) == ["EPR-001"]


def test_a_year_of_birth_in_other_digits_is_refused(world, client, nurse_csrf):
    page = _register(client, nurse_csrf, "EPR-005", birth_year="١٩٦١")
    assert page.status_code == 400 and "숫자 0-9로 된 정수를 입력해 주십시오" in page.text
    assert _study_ids(world) == ["EPR-001"]


@pytest.mark.parametrize("typed", ["٧٠", "７０", "70.0", "7e1", " 70", "+70"])
def test_the_tablet_refuses_an_answer_in_other_digits_or_spellings(world, client, typed):
    world.staff()
    tablet = Tablet(client)
    tablet.start("nurse1", world.visit(world.patient(), "BL").id)
    tablet.choose_language("ko")
    response = tablet.answer(1, typed)
    assert response.status_code == 400 and "선택할 수 있는 응답이 아닙니다" in response.text
    with world.session() as s:
        assert s.exec(select(func.count()).select_from(DraftAnswer)).one() == 0
    assert tablet.answer(1, "70").status_code == 302


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("sNaN", "숫자와 소수점으로 입력해 주십시오"),
        ("NaN", "숫자와 소수점으로 입력해 주십시오"),
        ("1e2", "숫자와 소수점으로 입력해 주십시오"),
        ("٧٠", "숫자와 소수점으로 입력해 주십시오"),
        ("70.05", "소수점 아래 1자리까지 입력해 주십시오"),
    ],
)
def test_a_weight_is_parsed_strictly(world, client, typed, message):
    world.staff()
    visit = world.visit(world.patient(day0_offset=-30), "M1")
    sign_in(client, "nurse1")
    csrf = csrf_of(client.get("/staff/").text)
    form = {"csrf_token": csrf, "sample_date": visit.appointment_date.isoformat()}
    refused = client.post(f"/staff/visits/{visit.id}/clinical", data={**form, "value_WEIGHT": typed})
    assert refused.status_code == 422
    assert message in refused.text  # the form again, with the message beside the field
    accepted = client.post(f"/staff/visits/{visit.id}/clinical", data={**form, "value_WEIGHT": "70.0"})
    assert accepted.status_code == 302
    with world.session() as s:
        stored = s.exec(select(ClinicalValue.value_number).where(ClinicalValue.visit_id == visit.id)).all()
    assert stored == [Decimal("70.0")]


def test_a_pdf_downloads_whatever_characters_the_study_id_holds(world, app, client, tmp_path: Path):
    """A study ID stored before these checks (here: written directly) still downloads, with an RFC 5987
    file name, never an invalid header."""
    from datetime import timedelta

    from epro import db
    from epro.clock import clinic_today
    from epro.enrolment import enrol
    from epro.schedule import load_protocol

    world.staff()
    with app.app_context(), db.unit_of_work() as s:
        patient = register_patient(
            s, SYSTEM, study_id="EPR-００９", birth_year=1960, sex="M", preferred_language="ko"
        )
        enrol(s, patient, load_protocol("default"), clinic_today() - timedelta(days=3), SYSTEM)
        patient_id = patient.id
    sign_in(client, "nurse1")
    csrf = csrf_of(client.get("/staff/").text)
    response = client.post(f"/reports/patients/{patient_id}/summary", data={"lang": "ko", "csrf_token": csrf})
    assert response.status_code == 200 and response.data[:5] == b"%PDF-"
    disposition = response.headers["Content-Disposition"]
    assert disposition.isascii()
    assert "filename*=UTF-8''summary-EPR-%EF%BC%90%EF%BC%90%EF%BC%99-ko.pdf" in disposition
    pdf = tmp_path / "summary.pdf"
    pdf.write_bytes(response.data)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "EPR-００９" in text
