"""The SDTM package as a data manager loads it: `flask export --format sdtm -o DIR` writes DM, SV, CM, DS, QS,
LB, VS, FA, their SUPP-- datasets and TS as SAS transport and Dataset-JSON plus define.xml; the files agree with the database and with
each other, and pass the checks a validator would make. A baseline transcribed late from paper keeps its true
date, study day and flag."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import jsonschema
import odmlib
import pyreadstat
import pytest
import xmlschema
from flask import Flask
from sqlmodel import select

from epro import db
from epro.audit import Actor
from epro.clinical import operations as clinical_ops
from epro.clinical.characteristics import characteristics_for
from epro.clinical.measures import load_measure_set
from epro.exports.formats import FORMATS
from epro.followup.changes import withdraw
from epro.models import AuditEvent, Patient, Response, Visit, utcnow
from epro.questionnaires.answers import correct_response, enter_on_behalf
from epro.schedule import load_protocol
from epro.sdtm.spec import DATASETS
from tests.conftest import World, csrf_of, sign_in
from tests.kiosk_helpers import Tablet

DATASET_NAMES = (
    "dm",
    "sv",
    "cm",
    "ds",
    "qs",
    "lb",
    "vs",
    "fa",
    "suppqs",
    "supplb",
    "suppvs",
    "suppcm",
    "suppfa",
    "ts",
)
WITHDRAWAL_REASON = "Withdrew consent"
ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
DEF = "{http://www.cdisc.org/ns/def/v2.1}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
TESTCD = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")
MISSED_REASON = "Admitted to another hospital"


@dataclass
class Study:
    """EPR-201 (procedure 400 days ago): the baseline was done on paper 3 days before the procedure and
    transcribed by a nurse today; week 1 answered on the tablet today; month 1 marked missed; weight, albumin
    (later corrected), ICG R15, both diuretic doses (furosemide 0: not taken) and both grades sampled at
    baseline; a week 1 weight out of the usual range, confirmed. EPR-202 (procedure 10 days ago): baseline
    answered on the tablet today, after the procedure, so it is no baseline; one answer corrected; withdrawn
    today (consent withdrawn)."""

    day0: dict[str, date]
    today: date


def _entered(world: World, study_id: str, code: str, answers: dict[str, int], on: date) -> None:
    nurse = Actor("staff", _nurse_id(world), "nurse1")
    with world.app.app_context(), db.unit_of_work() as s:
        patient = s.exec(select(Patient).where(Patient.study_id == study_id)).one()
        visit = s.exec(select(Visit).where(Visit.patient_id == patient.id, Visit.code == code)).one()
        enter_on_behalf(s, nurse, visit, answers, "ko", "Paper form", world.today(), on)


def _nurse_id(world: World) -> int:
    from epro.models import StaffUser

    with world.session() as s:
        return s.exec(select(StaffUser.id).where(StaffUser.username == "nurse1")).one()  # type: ignore[return-value]


@pytest.fixture
def study(app: Flask, world: World) -> Study:
    world.staff("nurse1", "nurse")
    today = world.today()
    p201 = world.patient("EPR-201", day0_offset=-400)
    p202 = world.patient("EPR-202", language="en", day0_offset=-10)
    day0 = {"EPR-201": today - timedelta(days=400), "EPR-202": today - timedelta(days=10)}
    _entered(world, "EPR-201", "BL", {"PS1": 60, "WB1": 3, "QOL1": 4}, day0["EPR-201"] - timedelta(days=3))
    tablet = Tablet(app.test_client())
    tablet.start("nurse1", world.visit(p201, "W1").id)  # type: ignore[arg-type]
    assert tablet.complete("ko", (70, 4, 4)).location.endswith("/tablet/thanks")
    tablet = Tablet(app.test_client())
    tablet.start("nurse1", world.visit(p202, "BL").id)  # type: ignore[arg-type]
    assert tablet.complete("en", (80, 5, 5)).location.endswith("/tablet/thanks")
    nurse = Actor("staff", _nurse_id(world), "nurse1")
    with app.app_context(), db.unit_of_work() as s:
        m1 = s.exec(select(Visit).where(Visit.patient_id == p201.id, Visit.code == "M1")).one()
        m1.missed_at, m1.missed_reason = utcnow(), MISSED_REASON
        s.add(m1)
        bl = s.exec(select(Visit).where(Visit.patient_id == p201.id, Visit.code == "BL")).one()
        liver = load_measure_set("liver-1.0")
        entered = {}
        for code, value in (
            ("WEIGHT", Decimal("61.2")),
            ("ALB", Decimal("2.6")),
            ("ICGR15", Decimal("12.5")),
            ("SPIRDOSE", Decimal("100")),
            ("FURODOSE", Decimal("0")),
            ("ASCITES", "SLIGHT"),
            ("ENCEPH", "NONE"),
        ):
            entered[code] = clinical_ops.enter_value(
                s, nurse, bl, liver, liver.get(code), value, bl.actual_date, confirmed=True, today=today
            )
        clinical_ops.correct_value(
            s,
            nurse,
            entered["ALB"],
            liver.get("ALB"),
            Decimal("2.8"),
            bl.actual_date,
            "Transcription error",
            confirmed=True,
            today=today,
        )
        w1 = s.exec(select(Visit).where(Visit.patient_id == p201.id, Visit.code == "W1")).one()
        clinical_ops.enter_value(
            s, nurse, w1, liver, liver.get("WEIGHT"), Decimal("28.0"), today, confirmed=True, today=today
        )
        patient = s.get(Patient, p201.id)
        aetiology = next(c for c in characteristics_for(load_protocol("default")) if c.code == "AETIOL")
        clinical_ops.set_characteristic(s, nurse, patient, aetiology, "HBV", None, existing=None)
        wb = s.exec(
            select(Response)
            .join(Visit, Visit.id == Response.visit_id)  # type: ignore[arg-type]
            .where(Visit.patient_id == p202.id, Response.item_code == "WB1")
        ).one()
        correct_response(s, nurse, wb, 6, "Pressed the wrong answer")
        withdraw(s, nurse, s.get(Patient, p202.id), today, WITHDRAWAL_REASON, today, None)
    return Study(day0, today)


def package(app: Flask, tmp_path: Path, *options: str) -> Path:
    out = tmp_path / "out"
    result = app.test_cli_runner().invoke(args=["export", "--format", "sdtm", "-o", str(out), *options])
    assert result.exit_code == 0, result.output
    return out


def xpt(out: Path, name: str) -> list[dict[str, object]]:
    frame, meta = pyreadstat.read_xport(str(out / f"{name}.xpt"))
    assert meta.table_name == name.upper()
    return [
        {k: (None if v == "" or v != v else v) for k, v in row.items()}  # NaN and "" are missing
        for row in frame.to_dict("records")
    ]


@pytest.fixture
def out(app: Flask, study: Study, tmp_path: Path) -> Path:
    return package(app, tmp_path)


# --- the package -----------------------------------------------------------------------------------------------


def test_the_package_has_every_dataset_as_xpt_and_json_and_a_define(out, world):
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{n}.{ext}" for n in DATASET_NAMES for ext in ("xpt", "json")] + ["define.xml"]
    )
    with world.session() as s:
        event = s.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()  # type: ignore[union-attr]
    assert (event.action, event.actor_name, event.new_value) == ("export.sdtm", "cli", "lang=en")


def test_qs_xpt_reads_back_as_the_answers_in_the_database(out, world):
    rows = xpt(out, "qs")
    with world.session() as s:
        stored = s.exec(
            select(
                Patient.study_id, Visit.number, Response.item_code, Response.value, Response.assessment_date
            )
            .join(Visit, Visit.id == Response.visit_id)  # type: ignore[arg-type]
            .join(Patient, Patient.id == Visit.patient_id)  # type: ignore[arg-type]
        ).all()
    results = {
        (r["USUBJID"], int(r["VISITNUM"]), r["QSTESTCD"]): (r["QSSTRESN"], r["QSDTC"])  # type: ignore[call-overload]
        for r in rows
        if r["QSSTAT"] is None
    }
    expected = {
        (f"EPRO-{study_id}", number, f"EPRO{item[:-1]}"): (float(value), day.isoformat())
        for study_id, number, item, value, day in stored
    }
    assert results == expected
    assert len(rows) == len(stored) + 3, "and one NOT DONE record per item of the missed visit"


def test_dataset_json_holds_the_same_rows_as_the_xpt(out):
    for name in DATASET_NAMES:
        document = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
        jsonschema.validate(document, DATASET_JSON_1_1)
        names = [c["name"] for c in document["columns"]]
        assert names == list(DATASETS[name.upper()].names)
        assert document["records"] == len(document["rows"])
        from_json = [
            {n: (float(v) if isinstance(v, int | float) else v) for n, v in zip(names, row, strict=True)}
            for row in document["rows"]
        ]
        assert from_json == xpt(out, name), name


def test_every_text_value_is_ascii_and_labels_and_names_fit_sas_v5(out):
    for name in DATASET_NAMES:
        frame, meta = pyreadstat.read_xport(str(out / f"{name}.xpt"))
        assert len(meta.file_label) <= 40
        for variable, label in meta.column_names_to_labels.items():
            assert len(variable) <= 8 and len(label) <= 40 and label.isascii(), (name, variable)
        for row in frame.to_dict("records"):
            for variable, value in row.items():
                assert not isinstance(value, str) or value.isascii(), (name, variable, value)


# --- the baseline, by date -------------------------------------------------------------------------------------


def test_a_late_transcribed_baseline_keeps_its_date_study_day_and_flag(out, study):
    rows = xpt(out, "qs")
    bl = [r for r in rows if r["USUBJID"] == "EPRO-EPR-201" and r["VISITNUM"] == 1]
    assert {r["QSDTC"] for r in bl} == {(study.day0["EPR-201"] - timedelta(days=3)).isoformat()}
    assert {r["QSDY"] for r in bl} == {-3}, "its true study day, not the day it was typed in"
    assert {(r["QSBLFL"], r["QSLOBXFL"]) for r in bl} == {("Y", "Y")}
    week1 = [r for r in rows if r["USUBJID"] == "EPRO-EPR-201" and r["VISITNUM"] == 2]
    assert {r["QSDY"] for r in week1} == {401} and {r["QSBLFL"] for r in week1} == {None}
    # EPR-202 answered the "baseline" visit on the tablet after the procedure: no baseline at all.
    assert not [r for r in rows if r["USUBJID"] == "EPRO-EPR-202" and r["QSBLFL"] == "Y"]
    supp = xpt(out, "suppqs")
    entered = {(r["USUBJID"], r["IDVARVAL"]): r["QVAL"] for r in supp if r["QNAM"] == "QSENTBY"}
    assert {entered[(r["USUBJID"], str(int(r["QSSEQ"])))] for r in bl} == {"STAFF"}  # type: ignore[call-overload]
    assert {entered[(r["USUBJID"], str(int(r["QSSEQ"])))] for r in week1} == {"PATIENT"}  # type: ignore[call-overload]


def test_the_pdf_the_long_export_sdtm_and_the_visit_page_agree_on_baseline_and_visit_names(
    app, study, out, world, tmp_path
):
    """One baseline (epro.baseline) and one visit name (epro.visit_labels, the patient's own protocol
    version) for the PDF summary, the long export, the SDTM package and the staff pages."""
    from zoneinfo import ZoneInfo

    from epro.reports.context import build_report

    with app.app_context(), db.unit_of_work() as s:
        patient = s.exec(select(Patient).where(Patient.study_id == "EPR-201")).one()
        report = build_report(
            s,
            patient.id,  # type: ignore[arg-type]
            study_name="t",
            zone=ZoneInfo("Asia/Seoul"),
            now=utcnow(),
            generated_by="t",
        )
        week1_id = s.exec(select(Visit.id).where(Visit.patient_id == patient.id, Visit.code == "W1")).one()
    assert [v.code for v in report.visits if v.is_baseline] == ["BL"]
    week1 = next(v for v in report.visits if v.code == "W1")
    assert [score.change for score in week1.scores] == [10, 1, 0], "change from the transcribed baseline"

    qs = [r for r in xpt(out, "qs") if r["USUBJID"] == "EPRO-EPR-201"]
    assert {r["VISITNUM"] for r in qs if r["QSBLFL"] == "Y"} == {
        v.number for v in report.visits if v.is_baseline
    }

    long_csv = tmp_path / "long.csv"
    result = app.test_cli_runner().invoke(
        args=["export", "--format", "long", "--lang", "en", "-o", str(long_csv)]
    )
    assert result.exit_code == 0, result.output
    with long_csv.open(encoding="utf-8") as handle:
        long_rows = [r for r in csv.DictReader(handle) if r["study_id"] == "EPR-201"]
    pdf_names = {v.code: v.label.en for v in report.visits}
    assert long_rows and {r["visit_code"]: r["visit_label"] for r in long_rows}.items() <= pdf_names.items()
    assert {int(r["VISITNUM"]): r["VISIT"] for r in qs}.items() <= {
        v.number: v.label.en for v in report.visits
    }.items()

    client = app.test_client()
    sign_in(client, "nurse1")
    client.post("/staff/language", data={"language": "en", "csrf_token": csrf_of(client.get("/staff/").text)})
    page = client.get(f"/staff/visits/{week1_id}")
    assert f"<h1>{pdf_names['W1']} " in page.text


def test_clinical_values_in_lb_and_vs_with_their_sample_date_and_baseline(out, study):
    sample = (study.day0["EPR-201"] - timedelta(days=3)).isoformat()
    vs = xpt(out, "vs")
    assert [
        (r["VSTESTCD"], r["VSORRES"], r["VSORRESU"], r["VSSTRESN"], r["VSDTC"], r["VSDY"], r["VSBLFL"])
        for r in vs
    ] == [
        ("WEIGHT", "61.2", "kg", 61.2, sample, -3, "Y"),
        ("WEIGHT", "28.0", "kg", 28.0, study.today.isoformat(), 401, None),
    ]
    lb = xpt(out, "lb")
    assert [
        (r["LBTESTCD"], r["LBTEST"], r["LBORRES"], r["LBORRESU"], r["LBDTC"], r["LBLOBXFL"]) for r in lb
    ] == [
        ("ALB", "Albumin", "2.8", "g/dL", sample, "Y"),
        ("ICGR15", "ICG Retention at 15 Minutes", "12.5", "%", sample, "Y"),
    ]


def test_every_clinical_value_of_the_measure_set_is_in_the_package(out, study, world):
    """No data lost: each value entered is one record in LB, VS, CM or FA, found by its code."""
    from epro.models import ClinicalValue

    with world.session() as s:
        stored = sorted(s.exec(select(ClinicalValue.measure_code)).all())
    found = [r["LBTESTCD"] for r in xpt(out, "lb")] + [r["VSTESTCD"] for r in xpt(out, "vs")]
    found += [r["CMSPID"] for r in xpt(out, "cm")] + [r["FASPID"] for r in xpt(out, "fa")]
    assert sorted(found) == stored  # type: ignore[type-var]


def test_diuretic_doses_are_prespecified_concomitant_medications(out, study):
    sample = (study.day0["EPR-201"] - timedelta(days=3)).isoformat()
    cm = xpt(out, "cm")
    assert [
        (
            r["CMSEQ"],
            r["CMSPID"],
            r["CMTRT"],
            r["CMCAT"],
            r["CMPRESP"],
            r["CMOCCUR"],
            r["CMDOSTOT"],
            r["CMDOSU"],
            r["VISITNUM"],
            r["CMDTC"],
            r["CMDY"],
        )
        for r in cm
    ] == [
        (1, "SPIRDOSE", "SPIRONOLACTONE", "DIURETIC", "Y", "Y", 100.0, "mg", 1, sample, -3),
        (2, "FURODOSE", "FUROSEMIDE", "DIURETIC", "Y", "N", None, None, 1, sample, -3),
    ], "a dose of 0 is: not taken (CMOCCUR = N), no dose"


def test_ascites_and_encephalopathy_grades_are_findings_about_the_condition(out, study):
    sample = (study.day0["EPR-201"] - timedelta(days=3)).isoformat()
    fa = xpt(out, "fa")
    assert [
        (r["FASPID"], r["FATESTCD"], r["FATEST"], r["FAOBJ"], r["FAORRES"], r["FASTRESC"], r["FADTC"])
        for r in fa
    ] == [
        ("ASCITES", "SEV", "Severity/Intensity", "ASCITES", "Slight", "SLIGHT", sample),
        ("ENCEPH", "SEV", "Severity/Intensity", "HEPATIC ENCEPHALOPATHY", "None", "NONE", sample),
    ]
    assert {(r["FALOBXFL"], r["FABLFL"]) for r in fa} == {("Y", "Y")}, "one baseline per condition"


def test_out_of_range_and_corrected_clinical_values_are_qualified_in_supp(out, study):
    lb = {int(r["LBSEQ"]): r for r in xpt(out, "lb")}  # type: ignore[call-overload]
    vs = {int(r["VSSEQ"]): r for r in xpt(out, "vs")}  # type: ignore[call-overload]
    supplb = xpt(out, "supplb")
    suppvs = xpt(out, "suppvs")
    assert [(r["IDVAR"], lb[int(r["IDVARVAL"])]["LBTESTCD"], r["QNAM"], r["QVAL"]) for r in supplb] == [  # type: ignore[call-overload]
        ("LBSEQ", "ALB", "LBCORR", "Y")
    ]
    assert [(r["IDVAR"], vs[int(r["IDVARVAL"])]["VSORRES"], r["QNAM"], r["QVAL"]) for r in suppvs] == [  # type: ignore[call-overload]
        ("VSSEQ", "28.0", "VSOORCF", "Y")
    ]
    assert suppvs[0]["QLABEL"] == "Out-of-Usual-Range Value Confirmed"
    assert xpt(out, "suppcm") == [] and xpt(out, "suppfa") == []


def test_a_withdrawn_subject_has_a_disposition_and_an_end_of_participation(out, study):
    ds = xpt(out, "ds")
    assert [
        (r["USUBJID"], r["DSSEQ"], r["DSTERM"], r["DSDECOD"], r["DSCAT"], r["DSSTDTC"], r["DSSTDY"])
        for r in ds
    ] == [
        (
            "EPRO-EPR-202",
            1,
            WITHDRAWAL_REASON,
            "WITHDRAWAL BY SUBJECT",
            "DISPOSITION EVENT",
            study.today.isoformat(),
            11,
        )
    ], "EPR-201 is still in follow-up: no disposition yet"
    dm = {r["USUBJID"]: r for r in xpt(out, "dm")}
    assert dm["EPRO-EPR-202"]["RFPENDTC"] == study.today.isoformat()


def test_a_subject_whose_last_visit_took_place_completed_the_study(app, world, study, tmp_path):
    with world.session() as s:
        patient = s.exec(select(Patient).where(Patient.study_id == "EPR-201")).one()
        last = s.exec(
            select(Visit).where(Visit.patient_id == patient.id).order_by(Visit.number.desc())  # type: ignore[attr-defined]
        ).first()
        assert last is not None
        last.actual_date = study.today
        s.add(last)
        s.commit()
    ds = {r["USUBJID"]: r for r in xpt(package(app, tmp_path), "ds")}
    assert (ds["EPRO-EPR-201"]["DSTERM"], ds["EPRO-EPR-201"]["DSDECOD"], ds["EPRO-EPR-201"]["DSSTDTC"]) == (
        "COMPLETED",
        "COMPLETED",
        study.today.isoformat(),
    )
    assert ds["EPRO-EPR-202"]["DSDECOD"] == "WITHDRAWAL BY SUBJECT"


@pytest.mark.parametrize(
    ("reason", "term"),
    [
        ("Patient died of variceal bleeding", "DEATH"),
        ("시술 후 부작용으로 중단", "ADVERSE EVENT"),
        ("연락 두절", "LOST TO FOLLOW-UP"),
        ("환자가 동의 철회", "WITHDRAWAL BY SUBJECT"),
        ("Investigator decided to stop", "PHYSICIAN DECISION"),
        ("Moved to Busan", "OTHER"),
    ],
)
def test_a_withdrawal_reason_gets_the_cdisc_term_it_names_or_other(reason, term):
    from epro.sdtm.subjects import disposition_term

    assert disposition_term(reason) == term


# --- conformance: what a validator checks ------------------------------------------------------------------------


def test_required_and_expected_variables_are_present_and_required_ones_filled(out):
    for name in DATASET_NAMES:
        spec = DATASETS[name.upper()]
        frame, _meta = pyreadstat.read_xport(str(out / f"{name}.xpt"))
        assert list(frame.columns) == list(spec.names), name
        for variable in spec.variables:
            if variable.core == "Req":
                assert all(v not in (None, "") for v in frame[variable.name]), (name, variable.name)


def test_test_codes_names_and_sequence_numbers(out):
    for name in ("qs", "lb", "vs", "fa"):
        prefix = name.upper()
        rows = xpt(out, name)
        assert rows, name
        for row in rows:
            assert TESTCD.match(str(row[f"{prefix}TESTCD"])), row
            assert len(str(row[f"{prefix}TEST"])) <= 40, row
    for name in ("qs", "lb", "vs", "fa", "cm", "ds"):
        prefix = name.upper()
        keys = [(r["USUBJID"], r[f"{prefix}SEQ"]) for r in xpt(out, name)]
        assert len(keys) == len(set(keys)), f"{prefix}SEQ unique per subject"


def test_dates_are_iso_8601_and_study_days_count_from_rfstdtc_without_day_0(out):
    reference = {r["USUBJID"]: date.fromisoformat(str(r["RFSTDTC"])) for r in xpt(out, "dm")}
    pairs = {
        "qs": [("QSDTC", "QSDY")],
        "lb": [("LBDTC", "LBDY")],
        "vs": [("VSDTC", "VSDY")],
        "fa": [("FADTC", "FADY")],
        "cm": [("CMDTC", "CMDY")],
        "ds": [("DSSTDTC", "DSSTDY")],
        "sv": [("SVSTDTC", "SVSTDY"), ("SVENDTC", "SVENDY")],
    }
    for name in DATASET_NAMES:
        for row in xpt(out, name):
            for variable, value in row.items():
                if variable.endswith("DTC") and value is not None:
                    assert ISO_DATE.match(str(value)), (name, variable, value)
        for dtc, dy in pairs.get(name, []):
            for row in xpt(out, name):
                if row[dtc] is None:
                    assert row[dy] is None
                    continue
                days = (date.fromisoformat(str(row[dtc])) - reference[row["USUBJID"]]).days  # type: ignore[index]
                assert row[dy] == (days + 1 if days >= 0 else days) and row[dy] != 0, (name, row)


def test_one_baseline_flag_per_subject_and_test_on_or_before_day_0(out):
    reference = {r["USUBJID"]: str(r["RFSTDTC"]) for r in xpt(out, "dm")}
    for name in ("qs", "lb", "vs", "fa"):
        prefix = name.upper()
        flagged: dict[tuple[object, object], list[dict[str, object]]] = {}
        for row in xpt(out, name):
            assert row[f"{prefix}BLFL"] == row[f"{prefix}LOBXFL"]
            if row[f"{prefix}BLFL"] == "Y":
                key = (row["USUBJID"], row[f"{prefix}TESTCD"], row.get(f"{prefix}OBJ"))
                flagged.setdefault(key, []).append(row)
        for records in flagged.values():
            assert len(records) == 1
            assert str(records[0][f"{prefix}DTC"]) <= reference[records[0]["USUBJID"]]  # type: ignore[index]
            assert records[0][f"{prefix}STAT"] is None


def test_not_done_records_have_a_reason_and_no_result(out):
    not_done = [r for r in xpt(out, "qs") if r["QSSTAT"] == "NOT DONE"]
    assert len(not_done) == 3
    for row in not_done:
        assert row["QSREASND"] == MISSED_REASON
        assert row["QSORRES"] is row["QSSTRESN"] is row["QSDTC"] is None
    missed = [r for r in xpt(out, "sv") if r["SVOCCUR"] == "N"]
    assert [(r["USUBJID"], r["SVREASOC"], r["SVSTDTC"]) for r in missed] == [
        ("EPRO-EPR-201", MISSED_REASON, None)
    ]


def test_usubjid_consistent_and_every_supp_row_has_a_parent(out):
    subjects = {r["USUBJID"] for r in xpt(out, "dm")}
    assert subjects == {"EPRO-EPR-201", "EPRO-EPR-202"}
    for name in DATASET_NAMES:
        if name not in ("dm", "ts"):
            assert {r["USUBJID"] for r in xpt(out, name)} <= subjects, name
    supp_rows = 0
    for parent in ("qs", "lb", "vs", "cm", "fa"):
        prefix = parent.upper()
        parents = {(r["USUBJID"], str(int(r[f"{prefix}SEQ"]))) for r in xpt(out, parent)}  # type: ignore[call-overload]
        supp = xpt(out, f"supp{parent}")
        supp_rows += len(supp)
        assert {(r["RDOMAIN"], r["IDVAR"]) for r in supp} <= {(prefix, f"{prefix}SEQ")}, parent
        assert all((r["USUBJID"], r["IDVARVAL"]) in parents for r in supp), parent
        keys = [(r["USUBJID"], r["IDVARVAL"], r["QNAM"]) for r in supp]
        assert len(keys) == len(set(keys)), parent
    assert supp_rows > len(xpt(out, "suppqs")), "clinical qualifiers too"
    assert {r["QNAM"] for r in xpt(out, "suppqs")} == {"QSENTBY", "QSINSTV", "QSLANG", "QSCORR"}


def test_dm_reference_dates_arm_and_age(out, study):
    dm = {r["USUBJID"]: r for r in xpt(out, "dm")}
    subject = dm["EPRO-EPR-201"]
    assert subject["RFSTDTC"] == subject["RFXSTDTC"] == study.day0["EPR-201"].isoformat()
    assert subject["RFENDTC"] == subject["RFPENDTC"] == study.today.isoformat(), "last contact, not withdrawn"
    assert (subject["ARMCD"], subject["ACTARMCD"], subject["COUNTRY"], subject["SEX"]) == (
        "TRT",
        "TRT",
        "KOR",
        "F",
    )
    assert subject["AGE"] == study.day0["EPR-201"].year - 1965 and subject["AGEU"] == "YEARS"
    ts = {r["TSPARMCD"]: r["TSVAL"] for r in xpt(out, "ts")}
    assert ts["SDTIGVER"] == "3.4" and ts["NARMS"] == "1" and ts["DCUTDTC"] == study.today.isoformat()


# --- define.xml --------------------------------------------------------------------------------------------------


def test_define_xml_describes_every_dataset_variable_and_code_list(out):
    root = ET.parse(out / "define.xml").getroot()
    assert root.tag == f"{ODM}ODM" and root.get(f"{DEF}Context") == "Submission"
    mdv = root.find(f"{ODM}Study/{ODM}MetaDataVersion")
    assert mdv is not None and mdv.get(f"{DEF}DefineVersion", "").startswith("2.1")
    sections: list[str] = []
    for child in mdv:
        if not sections or sections[-1] != child.tag:
            sections.append(child.tag)
    assert sections == [
        f"{DEF}Standards",
        f"{ODM}ItemGroupDef",
        f"{ODM}ItemDef",
        f"{ODM}CodeList",
        f"{ODM}MethodDef",
    ], "define.xml 2.1 order, each kind once"
    item_defs = {e.get("OID"): e for e in mdv.iter(f"{ODM}ItemDef")}
    codelists = {e.get("OID"): e for e in mdv.iter(f"{ODM}CodeList")}
    methods = {e.get("OID") for e in mdv.iter(f"{ODM}MethodDef")}
    groups = {e.get("Name"): e for e in mdv.iter(f"{ODM}ItemGroupDef")}
    assert set(groups) == {n.upper() for n in DATASET_NAMES}
    for name, group in groups.items():
        refs = group.findall(f"{ODM}ItemRef")
        names = [item_defs[r.get("ItemOID")].get("Name") for r in refs]
        assert names == list(DATASETS[name].names), name
        leaf = group.find(f"{DEF}leaf")
        assert leaf is not None and (out / leaf.get(XLINK_HREF, "")).exists()
        assert group.find(f"{DEF}Class") is not None
        _frame, meta = pyreadstat.read_xport(str(out / f"{name.lower()}.xpt"))
        for ref in refs:
            item = item_defs[ref.get("ItemOID")]
            origin = item.find(f"{DEF}Origin")
            assert origin is not None
            if origin.get("Type") == "Derived":
                assert ref.get("MethodOID") in methods, item.get("Name")
            if item.get("DataType") == "text":
                assert int(item.get("Length", 0)) == meta.variable_storage_width[item.get("Name")], item.get(
                    "OID"
                )
            listed = item.find(f"{ODM}CodeListRef")
            if listed is not None:
                assert listed.get("CodeListOID") in codelists
    # The sponsor's own test codes are described, with their names.
    qstestcd = codelists["CL.QSTESTCD"]
    decodes = {
        i.get("CodedValue"): i.find(f"{ODM}Decode/{ODM}TranslatedText").text  # type: ignore[union-attr]
        for i in qstestcd.findall(f"{ODM}CodeListItem")
    }
    assert decodes["EPROPS"] == "Performance status (patient-reported)"
    used = {r["QSTESTCD"] for r in xpt(out, "qs")}
    assert used <= set(decodes)
    # Every coded value used in the clinical datasets and DS is in its code list; sponsor codes in a CDISC
    # list are marked as extensions.
    for name in ("lb", "vs", "cm", "fa", "ds", "supplb", "suppvs"):
        spec = DATASETS[name.upper()]
        for variable in spec.variables:
            if not variable.codelist or variable.codelist in ("COUNTRY",):
                continue
            items = {
                i.get("CodedValue"): i
                for i in codelists[f"CL.{variable.codelist}"]
                if i.tag in (f"{ODM}CodeListItem", f"{ODM}EnumeratedItem")
            }
            for row in xpt(out, name):
                value = row[variable.name]
                if value is not None:
                    coded = str(int(value)) if isinstance(value, float) else str(value)
                    assert coded in items, (name, variable.name, value)
    lbtestcd = {i.get("CodedValue"): i for i in codelists["CL.LBTESTCD"]}
    assert lbtestcd["ICGR15"].get(f"{DEF}ExtendedValue") == "Yes"
    assert lbtestcd["ALB"].get(f"{DEF}ExtendedValue") is None
    assert codelists["CL.NCOMPLT"].find(f"{ODM}Alias").get("Name") == "C66727"  # type: ignore[union-attr]
    for sponsor in ("CL.CMSPID", "CL.FASPID", "CL.FASTRESC", "CL.QSTESTCD"):
        description = codelists[sponsor].find(f"{ODM}Description/{ODM}TranslatedText")
        assert description is not None and description.text.startswith("Sponsor-defined"), sponsor  # type: ignore[union-attr]
        assert codelists[sponsor].find(f"{ODM}Alias") is None, sponsor


def test_define_xml_is_valid_against_the_define_2_1_schema(out):
    """CDISC's published XSD, as the odmlib package ships it (MIT); xmlschema reads it."""
    schema = xmlschema.XMLSchema(str(Path(odmlib.__file__).parent / "schemas/define/2.1/define2-1-0.xsd"))
    errors = [f"{e.path}: {e.reason}" for e in schema.iter_errors(str(out / "define.xml"))]
    assert errors == []


def test_korean_goes_only_where_a_person_reads_it(app, study, tmp_path):
    out = package(app, tmp_path, "--lang", "ko")
    define = (out / "define.xml").read_text(encoding="utf-8")
    assert 'xml:lang="ko">활동 수행 능력 (환자 보고)</' in define
    for name in DATASET_NAMES:
        assert (out / f"{name}.json").read_text(encoding="utf-8").isascii(), name


# --- CSV exports ---------------------------------------------------------------------------------------------------


def test_every_csv_export_loads_with_the_csv_module_as_utf_8(app, study, tmp_path):
    for name, export in FORMATS.items():
        path = tmp_path / f"{name}.csv"
        result = app.test_cli_runner().invoke(args=["export", "--format", name, "-o", str(path)])
        assert result.exit_code == 0, result.output
        with open(path, encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
        assert reader.fieldnames == [c.name for c in export.columns], name
        assert rows, name
        if name == "sdtm-qs":
            assert {r["STUDYID"] for r in rows} == {"EPRO"}
    excel = tmp_path / "excel.csv"
    app.test_cli_runner().invoke(args=["export", "--format", "sdtm-qs", "--excel", "-o", str(excel)])
    assert excel.read_bytes().startswith(b"\xef\xbb\xbf")


# --- the assessment date a nurse gives -------------------------------------------------------------------------------


def test_a_transcribed_assessment_date_outside_day_0_minus_60_to_today_is_refused(app, world, client):
    world.staff("nurse1", "nurse")
    patient = world.patient("EPR-301", day0_offset=-100)
    visit = world.visit(patient, "BL")
    day0 = world.today() - timedelta(days=100)
    sign_in(client, "nurse1")
    path = f"/staff/visits/{visit.id}/enter"
    csrf = csrf_of(client.get(path).text)

    def post(on: date):  # type: ignore[no-untyped-def]
        return client.post(
            path,
            data={
                "csrf_token": csrf,
                "language": "ko",
                "assessment_date": on.isoformat(),
                "item_PS1": "60",
                "item_WB1": "4",
                "item_QOL1": "4",
                "reason": "Paper form",
            },
        )

    for refused in (day0 - timedelta(days=61), world.today() + timedelta(days=1)):
        page = post(refused)
        assert page.status_code == 400
        assert (
            f"평가일은 {(day0 - timedelta(days=60)).isoformat()}(시술일 60일 전)부터 "
            f"{world.today().isoformat()}(오늘) 사이여야 합니다." in page.text
        )
    with world.session() as s:
        assert not s.exec(select(Response)).all(), "nothing saved"
    assert post(day0 - timedelta(days=60)).status_code == 302
    with world.session() as s:
        answers = s.exec(select(Response)).all()
        saved_visit = s.get(Visit, visit.id)
    assert {r.assessment_date for r in answers} == {day0 - timedelta(days=60)}
    assert saved_visit is not None and saved_visit.actual_date == day0 - timedelta(days=60)


#: The structural rules of Dataset-JSON 1.1 (CDISC's published schema, restated for the fields used here).
DATASET_JSON_1_1 = {
    "type": "object",
    "required": [
        "datasetJSONCreationDateTime",
        "datasetJSONVersion",
        "itemGroupOID",
        "records",
        "name",
        "label",
        "columns",
    ],
    "properties": {
        "datasetJSONVersion": {"type": "string", "pattern": r"^1\.1(\.(0|[1-9][0-9]*))?$"},
        "datasetJSONCreationDateTime": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"},
        "records": {"type": "integer", "minimum": 0},
        "sourceSystem": {
            "type": "object",
            "required": ["name", "version"],
            "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
            "additionalProperties": False,
        },
        "columns": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["itemOID", "name", "label", "dataType"],
                "additionalProperties": False,
                "properties": {
                    "itemOID": {"type": "string"},
                    "name": {"type": "string"},
                    "label": {"type": "string"},
                    "dataType": {
                        "enum": [
                            "string",
                            "integer",
                            "decimal",
                            "float",
                            "double",
                            "boolean",
                            "datetime",
                            "date",
                            "time",
                            "URI",
                        ]
                    },
                    "targetDataType": {"enum": ["integer", "decimal"]},
                    "length": {"type": "integer", "minimum": 1},
                    "displayFormat": {"type": "string"},
                    "keySequence": {"type": "integer", "minimum": 1},
                },
            },
        },
        "rows": {"type": "array", "items": {"type": "array"}},
    },
}
