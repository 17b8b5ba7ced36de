"""Nurses enter clinical values at a visit and baseline characteristics at enrolment; investigators read.

The rules are those of answers: values outside the hard range are refused with a translated message and
nothing saved; values outside the plausible range need an explicit confirmation and are flagged; a
correction needs a reason and the original stays in the audit trail. Child-Pugh is derived, never typed.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from epro.models import ClinicalValue, PatientCharacteristic
from tests.conftest import csrf_of, sign_in


def text_of(page: str) -> str:
    """What a reader sees: tags gone, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
def ward(world, client):  # type: ignore[no-untyped-def]
    """A nurse signed in (Korean), a patient 30 days after day 0; W2 is a past visit without data."""
    world.staff("nurse1", "nurse")
    world.staff("inv1", "investigator")
    patient = world.patient(day0_offset=-30)
    assert sign_in(client, "nurse1").status_code == 302
    visit = world.visit(patient, "W2")
    return {"patient": patient, "visit": visit, "csrf": csrf_of(client.get("/staff/").text)}


def _enter(client, ward, **values):  # type: ignore[no-untyped-def]
    data = {"csrf_token": ward["csrf"], "sample_date": ward["visit"].target_date.isoformat()}
    data.update(
        {f"value_{k}" if not k.startswith(("confirm_", "sample")) else k: v for k, v in values.items()}
    )
    return client.post(f"/staff/visits/{ward['visit'].id}/clinical", data=data)


def _values(world, visit_id):  # type: ignore[no-untyped-def]
    with world.session() as s:
        return {
            v.measure_code: v for v in s.exec(select(ClinicalValue).where(ClinicalValue.visit_id == visit_id))
        }


def test_the_entry_page_shows_units_and_the_visit_date_as_sample_date(world, client, ward):
    page = client.get(f"/staff/visits/{ward['visit'].id}/clinical")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "임상 지표 입력" in text and "검사일" in text
    for name, unit in (
        ("알부민", "g/dL"),
        ("총빌리루빈", "mg/dL"),
        ("체중", "kg"),
        ("스피로놀락톤 1일 용량", "mg/day"),
    ):
        assert re.search(rf"{name} {re.escape(unit)}", text), name
    assert f'value="{ward["visit"].target_date.isoformat()}"' in page.text
    assert "ICG 15분 정체율" not in text  # collected monthly only, W2 is not a month


def test_values_are_saved_with_unit_and_sample_date_and_audited(world, client, ward):
    sample = ward["visit"].target_date - timedelta(days=1)
    saved = _enter(client, ward, ALB="3.2", WEIGHT="61.5", ASCITES="SLIGHT", sample_date=sample.isoformat())
    assert saved.status_code == 302
    values = _values(world, ward["visit"].id)
    assert set(values) == {"ALB", "WEIGHT", "ASCITES"}
    assert (values["ALB"].value_number, values["ALB"].unit, values["ALB"].sample_date) == (
        Decimal("3.2"),
        "g/dL",
        sample,
    )
    assert values["WEIGHT"].unit == "kg" and values["ASCITES"].value_code == "SLIGHT"
    assert not any(v.out_of_range for v in values.values())
    entered = {(e.field, e.new_value) for e in world.audit("clinical.enter")}
    assert {("ALB", "3.2"), ("WEIGHT", "61.5"), ("ASCITES", "SLIGHT")} <= entered
    assert ("ALB.sample_date", sample.isoformat()) in entered  # not the visit's date: recorded as such
    visit_page = text_of(client.get(f"/staff/visits/{ward['visit'].id}").text)
    assert "3.2 g/dL" in visit_page and "61.5 kg" in visit_page and "경도" in visit_page


def test_a_value_outside_the_hard_range_is_refused_and_nothing_is_saved(world, client, ward):
    refused = _enter(client, ward, ALB="9.9", WEIGHT="60.0")
    assert refused.status_code == 422
    text = text_of(refused.text)
    assert "알부민 값은 0.5–7.0 g/dL 사이여야 합니다. 저장되지 않았습니다." in text
    assert "저장되지 않았습니다. 아래 표시된 항목을 확인하십시오." in text
    assert 'value="9.9"' in refused.text and 'value="60.0"' in refused.text  # the input is kept
    assert _values(world, ward["visit"].id) == {}  # the valid weight was not saved either
    assert world.audit("clinical.enter") == []


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1e2", "숫자와 소수점으로 입력해 주십시오"),
        ("3,2", "숫자와 소수점으로 입력해 주십시오"),
        ("３.２", "숫자와 소수점으로 입력해 주십시오"),
        ("NaN", "숫자와 소수점으로 입력해 주십시오"),
        ("3.25", "소수점 아래 1자리까지 입력해 주십시오"),
    ],
)
def test_malformed_numbers_are_refused_with_a_translated_message(world, client, ward, typed, message):
    refused = _enter(client, ward, ALB=typed)
    assert refused.status_code == 422 and message in text_of(refused.text)
    assert _values(world, ward["visit"].id) == {}


def test_a_value_outside_the_plausible_range_needs_a_confirmation_and_is_flagged(world, client, ward):
    asked = _enter(client, ward, ALB="1.2")
    assert asked.status_code == 422
    text = text_of(asked.text)
    assert "통상 범위(1.5–5.5 g/dL)를 벗어난 값입니다" in text
    assert 'name="confirm_ALB"' in asked.text and "값을 확인했습니다" in text
    assert _values(world, ward["visit"].id) == {}
    confirmed = _enter(client, ward, ALB="1.2", confirm_ALB="y")
    assert confirmed.status_code == 302
    value = _values(world, ward["visit"].id)["ALB"]
    assert value.value_number == Decimal("1.2") and value.out_of_range
    assert world.audit("clinical.enter")[-1].reason == "out of plausible range, confirmed"
    assert "통상 범위 이탈 (확인됨)" in text_of(client.get(f"/staff/visits/{ward['visit'].id}").text)


def test_a_sample_date_after_today_and_an_unknown_option_are_refused(world, client, ward):
    future = (world.today() + timedelta(days=1)).isoformat()
    refused = _enter(client, ward, ALB="3.0", sample_date=future)
    assert refused.status_code == 422 and "검사일은 오늘 이후일 수 없습니다." in text_of(refused.text)
    refused = _enter(client, ward, ASCITES="LARGE")
    assert refused.status_code == 422 and "보기 중 하나를 선택해 주십시오." in text_of(refused.text)
    refused = _enter(client, ward)
    assert refused.status_code == 422 and "값을 하나 이상 입력하십시오." in text_of(refused.text)
    assert _values(world, ward["visit"].id) == {}


def test_a_correction_needs_a_reason_and_keeps_the_original_in_the_audit_trail(world, client, ward):
    assert _enter(client, ward, ALB="3.2").status_code == 302
    path = f"/staff/visits/{ward['visit'].id}/clinical/ALB/correct"
    form = client.get(path)
    assert form.status_code == 200 and 'value="3.2"' in form.text
    sample = ward["visit"].target_date.isoformat()
    no_reason = client.post(path, data={"csrf_token": ward["csrf"], "value": "3.4", "sample_date": sample})
    assert no_reason.status_code == 422 and "사유" in text_of(no_reason.text)
    assert 'value="3.4"' in no_reason.text
    blank_reason = client.post(
        path, data={"csrf_token": ward["csrf"], "value": "3.4", "sample_date": sample, "reason": "   "}
    )
    assert blank_reason.status_code == 422 and "사유를 입력해 주십시오" in text_of(blank_reason.text)
    same = client.post(
        path, data={"csrf_token": ward["csrf"], "value": "3.2", "sample_date": sample, "reason": "typo"}
    )
    assert same.status_code == 422 and "변경된 내용이 없습니다" in text_of(same.text)
    too_high = client.post(
        path, data={"csrf_token": ward["csrf"], "value": "70", "sample_date": sample, "reason": "typo"}
    )
    assert too_high.status_code == 422 and "저장되지 않았습니다" in text_of(too_high.text)
    assert _values(world, ward["visit"].id)["ALB"].value_number == Decimal("3.2")
    corrected = client.post(
        path,
        data={"csrf_token": ward["csrf"], "value": "3.4", "sample_date": sample, "reason": "Report re-read"},
    )
    assert corrected.status_code == 302
    value = _values(world, ward["visit"].id)["ALB"]
    assert value.value_number == Decimal("3.4") and value.correction_reason == "Report re-read"
    assert value.corrected_at is not None
    [event] = world.audit("clinical.correct")
    assert (event.entity, event.field, event.old_value, event.new_value, event.reason) == (
        "clinical_value",
        "ALB",
        "3.2",
        "3.4",
        "Report re-read",
    )
    page = text_of(client.get(f"/staff/visits/{ward['visit'].id}").text)
    assert "3.4 g/dL" in page and "정정됨: Report re-read" in page


def test_child_pugh_is_derived_per_visit_and_names_its_criterion(world, client, ward):
    visit_page = f"/staff/visits/{ward['visit'].id}"
    before = text_of(client.get(visit_page).text)
    assert "Child-Pugh: —" in before and "프로트롬빈 시간 (활성도)" in before
    # The table's boundary values: bilirubin 2.0, albumin 3.5 and PT 70 % each score 2 points.
    assert (
        _enter(client, ward, BILI="2.0", ALB="3.5", PT="70", ASCITES="SLIGHT", ENCEPH="NONE").status_code
        == 302
    )
    text = text_of(client.get(visit_page).text)
    assert "Child-Pugh: 9점, B등급" in text
    assert "응고 기준: 프로트롬빈 시간 (활성도)" in text
    assert "직접 입력하지 않습니다" in text


def test_baseline_characteristics_are_entered_once_and_changed_with_a_reason(world, client, ward):
    patient = ward["patient"]
    path = f"/staff/patients/{patient.id}/baseline"
    data = {
        "csrf_token": ward["csrf"],
        "value_AETIOL": "HBV",
        "value_BILI": "1.6",
        "value_ALB": "2.6",
        "value_PT": "58",
        "value_ASCITES": "MODSEV",
        "value_ENCEPH": "NONE",
    }
    assert client.post(path, data=data).status_code == 302
    page = text_of(client.get(f"/staff/patients/{patient.id}").text)
    assert "기저 특성" in page and "B형 간염 바이러스" in page and "2.6 g/dL" in page
    assert "기저 Child-Pugh 10점, C등급" in page  # the seed trial's patient 1, PT activity criterion
    assert {e.field for e in world.audit("characteristic.enter")} == {
        "AETIOL",
        "BILI",
        "ALB",
        "PT",
        "ASCITES",
        "ENCEPH",
    }

    no_reason = client.post(path, data={**data, "value_AETIOL": "HCV"})
    assert no_reason.status_code == 422 and "기록된 값을 변경하려면 사유가 필요합니다." in text_of(
        no_reason.text
    )
    removed = client.post(path, data={**data, "value_ALB": "", "reason": "x"})
    assert removed.status_code == 422 and "기록된 값은 지울 수 없습니다" in text_of(removed.text)
    hard = client.post(path, data={**data, "value_ALB": "0.1", "reason": "x"})
    assert hard.status_code == 422 and "알부민 값은 0.5–7.0 g/dL 사이여야 합니다" in text_of(hard.text)
    changed = client.post(path, data={**data, "value_AETIOL": "HCV", "reason": "Serology reviewed"})
    assert changed.status_code == 302
    [event] = world.audit("characteristic.change")
    assert (event.field, event.old_value, event.new_value, event.reason) == (
        "AETIOL",
        "HBV",
        "HCV",
        "Serology reviewed",
    )
    with world.session() as s:
        rows = {r.code: r for r in s.exec(select(PatientCharacteristic))}
    assert rows["AETIOL"].value == "HCV" and rows["AETIOL"].change_reason == "Serology reviewed"
    assert rows["ALB"].changed_at is None  # unchanged values keep their first entry


def test_investigators_read_clinical_values_but_never_write(world, client, ward):
    assert _enter(client, ward, ALB="3.2").status_code == 302
    client.post("/staff/logout", data={"csrf_token": ward["csrf"]})
    assert sign_in(client, "inv1").status_code == 302
    csrf = csrf_of(client.get("/staff/").text)
    visit_page = client.get(f"/staff/visits/{ward['visit'].id}")
    assert visit_page.status_code == 200
    text = text_of(visit_page.text)
    assert "3.2 g/dL" in text and "Child-Pugh" in text
    assert "임상 지표 입력" not in text and "/clinical/ALB/correct" not in visit_page.text
    patient_page = client.get(f"/staff/patients/{ward['patient'].id}")
    assert "기저 특성" in text_of(patient_page.text) and "기저 특성 입력" not in text_of(patient_page.text)
    visit_id, patient_id = ward["visit"].id, ward["patient"].id
    for method, path, data in (
        ("get", f"/staff/visits/{visit_id}/clinical", None),
        ("post", f"/staff/visits/{visit_id}/clinical", {"value_WEIGHT": "60.0"}),
        ("post", f"/staff/visits/{visit_id}/clinical/ALB/correct", {"value": "3.9", "reason": "x"}),
        ("post", f"/staff/patients/{patient_id}/baseline", {"value_AETIOL": "HBV"}),
    ):
        response = getattr(client, method)(path, data=None if data is None else {"csrf_token": csrf, **data})
        assert response.status_code == 403, path
    values = _values(world, visit_id)
    assert set(values) == {"ALB"} and values["ALB"].value_number == Decimal("3.2")
    trail = text_of(client.get("/staff/audit/?action=clinical.enter").text)
    assert "임상 지표 입력" in trail and "EPR-101 · 2주차" in trail and "ALB" in trail
    with world.session() as s:
        assert s.exec(select(PatientCharacteristic)).all() == []
