"""A nurse's day: register, enrol, reschedule, mark missed, weigh, hand over the tablet; investigators read."""

from __future__ import annotations

from datetime import date, timedelta

from icalendar import Calendar
from sqlmodel import select

from epro.models import Patient, QuestionnaireSession, Response
from tests.conftest import csrf_of, nurse_signed_in, post_form, sign_in
from tests.kiosk_helpers import Tablet


def test_nurse_journey_register_enrol_reschedule_miss_weigh_and_start_tablet(world, client):
    csrf = nurse_signed_in(world, client)
    created = post_form(
        client,
        "/staff/patients/new",
        csrf,
        study_id="epr-201",
        birth_year="1961",
        sex="M",
        preferred_language="ko",
    )
    assert created.status_code == 302
    with world.session() as s:
        patient = s.exec(select(Patient).where(Patient.study_id == "EPR-201")).one()
    day0 = world.today() - timedelta(days=30)
    assert (
        post_form(
            client, f"/staff/patients/{patient.id}/enrol", csrf, procedure_date=day0.isoformat()
        ).status_code
        == 302
    )

    visits = world.visits(patient.id)
    assert len(visits) == 9
    assert visits["BL"].target_date == day0 and visits["BL"].window_start == day0 - timedelta(days=14)
    assert visits["M1"].target_date == day0 + timedelta(days=30)
    assert (visits["M1"].window_start, visits["M1"].window_end) == (
        day0 + timedelta(days=23),
        day0 + timedelta(days=37),
    )
    assert visits["M6"].target_date == day0 + timedelta(days=180)
    page = client.get(f"/staff/patients/{patient.id}")
    assert page.status_code == 200 and page.text.count("/staff/visits/") >= 9 and "1개월차" in page.text

    # Reschedule M1 inside its window (no reason needed), M2 outside it (reason required, flagged).
    inside = visits["M1"].target_date + timedelta(days=3)
    assert (
        post_form(
            client, f"/staff/visits/{visits['M1'].id}/reschedule", csrf, new_date=inside.isoformat()
        ).status_code
        == 302
    )
    outside = visits["M2"].window_end + timedelta(days=5)
    refused = post_form(
        client, f"/staff/visits/{visits['M2'].id}/reschedule", csrf, new_date=outside.isoformat()
    )
    assert refused.status_code == 400
    assert (
        post_form(
            client,
            f"/staff/visits/{visits['M2'].id}/reschedule",
            csrf,
            new_date=outside.isoformat(),
            reason="Patient travelling",
        ).status_code
        == 302
    )
    visits = world.visits(patient.id)
    assert visits["M1"].scheduled_date == inside and not visits["M1"].rescheduled_outside_window
    assert visits["M2"].rescheduled_outside_window and visits["M2"].reschedule_reason == "Patient travelling"
    assert visits["M2"].target_date == day0 + timedelta(days=60), "the protocol's target date stays"
    assert "허용 기간 이탈" in client.get(f"/staff/visits/{visits['M2'].id}").text

    # Mark week 2 missed with a reason; without one nothing changes.
    assert post_form(client, f"/staff/visits/{visits['W2'].id}/missed", csrf, reason="").status_code == 400
    assert (
        post_form(client, f"/staff/visits/{visits['W2'].id}/missed", csrf, reason="Hospitalised").status_code
        == 302
    )
    assert world.visits(patient.id)["W2"].missed_reason == "Hospitalised"
    again = post_form(client, f"/staff/visits/{visits['W2'].id}/missed", csrf, reason="Twice")
    assert again.status_code == 409 and world.visits(patient.id)["W2"].missed_reason == "Hospitalised"
    assert "방문 누락" in client.get(f"/staff/visits/{visits['W2'].id}").text

    # The clinic list shows M1 (due, window open) and offers the tablet.
    home = client.get("/staff/")
    assert "EPR-201" in home.text and "태블릿 설문 시작" in home.text
    started = post_form(client, f"/staff/visits/{visits['M1'].id}/tablet", csrf)
    assert started.status_code == 302 and started.location.endswith("/tablet/")
    with world.session() as s:
        assert s.exec(select(QuestionnaireSession)).one().visit_id == visits["M1"].id

    # Every change is in the audit trail with who, old -> new and why.
    reschedules = world.audit("visit.reschedule")
    assert [(r.actor_name, r.new_value, r.reason) for r in reschedules] == [
        ("nurse1", inside.isoformat(), None),
        ("nurse1", outside.isoformat(), "Patient travelling"),
    ]


def test_investigator_sees_everything_and_changes_nothing(world, client):
    world.staff("nurse1", "nurse")
    world.staff("inv", "investigator")
    patient = world.patient(day0_offset=-30)
    visit = world.visit(patient, "M1")
    assert sign_in(client, "inv").status_code == 302
    csrf = csrf_of(client.get("/staff/").text)
    for path in ("/staff/", "/staff/patients", f"/staff/patients/{patient.id}", f"/staff/visits/{visit.id}"):
        assert client.get(path).status_code == 200, path
    assert "EPR-101" in client.get("/staff/patients").text
    for path, data in (
        (f"/staff/visits/{visit.id}/missed", {"reason": "x"}),
        (
            f"/staff/visits/{visit.id}/clinical",
            {"sample_date": visit.target_date.isoformat(), "value_WEIGHT": "60"},
        ),
        (f"/staff/patients/{patient.id}/baseline", {"value_AETIOL": "HBV"}),
        (f"/staff/visits/{visit.id}/reschedule", {"new_date": visit.target_date.isoformat()}),
        (f"/staff/visits/{visit.id}/tablet", {}),
        (
            "/staff/patients/new",
            {"study_id": "EPR-999", "birth_year": "1960", "sex": "M", "preferred_language": "ko"},
        ),
    ):
        assert post_form(client, path, csrf, **data).status_code == 403, path
    assert world.visits(patient.id)["M1"].missed_at is None
    assert "태블릿 설문 시작" not in client.get("/staff/").text


def test_anonymous_reaches_none_of_it(world, client):
    patient = world.patient()
    for path in ("/staff/", "/staff/patients", f"/staff/patients/{patient.id}", "/staff/visits/1"):
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.location


def test_registration_validates_and_refuses_duplicates(world, client):
    csrf = nurse_signed_in(world, client)
    bad = post_form(
        client,
        "/staff/patients/new",
        csrf,
        study_id="홍길동",
        birth_year="1850",
        sex="X",
        preferred_language="ko",
    )
    assert bad.status_code == 400
    assert "대상자 번호 형식에 맞게" in bad.text and "1900년부터" in bad.text
    ok = post_form(
        client,
        "/staff/patients/new",
        csrf,
        study_id="EPR-301",
        birth_year="1970",
        sex="F",
        preferred_language="en",
    )
    assert ok.status_code == 302
    dup = post_form(
        client,
        "/staff/patients/new",
        csrf,
        study_id="epr-301",
        birth_year="1971",
        sex="M",
        preferred_language="ko",
    )
    assert dup.status_code == 400 and "이미 사용 중인 대상자 번호" in dup.text
    with world.session() as s:
        assert len(s.exec(select(Patient)).all()) == 1


def test_edit_needs_a_reason_and_is_audited(world, client):
    csrf = nurse_signed_in(world, client)
    patient = world.patient()
    form = dict(study_id=patient.study_id, birth_year="1966", sex="F", preferred_language="ko")
    assert post_form(client, f"/staff/patients/{patient.id}/edit", csrf, **form).status_code == 400
    assert (
        post_form(
            client, f"/staff/patients/{patient.id}/edit", csrf, **form, reason="Typo at registration"
        ).status_code
        == 302
    )
    [event] = world.audit("patient.update")
    assert (event.field, event.old_value, event.new_value, event.reason) == (
        "birth_year",
        "1965",
        "1966",
        "Typo at registration",
    )


def test_patient_list_search_and_filters(world, client):
    nurse_signed_in(world, client)
    world.patient("EPR-401", day0_offset=5)  # baseline window open, target in 5 days
    world.patient("EPR-402", day0_offset=-20)  # baseline to week 2 without data: overdue
    with world.session() as s:
        s.add(Patient(study_id="EPR-403", birth_year=1950, sex="M", preferred_language="ko"))
        s.commit()

    def listed(query):  # type: ignore[no-untyped-def]
        text = client.get(f"/staff/patients?{query}").text
        return [sid for sid in ("EPR-401", "EPR-402", "EPR-403") if sid in text]

    assert listed("") == ["EPR-401", "EPR-402", "EPR-403"]
    assert listed("q=402") == ["EPR-402"]
    assert listed("status=not_enrolled") == ["EPR-403"]
    assert listed("status=overdue") == ["EPR-402"]
    assert listed("status=active") == ["EPR-401"]
    assert listed("next=7") == ["EPR-401"]
    assert client.get("/staff/patients?status=<script>&page=-1&next=99").status_code == 200


def test_clinic_list_due_overdue_and_upcoming(world, client):
    nurse_signed_in(world, client)
    world.patient("EPR-501", day0_offset=-30)  # M1 due today
    world.patient("EPR-502", day0_offset=-20)  # W2 closed on day 16: overdue; M1 (day 30) in 10 days
    world.patient("EPR-503", day0_offset=5)  # baseline window open, target in 5 days
    home = client.get("/staff/").text
    due, overdue, upcoming = (
        home.split('id="due"')[1].split('id="overdue"')[0],
        home.split('id="overdue"')[1].split('id="upcoming"')[0],
        home.split('id="upcoming"')[1],
    )
    assert "EPR-501" in due and "EPR-502" not in due
    assert "EPR-502" in overdue and "2주차" in overdue
    assert "EPR-503" in upcoming and "EPR-502" in upcoming


def test_staff_entered_answers_are_flagged_and_corrections_keep_the_original(world, client):
    csrf = nurse_signed_in(world, client)
    visit = world.visit(world.patient(), "BL")
    missing_reason = post_form(
        client,
        f"/staff/visits/{visit.id}/enter",
        csrf,
        language="ko",
        assessment_date=world.today().isoformat(),
        item_PS1="60",
        item_WB1="4",
        item_QOL1="4",
        reason="",
    )
    assert missing_reason.status_code == 400
    assert (
        post_form(
            client,
            f"/staff/visits/{visit.id}/enter",
            csrf,
            language="ko",
            assessment_date=world.today().isoformat(),
            item_PS1="60",
            item_WB1="4",
            item_QOL1="9",
            reason="Cannot hold the tablet",
        ).status_code
        == 400
    )
    assert (
        post_form(
            client,
            f"/staff/visits/{visit.id}/enter",
            csrf,
            language="ko",
            assessment_date=world.today().isoformat(),
            item_PS1="60",
            item_WB1="4",
            item_QOL1="4",
            reason="Cannot hold the tablet",
        ).status_code
        == 302
    )
    with world.session() as s:
        responses = s.exec(select(Response).order_by(Response.id)).all()
        session = s.exec(select(QuestionnaireSession)).one()
    assert [(r.value, r.entered_by) for r in responses] == [(60, "staff"), (4, "staff"), (4, "staff")]
    assert session.entered_by == "staff" and session.staff_reason == "Cannot hold the tablet"
    page = client.get(f"/staff/visits/{visit.id}").text
    assert "의료진 대리 입력" in page and "Cannot hold the tablet" in page

    ps = responses[0]
    assert (
        post_form(client, f"/staff/responses/{ps.id}/correct", csrf, value="70", reason="").status_code == 400
    )
    assert (
        post_form(client, f"/staff/responses/{ps.id}/correct", csrf, value="75", reason="x").status_code
        == 400
    )
    assert (
        post_form(
            client, f"/staff/responses/{ps.id}/correct", csrf, value="70", reason="Patient pointed at 70"
        ).status_code
        == 302
    )
    with world.session() as s:
        corrected = s.get(Response, ps.id)
    assert (corrected.value, corrected.correction_reason) == (70, "Patient pointed at 70")
    [event] = world.audit("response.correct")
    assert (event.old_value, event.new_value, event.field) == ("60", "70", "PS.PS1")


def test_tablet_session_outside_the_window_is_allowed_and_flagged(world, client):
    world.staff("nurse1")
    patient = world.patient(day0_offset=-20)  # week 2 window closed on day 16
    visit = world.visit(patient, "W2")
    tablet = Tablet(client)
    tablet.start("nurse1", visit.id)
    assert tablet.complete().location.endswith("/tablet/thanks")
    sign_in(client, "nurse1")
    page = client.get(f"/staff/visits/{visit.id}").text
    assert "허용 기간 이탈 4일" in page


def test_calendar_file_lists_the_visits_still_to_come(world, client):
    nurse_signed_in(world, client)
    patient = world.patient(day0_offset=-30)
    response = client.get(f"/staff/patients/{patient.id}/visits.ics")
    assert response.mimetype == "text/calendar"
    events = [c for c in Calendar.from_ical(response.data).walk("VEVENT")]
    starts = sorted(e.decoded("dtstart") for e in events)
    assert len(events) == 6  # M1 (today) to M6
    assert starts[0] == world.today() and all(isinstance(d, date) for d in starts)
    assert all("EPR-101" in str(e.get("summary")) for e in events)


def test_a_busy_clinic_list_shows_fifty_and_says_there_are_more(world, client):
    nurse_signed_in(world, client)
    for number in range(52):
        world.patient(f"EPR-{600 + number}", day0_offset=-7)  # week 1 due today for all of them
    home = client.get("/staff/").text
    due = home.split('id="due"')[1].split('id="overdue"')[0]
    assert due.count("/tablet") == 50
    assert "<strong>50+</strong>" in home and "처음 50건만 표시합니다" in due
