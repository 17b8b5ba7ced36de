"""Clinical values in the exports: the long CSV has one row per measurement (unit, sample date, weight
included), the baseline export one row per characteristic, and the data dictionary explains every new code,
CDISC terminology apart from the sponsor's own."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask
from sqlmodel import select

from epro import db
from epro.audit import Actor
from epro.clinical import operations
from epro.clinical.characteristics import characteristics_for
from epro.clinical.measures import load_measure_set
from epro.models import ClinicalValue, Patient, Visit
from epro.schedule import load_protocol
from tests.conftest import World
from tests.report_helpers import answer
from tests.test_exports import export

LIVER = load_measure_set("liver-1.0")
PROTOCOL = load_protocol("default")


@pytest.fixture
def clinical_study(app: Flask, world: World) -> dict[str, object]:
    """EPR-101 (day 0 thirty days ago): baseline answered, with albumin (corrected 3.2 -> 3.4), weight and
    ascites sampled the day before the visit; week 1 with a weight confirmed outside the usual range.
    Baseline characteristics as the seed trial's patient 1."""
    nurse_id = world.staff("nurse1", "nurse")
    patient = world.patient("EPR-101", day0_offset=-30)
    answer(world, patient, "BL", {"PS": 70, "WB": 5, "QOL": 6})
    nurse = Actor("staff", nurse_id, "nurse1")
    today = world.today()
    with app.app_context(), db.unit_of_work() as s:
        visits = {v.code: v for v in s.exec(select(Visit).where(Visit.patient_id == patient.id))}
        bl, w1 = visits["BL"], visits["W1"]
        sample = bl.target_date - timedelta(days=1)
        for code, value in (("ALB", Decimal("3.2")), ("WEIGHT", Decimal("61.2")), ("ASCITES", "SLIGHT")):
            operations.enter_value(
                s, nurse, bl, LIVER, LIVER.get(code), value, sample, confirmed=False, today=today
            )
        albumin = s.exec(select(ClinicalValue).where(ClinicalValue.measure_code == "ALB")).one()
        operations.correct_value(
            s,
            nurse,
            albumin,
            LIVER.get("ALB"),
            Decimal("3.4"),
            sample,
            "Re-read",
            confirmed=False,
            today=today,
        )
        operations.enter_value(
            s,
            nurse,
            w1,
            LIVER,
            LIVER.get("WEIGHT"),
            Decimal("28.0"),
            w1.target_date,
            confirmed=True,
            today=today,
        )
        row = s.get(Patient, patient.id)
        characteristics = {c.code: c for c in characteristics_for(PROTOCOL)}
        for code, value in (
            ("AETIOL", "HBV"),
            ("BILI", Decimal("1.6")),
            ("ALB", Decimal("2.6")),
            ("PT", Decimal("58")),
            ("ASCITES", "MODSEV"),
            ("ENCEPH", "NONE"),
        ):
            operations.set_characteristic(s, nurse, row, characteristics[code], value, None, existing=None)
    return {"day0": today - timedelta(days=30)}


def test_long_export_has_a_row_per_clinical_value_with_unit_and_sample_date(app, clinical_study, tmp_path):
    rows = export(app, tmp_path, "long", "--lang", "ko")
    assert [(r["visit_code"], r["record_type"], r["item_code"]) for r in rows] == [
        ("BL", "answer", "PS1"),
        ("BL", "answer", "WB1"),
        ("BL", "answer", "QOL1"),
        ("BL", "clinical", "ALB"),
        ("BL", "clinical", "WEIGHT"),
        ("BL", "clinical", "ASCITES"),
        ("W1", "clinical", "WEIGHT"),
    ]
    by_key = {(r["visit_code"], r["item_code"]): r for r in rows}
    day0 = clinical_study["day0"]
    albumin = by_key[("BL", "ALB")]
    assert (albumin["instrument_code"], albumin["instrument_version"]) == ("liver", "1.0")
    assert (albumin["value"], albumin["unit"], albumin["value_label"]) == ("3.4", "g/dL", "")
    assert albumin["sample_date"] == (day0 - timedelta(days=1)).isoformat()
    assert albumin["sample_study_day"] == "-1"
    assert (albumin["corrected"], albumin["out_of_range"], albumin["entered_by"]) == ("Y", "", "staff")
    assert albumin["language_shown"] == "" and albumin["visit_label"] == "기저 방문 (시술 전)"
    assert albumin["submitted_at_utc"].endswith("Z")
    weight = by_key[("BL", "WEIGHT")]
    assert (weight["value"], weight["unit"], weight["corrected"]) == ("61.2", "kg", "")
    assert (by_key[("BL", "ASCITES")]["value"], by_key[("BL", "ASCITES")]["value_label"]) == (
        "SLIGHT",
        "경도",
    )
    late = by_key[("W1", "WEIGHT")]
    assert (late["value"], late["out_of_range"], late["sample_study_day"]) == ("28.0", "Y", "7")
    assert by_key[("BL", "PS1")]["unit"] == "" and by_key[("BL", "PS1")]["sample_date"] == ""
    assert (albumin["assessment_date"], albumin["assessment_study_day"]) == ("", ""), "see sample_date"
    assert by_key[("BL", "PS1")]["assessment_date"] == by_key[("BL", "PS1")]["actual_date"] != ""

    english = {(r["visit_code"], r["item_code"]): r for r in export(app, tmp_path, "long", "--lang", "en")}
    assert english[("BL", "ASCITES")]["value_label"] == "Slight"
    shared = {(r["visit_code"], r["item_code"]): r for r in export(app, tmp_path, "long", "--study-days")}
    assert shared[("BL", "ALB")]["sample_date"] == "" and shared[("BL", "ALB")]["sample_study_day"] == "-1"


def test_baseline_export_has_each_characteristic_and_the_derived_child_pugh(app, clinical_study, tmp_path):
    rows = export(app, tmp_path, "baseline", "--lang", "en")
    values = {r["characteristic"]: r for r in rows}
    assert [r["study_id"] for r in rows] == ["EPR-101"] * 7
    assert (values["AETIOL"]["value"], values["AETIOL"]["value_label"]) == ("HBV", "Hepatitis B virus")
    assert (values["ALB"]["value"], values["ALB"]["unit"], values["ALB"]["value_label"]) == (
        "2.6",
        "g/dL",
        "",
    )
    assert (values["ASCITES"]["value"], values["ASCITES"]["value_label"]) == ("MODSEV", "Moderate to severe")
    assert (values["CPSCORE"]["value"], values["CPSCORE"]["value_label"]) == ("10", "C")
    assert values["AETIOL"]["entered_at_utc"].endswith("Z") and values["AETIOL"]["changed"] == ""


def test_the_dictionary_explains_every_clinical_code_cdisc_or_sponsor(app, clinical_study, tmp_path):
    dictionary = export(app, tmp_path, "dictionary")
    described = {(r["export"], r["column"]) for r in dictionary if r["code"] == ""}
    for name in ("long", "baseline"):
        for column in export(app, tmp_path, name)[0]:
            assert (name, column) in described, f"{name}.{column}"
    codes: dict[tuple[str, str, str], dict[str, str]] = {
        (r["export"], r["column"], r["code"]): r for r in dictionary if r["code"]
    }
    for measure in LIVER.measures:
        row = codes[("long", "item_code", measure.code)]
        assert row["scope"] == "liver 1.0" and measure.name.ko in row["description_ko"]
        if measure.cdisc:
            assert (
                f"CDISC controlled terminology: {measure.domain}TESTCD {measure.code}"
                in row["description_en"]
            )
        else:
            assert "Sponsor-defined code" in row["description_en"]
        assert row["description_ko"] != row["description_en"]
        if measure.unit:
            assert codes[("long", "unit", measure.unit)]
    assert {"ALB", "BILI", "PT", "INR", "CHOL", "AFP", "CREAT"} == {
        m.code for m in LIVER.measures if m.cdisc and m.domain == "LB"
    }
    for used in export(app, tmp_path, "long"):
        for column in ("record_type", "instrument_code", "item_code", "unit", "out_of_range"):
            assert (
                not used[column]
                or (
                    "long",
                    column,
                    used[column],
                )
                in codes
            ), f"{column}={used[column]}"
        if used["record_type"] == "clinical" and used["item_code"] in ("ASCITES", "ENCEPH"):
            assert ("long", "value", used["value"]) in codes
    for used in export(app, tmp_path, "baseline"):
        assert ("baseline", "characteristic", used["characteristic"]) in codes
    assert codes[("baseline", "value", "ALCOHOL")]["description_en"] == "Alcohol"
