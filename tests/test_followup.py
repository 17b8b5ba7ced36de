"""Staff forms that fail show themselves again with the input and a translated message; date rules;
correcting day 0; withdrawing a patient."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlmodel import select

from epro.models import Patient
from tests.conftest import csrf_of, nurse_signed_in, post_form, sign_in


def test_a_failed_visit_form_is_the_visit_page_with_the_message_and_the_input(world, client):
    csrf = nurse_signed_in(world, client)
    patient = world.patient(day0_offset=-30)
    m2 = world.visit(patient, "M2")
    outside = m2.window_end + timedelta(days=3)
    page = post_form(
        client, f"/staff/visits/{m2.id}/reschedule", csrf, new_date=outside.isoformat(), reason=""
    )
    assert page.status_code == 400
    assert "Redirecting" not in page.text
    assert "허용 기간 밖의 날짜에는 사유가 필요합니다" in page.text
    assert f'value="{outside.isoformat()}"' in page.text
    missed = post_form(client, f"/staff/visits/{m2.id}/missed", csrf, reason="   ")
    assert missed.status_code == 400 and "사유를 입력해 주십시오" in missed.text
    assert world.visit(patient, "M2").missed_at is None


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(365 * 80, "시술일은"), (-365 * 40, "시술일은"), (45, "한 달 넘게")],
)
def test_day0_far_from_today_is_refused_or_needs_confirmation(world, client, offset, expected):
    csrf = nurse_signed_in(world, client)
    created = post_form(
        client,
        "/staff/patients/new",
        csrf,
        study_id="EPR-301",
        birth_year="1960",
        sex="F",
        preferred_language="ko",
    )
    assert created.status_code == 302
    with world.session() as s:
        patient = s.exec(select(Patient).where(Patient.study_id == "EPR-301")).one()
    day0 = world.today() + timedelta(days=offset)
    page = post_form(client, f"/staff/patients/{patient.id}/enrol", csrf, procedure_date=day0.isoformat())
    assert page.status_code == 400 and expected in page.text
    assert world.visits(patient.id) == {}
    if offset == 45:
        done = post_form(
            client,
            f"/staff/patients/{patient.id}/enrol",
            csrf,
            procedure_date=day0.isoformat(),
            confirm_far="y",
        )
        assert done.status_code == 302 and len(world.visits(patient.id)) == 9


def test_extreme_and_malformed_dates_are_messages_never_500(world, client):
    csrf = nurse_signed_in(world, client)
    patient = world.patient("EPR-302", day0_offset=-5)
    w1 = world.visit(patient, "W1")
    for value in ("9999-12-31", "0001-01-01", "2026-02-30", "tomorrow"):
        page = post_form(client, f"/staff/visits/{w1.id}/reschedule", csrf, new_date=value, reason="x")
        assert page.status_code == 400, value
        assert 'class="field-error"' in page.text
    before = world.today() - timedelta(days=30)
    page = post_form(
        client, f"/staff/visits/{w1.id}/reschedule", csrf, new_date=before.isoformat(), reason="x"
    )
    assert page.status_code == 400 and "이전으로 옮길 수 없습니다" in page.text
    # Past the next visit: only with the confirmation and a reason.
    after_next = world.visit(patient, "W2").target_date + timedelta(days=1)
    page = post_form(
        client, f"/staff/visits/{w1.id}/reschedule", csrf, new_date=after_next.isoformat(), reason="x"
    )
    assert page.status_code == 400 and "다음 방문" in page.text
    done = post_form(
        client,
        f"/staff/visits/{w1.id}/reschedule",
        csrf,
        new_date=after_next.isoformat(),
        reason="patient abroad",
        past_next_visit="y",
    )
    assert done.status_code == 302
    assert client.get(f"/staff/patients/{patient.id}/visits.ics").status_code == 200


def test_correct_day0_lists_status_changes_then_moves_open_visits_only(world, client):
    csrf = nurse_signed_in(world, client, "en")
    patient = world.patient("EPR-303", day0_offset=-7)
    before = world.visits(patient.id)
    new_day0 = world.today() - timedelta(days=20)
    preview = post_form(
        client, f"/staff/patients/{patient.id}/day0", csrf, procedure_date=new_day0.isoformat(), reason="typo"
    )
    assert preview.status_code == 200 and "data-status-changes" in preview.text
    assert world.visits(patient.id)["W1"].target_date == before["W1"].target_date
    done = post_form(
        client,
        f"/staff/patients/{patient.id}/day0",
        csrf,
        procedure_date=new_day0.isoformat(),
        reason="typo",
        confirmed="y",
    )
    assert done.status_code == 302
    after = world.visits(patient.id)
    assert after["W1"].target_date == new_day0 + timedelta(days=7)
    assert [e.reason for e in world.audit("patient.day0_correct")] == ["typo"]
    missing_reason = post_form(
        client,
        f"/staff/patients/{patient.id}/day0",
        csrf,
        procedure_date=world.today().isoformat(),
        reason="",
    )
    assert missing_reason.status_code == 400 and "Please give a reason." in missing_reason.text


def test_withdrawal_cancels_open_visits_leaves_the_clinic_list_and_shows_in_exports(world, client):
    csrf = nurse_signed_in(world, client, "en")
    patient = world.patient("EPR-304", day0_offset=0)
    assert "EPR-304" in client.get("/staff/").text
    future = world.today() + timedelta(days=3)
    refused = post_form(
        client, f"/staff/patients/{patient.id}/withdraw", csrf, withdrawn_on=future.isoformat(), reason="x"
    )
    assert refused.status_code == 400 and "to today" in refused.text
    done = post_form(
        client,
        f"/staff/patients/{patient.id}/withdraw",
        csrf,
        withdrawn_on=world.today().isoformat(),
        reason="moved away",
    )
    assert done.status_code == 302
    page = client.get(f"/staff/patients/{patient.id}").text
    assert "Withdrawn from the study on" in page and "Cancelled (withdrawn)" in page
    assert "EPR-304" not in client.get("/staff/").text
    assert [e.reason for e in world.audit("patient.withdraw")] == ["moved away"]
    world.staff("inv", "investigator")
    client.post("/staff/logout", data={"csrf_token": csrf})
    assert sign_in(client, "inv").status_code == 302
    rows = list(csv.DictReader(io.StringIO(client.get("/exports/long.csv").text.lstrip("\ufeff"))))
    assert rows == [] or "withdrawn_on" in rows[0]


def test_withdrawn_in_the_pdf_and_everything_in_one_zip(world, client, tmp_path):
    import subprocess
    import zipfile

    csrf = nurse_signed_in(world, client, "en")
    patient = world.patient("EPR-305", day0_offset=-3)
    done = post_form(
        client,
        f"/staff/patients/{patient.id}/withdraw",
        csrf,
        withdrawn_on=world.today().isoformat(),
        reason="moved away",
    )
    assert done.status_code == 302
    pdf = post_form(client, f"/reports/patients/{patient.id}/summary", csrf, lang="en")
    path = tmp_path / "s.pdf"
    path.write_bytes(pdf.data)
    pdf.close()
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Withdrawn from the study on" in text and "moved away" in text
    assert "(default" not in text
    world.staff("inv", "investigator")
    client.post("/staff/logout", data={"csrf_token": csrf})
    assert sign_in(client, "inv").status_code == 302
    csrf = csrf_of(client.get("/exports/").text)
    bundle = post_form(client, "/exports/everything.zip", csrf, lang="en")
    assert bundle.status_code == 200
    path = tmp_path / "all.zip"
    path.write_bytes(bundle.data)
    bundle.close()
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert any(n.startswith("epro-long-en") and n.endswith(".csv") for n in names)
    assert any(n.startswith("summaries/") and n.endswith(".pdf") for n in names)
