"""Study-wide exports: an investigator downloads the answers as a long table, an SDTM QS table, the audit trail
and a data dictionary; the numbers match the database, missing is never zero, and every export is audited."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import func, select

from epro import db, instruments
from epro.audit import Actor
from epro.codes import ActorType
from epro.models import AuditEvent, Patient, Response, Visit, utcnow
from epro.questionnaires.answers import correct_response, enter_on_behalf
from tests.conftest import World, sign_in
from tests.kiosk_helpers import Tablet

LONG_HEADER = [
    "study_id",
    "visit_code",
    "visit_number",
    "visit_label",
    "target_date",
    "actual_date",
    "planned_study_day",
    "study_day",
    "instrument_code",
    "instrument_version",
    "item_code",
    "value",
    "value_label",
    "language_shown",
    "entered_by",
    "submitted_at_utc",
    "corrected",
    "record_type",
    "unit",
    "sample_date",
    "sample_study_day",
    "out_of_range",
    "withdrawn_on",
    "withdrawal_study_day",
    "assessment_date",
    "assessment_study_day",
]
SDTM_HEADER = [
    "STUDYID",
    "DOMAIN",
    "USUBJID",
    "QSSEQ",
    "QSTESTCD",
    "QSTEST",
    "QSCAT",
    "QSORRES",
    "QSSTRESC",
    "QSSTRESN",
    "QSSTAT",
    "QSREASND",
    "QSLOBXFL",
    "QSBLFL",
    "VISITNUM",
    "VISIT",
    "QSDTC",
    "QSDY",
    "QSEVLINT",
]
MISSED_REASON = "Admitted to another hospital"
CALENDAR_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class Study:
    """Two patients. EPR-101 (procedure 30 days ago) answered baseline on the tablet in Korean, 3 days before
    the procedure; a nurse entered week 1 on the patient's behalf in English and later corrected one answer;
    week 2 is overdue with no data and nobody marked it; month 1's window is open. EPR-102 (procedure 10 days
    ago) answered baseline on the tablet in English on the procedure day; the nurse marked week 1 missed."""

    day0: dict[str, date]


def _complete_on_tablet(app: Flask, visit: Visit, language: str, values: tuple[int, int, int]) -> None:
    tablet = Tablet(app.test_client())
    tablet.start("nurse1", visit.id)  # type: ignore[arg-type]
    assert tablet.complete(language, values).location.endswith("/tablet/thanks")


def _set_actual_date(world: World, visit: Visit, on: date) -> None:
    """The visit and its answers dated ``on`` (as if the tablet sitting had been that day)."""
    with world.session() as s:
        row = s.get(Visit, visit.id)
        assert row is not None
        row.actual_date = on
        for response in s.exec(select(Response).where(Response.visit_id == visit.id)).all():
            response.assessment_date = on
            s.add(response)
        s.add(row)
        s.commit()


@pytest.fixture
def study(app: Flask, world: World) -> Study:
    nurse_id = world.staff("nurse1", "nurse")
    world.staff("inv1", "investigator", language="en")
    p101 = world.patient("EPR-101", language="ko", day0_offset=-30)
    p102 = world.patient("EPR-102", language="en", day0_offset=-10)
    day0 = {"EPR-101": world.today() - timedelta(days=30), "EPR-102": world.today() - timedelta(days=10)}

    _complete_on_tablet(app, world.visit(p101, "BL"), "ko", (70, 5, 6))
    _set_actual_date(world, world.visit(p101, "BL"), day0["EPR-101"] - timedelta(days=3))
    _complete_on_tablet(app, world.visit(p102, "BL"), "en", (60, 3, 4))
    _set_actual_date(world, world.visit(p102, "BL"), day0["EPR-102"])

    nurse = Actor("staff", nurse_id, "nurse1")
    with app.app_context(), db.unit_of_work() as s:
        w1 = s.exec(select(Visit).where(Visit.patient_id == p101.id, Visit.code == "W1")).one()
        answers = {"PS1": 80, "WB1": 6, "QOL1": 6}
        enter_on_behalf(
            s,
            nurse,
            w1,
            answers,
            "en",
            "Tremor: could not use the tablet",
            world.today(),
            day0["EPR-101"] + timedelta(days=7),
        )
        w1_wb = s.exec(select(Response).where(Response.visit_id == w1.id, Response.item_code == "WB1")).one()
        correct_response(s, nurse, w1_wb, 5, "Patient pressed the wrong answer")
        w1_102 = s.exec(select(Visit).where(Visit.patient_id == p102.id, Visit.code == "W1")).one()
        w1_102.missed_at, w1_102.missed_reason = utcnow(), MISSED_REASON
        s.add_all([w1, w1_102])
    return Study(day0)


def export(app: Flask, tmp_path: Path, name: str, *options: str) -> list[dict[str, str]]:
    """Run `flask export` and read the CSV back as Python's csv module reads UTF-8 by default."""
    path = tmp_path / f"{name}.csv"
    result = app.test_cli_runner().invoke(args=["export", "--format", name, "-o", str(path), *options])
    assert result.exit_code == 0, result.output
    assert not path.read_bytes().startswith("\ufeff".encode()), "no byte order mark unless asked for Excel"
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def header(app: Flask, tmp_path: Path, name: str, *options: str) -> list[str]:
    path = tmp_path / f"{name}-header.csv"
    result = app.test_cli_runner().invoke(args=["export", "--format", name, "-o", str(path), *options])
    assert result.exit_code == 0, result.output
    return next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def count(world: World, model: type) -> int:
    with world.session() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def world_patient(world: World, study_id: str) -> Patient:
    with world.session() as s:
        return s.exec(select(Patient).where(Patient.study_id == study_id)).one()


def label(code: str, item: str, value: int, language: str) -> str:
    option = next(i for i in instruments.current(code).items if i.code == item).option(value)
    assert option is not None
    return option.label(language)


# --- long format -------------------------------------------------------------------------------------------


def test_long_export_has_one_row_per_stored_answer_in_study_and_visit_order(app, world, study, tmp_path):
    assert header(app, tmp_path, "long") == LONG_HEADER
    rows = export(app, tmp_path, "long")
    assert len(rows) == count(world, Response) == 9
    assert [(r["study_id"], r["visit_code"], r["item_code"]) for r in rows] == [
        (sid, visit, item)
        for sid, visits in (("EPR-101", ("BL", "W1")), ("EPR-102", ("BL",)))
        for visit in visits
        for item in ("PS1", "WB1", "QOL1")
    ]


def test_long_export_values_dates_and_labels_match_what_was_answered(app, study, tmp_path):
    rows = export(app, tmp_path, "long", "--lang", "ko")
    by_key = {(r["study_id"], r["visit_code"], r["item_code"]): r for r in rows}
    baseline = by_key[("EPR-101", "BL", "PS1")]
    day0 = study.day0["EPR-101"]
    assert baseline["value"] == "70"
    assert baseline["value_label"] == label("PS", "PS1", 70, "ko")
    assert baseline["visit_label"] == "기저 방문 (시술 전)"
    assert baseline["target_date"] == day0.isoformat()
    assert baseline["actual_date"] == (day0 - timedelta(days=3)).isoformat()
    assert (baseline["planned_study_day"], baseline["study_day"]) == ("0", "-3")
    assert (baseline["instrument_code"], baseline["instrument_version"]) == ("PS", "1.1")
    assert (baseline["language_shown"], baseline["entered_by"], baseline["corrected"]) == (
        "ko",
        "patient",
        "",
    )
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", baseline["submitted_at_utc"])

    week1 = by_key[("EPR-101", "W1", "WB1")]
    assert (week1["value"], week1["corrected"], week1["language_shown"]) == ("5", "Y", "en")
    assert week1["value_label"] == label("WB", "WB1", 5, "ko"), "labels follow the export language"
    assert week1["study_day"] == "7"
    assert (week1["entered_by"], by_key[("EPR-101", "W1", "QOL1")]["value"]) == ("staff", "6")
    assert by_key[("EPR-102", "BL", "PS1")]["study_day"] == "0"


def test_long_export_in_english_and_missing_visits_have_no_rows(app, study, tmp_path):
    rows = export(app, tmp_path, "long", "--lang", "en")
    first = rows[0]
    assert first["visit_label"] == "Baseline (before procedure)"
    assert first["value_label"] == label("PS", "PS1", 70, "en")
    assert not any(r["study_id"] == "EPR-102" and r["visit_code"] == "W1" for r in rows), "missed: no answers"
    assert all(r["value"] != "" for r in rows)


def test_long_export_gives_each_answer_its_assessment_date_and_study_day(app, world, study, tmp_path):
    """Week 1 was typed in by a nurse today from an assessment done on day 7: the row says day 7, not today."""
    rows = export(app, tmp_path, "long")
    by_key = {(r["study_id"], r["visit_code"], r["item_code"]): r for r in rows}
    day0 = study.day0["EPR-101"]
    for item in ("PS1", "WB1", "QOL1"):
        week1 = by_key[("EPR-101", "W1", item)]
        assert week1["assessment_date"] == (day0 + timedelta(days=7)).isoformat()
        assert week1["assessment_study_day"] == "7"
        baseline = by_key[("EPR-101", "BL", item)]
        assert (baseline["assessment_date"], baseline["assessment_study_day"]) == (
            (day0 - timedelta(days=3)).isoformat(),
            "-3",
        )
    assert by_key[("EPR-102", "BL", "PS1")]["assessment_study_day"] == "0"
    with world.session() as s:
        stored = {
            (sid, code, item): day
            for sid, code, item, day in s.exec(
                select(Patient.study_id, Visit.code, Response.item_code, Response.assessment_date)
                .join(Visit, Visit.id == Response.visit_id)  # type: ignore[arg-type]
                .join(Patient, Patient.id == Visit.patient_id)  # type: ignore[arg-type]
            ).all()
        }
    assert {k: r["assessment_date"] for k, r in by_key.items()} == {
        k: day.isoformat() for k, day in stored.items()
    }
    shared = export(app, tmp_path, "long", "--study-days")
    assert {r["assessment_date"] for r in shared} == {""}
    assert [r["assessment_study_day"] for r in shared] == [r["assessment_study_day"] for r in rows]


# --- SDTM QS -----------------------------------------------------------------------------------------------


def test_sdtm_qs_has_a_record_per_result_and_not_done_records_for_the_missed_visit(
    app, world, study, tmp_path
):
    assert header(app, tmp_path, "sdtm-qs") == SDTM_HEADER
    rows = export(app, tmp_path, "sdtm-qs", "--lang", "en")
    items_due = sum(len(instruments.current(code).items) for code in ("PS", "WB", "QOL"))
    assert len(rows) == count(world, Response) + items_due == 12
    assert {r["DOMAIN"] for r in rows} == {"QS"}
    assert {r["USUBJID"] for r in rows} == {"EPRO-EPR-101", "EPRO-EPR-102"}
    assert all(r["USUBJID"] == f"{r['STUDYID']}-EPR-{r['USUBJID'][-3:]}" for r in rows)

    not_done = [r for r in rows if r["QSSTAT"] == "NOT DONE"]
    assert len(not_done) == items_due
    for record in not_done:
        assert (record["USUBJID"], record["VISITNUM"], record["VISIT"]) == ("EPRO-EPR-102", "2", "Week 1")
        assert record["QSREASND"] == MISSED_REASON
        assert record["QSORRES"] == record["QSSTRESC"] == record["QSSTRESN"] == "", "missing is never zero"
        assert record["QSDTC"] == record["QSDY"] == record["QSBLFL"] == ""
    results = [r for r in rows if r["QSSTAT"] == ""]
    assert all(r["QSSTRESN"] != "" and r["QSREASND"] == "" for r in results)


def test_sdtm_qs_sequence_baseline_flag_and_study_day_rules(app, study, tmp_path):
    rows = export(app, tmp_path, "sdtm-qs", "--lang", "en")
    for subject in ("EPRO-EPR-101", "EPRO-EPR-102"):
        sequence = [int(r["QSSEQ"]) for r in rows if r["USUBJID"] == subject]
        assert sequence == list(range(1, len(sequence) + 1)), "QSSEQ unique and consecutive per subject"
    flagged = [(r["USUBJID"], r["VISIT"]) for r in rows if r["QSBLFL"] == "Y"]
    assert (
        flagged
        == [("EPRO-EPR-101", "Baseline (before procedure)")] * 3
        + [("EPRO-EPR-102", "Baseline (before procedure)")] * 3
    )
    # SDTM study day: the procedure date is day 1, the day before it -1; there is no day 0.
    day_of = {(r["USUBJID"], r["VISITNUM"]): r["QSDY"] for r in rows if r["QSSTAT"] == ""}
    assert day_of[("EPRO-EPR-101", "1")] == "-3"
    assert day_of[("EPRO-EPR-101", "2")] == "8"
    assert day_of[("EPRO-EPR-102", "1")] == "1"
    assert "0" not in {r["QSDY"] for r in rows}
    assert {r["QSDTC"] for r in rows if r["USUBJID"] == "EPRO-EPR-101" and r["VISITNUM"] == "1"} == {
        (study.day0["EPR-101"] - timedelta(days=3)).isoformat()
    }


def test_sdtm_qs_codes_results_and_recall(app, study, tmp_path):
    rows = export(app, tmp_path, "sdtm-qs", "--lang", "ko")
    assert {r["QSTESTCD"] for r in rows} == {"EPROPS", "EPROWB", "EPROQOL"}
    assert all(len(r["QSTESTCD"]) <= 8 for r in rows)
    ps = next(r for r in rows if r["USUBJID"] == "EPRO-EPR-101" and r["QSTESTCD"] == "EPROPS")
    assert (ps["QSSTRESC"], ps["QSSTRESN"]) == ("70", "70")
    assert ps["QSORRES"] == label("PS", "PS1", 70, "ko")
    assert ps["QSTEST"] == instruments.current("PS").name("ko")
    assert ps["QSCAT"] == "PERFORMANCE STATUS (PATIENT-REPORTED)", "the instrument, not its version"
    assert ps["VISIT"] == "기저 방문 (시술 전)"
    recall = {r["QSTESTCD"]: r["QSEVLINT"] for r in rows}
    assert recall == {"EPROPS": "", "EPROWB": "-P1W", "EPROQOL": "-P1W"}, "today has no interval"


def test_an_overdue_visit_nobody_marked_missed_gives_no_records(app, world, study, tmp_path):
    week2 = world.visit(world_patient(world, "EPR-101"), "W2")
    assert week2.window_end < world.today() and week2.missed_at is None and week2.actual_date is None
    rows = export(app, tmp_path, "sdtm-qs")
    assert not [r for r in rows if r["USUBJID"] == "EPRO-EPR-101" and r["VISITNUM"] == str(week2.number)]


def test_a_reason_that_looks_like_a_formula_is_made_inert(app, world, study, tmp_path):
    with world.session() as s:
        visit = s.exec(select(Visit).where(Visit.missed_reason == MISSED_REASON)).one()
        visit.missed_reason = '=HYPERLINK("http://example.invalid")'
        s.add(visit)
        s.commit()
    rows = export(app, tmp_path, "sdtm-qs")
    reasons = {r["QSREASND"] for r in rows if r["QSSTAT"] == "NOT DONE"}
    assert reasons == {'\'=HYPERLINK("http://example.invalid")'}


# --- study days instead of dates ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["long", "sdtm-qs"])
def test_study_days_option_removes_every_calendar_date_and_keeps_study_days(app, study, tmp_path, name):
    with_dates = export(app, tmp_path, name)
    shared = export(app, tmp_path, name, "--study-days")
    assert len(shared) == len(with_dates)
    assert any(CALENDAR_DATE.search(value) for row in with_dates for value in row.values())
    for row in shared:
        for column, value in row.items():
            assert not CALENDAR_DATE.search(value), (column, value)
    day_columns = ("planned_study_day", "study_day") if name == "long" else ("QSDY",)
    for column in day_columns:
        assert [r[column] for r in shared] == [r[column] for r in with_dates]


def test_the_audit_trail_has_no_study_days_option(app, study, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["export", "--format", "audit", "--study-days", "-o", str(tmp_path / "a.csv")]
    )
    assert result.exit_code != 0 and "study-days" in result.output
    assert not (tmp_path / "a.csv").exists()


# --- audit trail ---------------------------------------------------------------------------------------------


def test_audit_export_has_every_column_and_every_event(app, world, study, tmp_path):
    rows = export(app, tmp_path, "audit")
    assert list(rows[0]) == [column.name for column in AuditEvent.__table__.columns]  # type: ignore[attr-defined]
    assert len(rows) == count(world, AuditEvent), "every event, including this export's own"
    with world.session() as s:
        stored = s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()  # type: ignore[arg-type]
    assert [r["hash"] for r in rows] == [e.hash for e in stored]
    correction = next(r for r in rows if r["action"] == "response.correct")
    assert (correction["old_value"], correction["new_value"]) == ("6", "5")
    assert correction["reason"] == "Patient pressed the wrong answer"
    assert rows[-1]["action"] == "export.audit"


def test_a_failed_sign_in_is_an_anonymous_actor_described_in_the_dictionary(app, study, tmp_path):
    """Every actor type the trail can hold (epro.codes.ActorType) is described, in both languages."""
    assert sign_in(app.test_client(), "nobody", "wrong password").status_code == 401
    failed = [r for r in export(app, tmp_path, "audit") if r["action"] == "auth.sign_in_failed"]
    assert [(r["actor_type"], r["actor_name"]) for r in failed] == [("anonymous", "nobody")]
    described = {
        r["code"]: (r["description_ko"], r["description_en"])
        for r in export(app, tmp_path, "dictionary")
        if (r["export"], r["column"]) == ("audit", "actor_type") and r["code"]
    }
    assert set(described) == {actor.value for actor in ActorType}
    assert all(ko and en and ko != en for ko, en in described.values())


# --- data dictionary -----------------------------------------------------------------------------------------


def test_dictionary_describes_every_column_of_every_export_in_korean_and_english(app, study, tmp_path):
    dictionary = export(app, tmp_path, "dictionary")
    described = {(r["export"], r["column"]): r for r in dictionary if r["code"] == ""}
    for name in ("long", "sdtm-qs", "audit", "dictionary"):
        for column in header(app, tmp_path, name):
            row = described.get((name, column))
            assert row is not None, f"{name}.{column} is not in the dictionary"
            assert row["description_ko"] and row["description_en"]
            assert row["description_ko"] != row["description_en"], f"{name}.{column} has no Korean"
    assert described[("long", "target_date")]["calendar_date"] == "Y"
    assert described[("long", "study_day")]["calendar_date"] == ""
    assert described[("long", "assessment_date")]["calendar_date"] == "Y"
    assert described[("long", "assessment_study_day")]["calendar_date"] == ""


def test_dictionary_lists_every_code_that_appears_in_the_exports(app, study, tmp_path):
    dictionary = export(app, tmp_path, "dictionary")
    codes: dict[tuple[str, str], set[str]] = {}
    for row in dictionary:
        if row["code"]:
            codes.setdefault((row["export"], row["column"]), set()).add(row["code"])
    coded = {
        "long": (
            "visit_code",
            "instrument_code",
            "item_code",
            "value",
            "language_shown",
            "entered_by",
            "corrected",
        ),
        "sdtm-qs": (
            "STUDYID",
            "DOMAIN",
            "QSTESTCD",
            "QSCAT",
            "QSSTAT",
            "VISITNUM",
            "QSEVLINT",
            "QSLOBXFL",
            "QSBLFL",
            "QSSTRESN",
        ),
        "audit": ("actor_type",),
    }
    for name, columns in coded.items():
        rows = export(app, tmp_path, name)
        for column in columns:
            used = {r[column] for r in rows} - {""}
            assert used, f"the study should exercise {name}.{column}"
            assert used <= codes.get((name, column), set()), f"{name}.{column}: {used}"

    for instrument in instruments.all_instruments().values():
        for item in instrument.items:
            listed = {
                r["code"]: (r["description_ko"], r["description_en"])
                for r in dictionary
                if r["column"] == "value"
                and r["scope"] == f"{instrument.code} {instrument.version} {item.code}"
            }
            assert listed == {str(o.value): (o.label.ko, o.label.en) for o in item.options}


# --- every export is audited ----------------------------------------------------------------------------------


def test_a_command_line_export_is_audited_as_the_system(app, world, study, tmp_path):
    export(app, tmp_path, "sdtm-qs", "--lang", "en", "--study-days")
    with world.session() as s:
        event = s.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()  # type: ignore[union-attr]
    assert event is not None
    assert (event.action, event.actor_type, event.actor_name) == ("export.sdtm-qs", "system", "cli")
    assert event.new_value == "lang=en; study_days=yes"


# --- the web page ---------------------------------------------------------------------------------------------


def test_anonymous_and_nurses_cannot_export(app, study):
    anonymous = app.test_client()
    for path in ("/exports/", "/exports/long.csv", "/exports/audit.csv"):
        response = anonymous.get(path)
        assert response.status_code == 302 and "/staff/login" in response.location
    nurse = app.test_client()
    sign_in(nurse, "nurse1")
    for path in ("/exports/", "/exports/long.csv", "/exports/audit.csv"):
        assert nurse.get(path).status_code == 403


@pytest.mark.parametrize("username", ["inv1", "admin1"])
def test_investigators_and_admins_download_a_streamed_csv_and_one_for_excel(
    app, world, study, tmp_path, username
):
    if username == "admin1":
        world.staff("admin1", "admin")
    client = app.test_client()
    sign_in(client, username)
    page = client.get("/exports/")
    assert page.status_code == 200
    for name in ("long", "sdtm-qs", "audit", "dictionary"):
        assert f'action="/exports/{name}.csv"' in page.text

    response = client.get("/exports/sdtm-qs.csv?lang=en&study_days=1")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.content_type == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="epro-sdtm-qs-en-studydays-\d{8}T\d{4}Z\.csv"', disposition)
    assert "EPR-" not in disposition, "no patient data in the file name"
    body = response.get_data()
    assert not body.startswith("\ufeff".encode())
    web_rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    assert web_rows == export(app, tmp_path, "sdtm-qs", "--lang", "en", "--study-days")
    for_excel = client.get("/exports/sdtm-qs.csv?lang=en&study_days=1&excel=1").get_data()
    assert for_excel == "\ufeff".encode() + body, "for Excel: the same bytes after a byte order mark"

    with world.session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "export.sdtm-qs")).all()
    assert [(e.actor_type, e.actor_name) for e in events] == [
        ("staff", username),
        ("system", "cli"),
        ("staff", username),
    ]
    assert events[-1].new_value == "lang=en; study_days=yes; excel=yes"


def test_the_exports_page_in_korean_and_its_place_in_the_menu(app, world, study):
    world.staff("inv-ko", "investigator", language="ko")
    client = app.test_client()
    sign_in(client, "inv-ko")
    page = client.get("/exports/")
    assert '<html lang="ko">' in page.text
    assert "내보내기" in page.text and "데이터 사전" in page.text and "감사 추적 기록" in page.text
    assert 'href="/exports/"' in client.get("/staff/").text
    nurse = app.test_client()
    sign_in(nurse, "nurse1")
    assert 'href="/exports/"' not in nurse.get("/staff/").text


def test_bad_requests_are_refused_and_not_audited(app, world, study):
    client = app.test_client()
    sign_in(client, "inv1")
    before = count(world, AuditEvent)
    assert client.get("/exports/nothing.csv").status_code == 404
    assert client.get("/exports/audit.csv?study_days=1").status_code == 400
    assert client.get("/exports/long.csv?lang=fr").status_code == 400
    assert count(world, AuditEvent) == before
