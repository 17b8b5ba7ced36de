"""The clinical core: the measure set as data, Child-Pugh against the standard table, the query helpers, and
migration 0005 moving each body weight into a WEIGHT value with its history."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, select

from epro import demo, migrate
from epro.audit import Actor, record
from epro.audit.verify import verify_chain
from epro.catalog import sync_measure_sets
from epro.clinical.characteristics import baseline_child_pugh, characteristics_for
from epro.clinical.child_pugh import child_pugh
from epro.clinical.measures import (
    DEFINITIONS,
    MeasureSetError,
    load_measure_set,
    measure_set_for,
    parse_measure_set,
)
from epro.clinical.queries import patient_characteristics, study_values, values_by_visit
from epro.clock import clinic_today, clinic_zone
from epro.db import make_engine
from epro.enrolment import enrol
from epro.models import AuditEvent, ClinicalValue, MeasureSetFile, Patient, Visit
from epro.schedule import load_protocol

PROTOCOL = load_protocol("default")
CDISC = {"ALB", "BILI", "PT", "INR", "CHOL", "AFP", "CREAT", "WEIGHT"}
SPONSOR = {"ICGR15", "SPIRDOSE", "FURODOSE", "ASCITES", "ENCEPH"}


# --- the measure set -------------------------------------------------------------------------------------


def test_the_shipped_measure_set_names_every_measure_with_its_codes_units_and_ranges():
    liver = load_measure_set("liver-1.0")
    assert (liver.code, liver.version, liver.key) == ("liver", "1.0", "liver-1.0")
    assert {m.code for m in liver.measures} == CDISC | SPONSOR
    assert {m.code for m in liver.measures if m.cdisc} == CDISC
    assert {m.domain for m in liver.measures if m.code in SPONSOR} == {"SPONSOR"}
    assert liver.get("WEIGHT").domain == "VS" and liver.get("ALB").domain == "LB"
    units = {m.code: m.unit for m in liver.measures}
    assert (
        units["ALB"] == "g/dL" and units["BILI"] == "mg/dL" and units["PT"] == "%" and units["WEIGHT"] == "kg"
    )
    assert units["SPIRDOSE"] == units["FURODOSE"] == "mg/day"
    assert [o.code for o in liver.get("ASCITES").options] == ["NONE", "SLIGHT", "MODSEV"]
    assert [o.code for o in liver.get("ENCEPH").options] == ["NONE", "G1_2", "G3_4"]
    for measure in liver.measures:
        assert measure.test.isascii() and len(measure.test) <= 40
        assert measure.label("ko") and measure.label("en") and measure.label("ko") != measure.code
        if measure.is_number:
            assert measure.hard[0] <= measure.plausible[0] <= measure.plausible[1] <= measure.hard[1]
    assert liver.get("WEIGHT").hard == (Decimal(20), Decimal(300))  # the old visit.weight_kg rule
    assert "M1" in liver.get("ICGR15").visits and "W1" not in liver.get("ICGR15").visits  # ICG monthly
    assert len(liver.checksum) == 64
    assert measure_set_for(PROTOCOL) is liver


def test_values_are_shown_with_the_measure_decimals_or_the_option_label():
    liver = load_measure_set("liver-1.0")
    assert liver.get("ALB").format(Decimal("3.5000")) == "3.5"
    assert liver.get("INR").format(Decimal("1.2")) == "1.20"
    assert liver.get("PT").format(Decimal("70.0000")) == "70"
    assert liver.get("ASCITES").format("MODSEV", "en") == "Moderate to severe"
    assert liver.get("ASCITES").format("NONE", "ko") == "없음"
    assert liver.get("ALB").format(None) == ""


def test_a_new_measure_needs_a_data_file_and_a_broken_one_is_refused(tmp_path: Path):
    raw = json.loads((DEFINITIONS / "liver-1.0.json").read_bytes())
    raw["version"] = "1.1"
    raw["measures"].append({**raw["measures"][0], "code": "GGT", "test": "Gamma Glutamyl Transferase"})
    extended = parse_measure_set(json.dumps(raw).encode(), "liver-1.1.json")
    assert extended.get("GGT").unit == "g/dL" and extended.key == "liver-1.1"
    broken = {**raw, "measures": [{**raw["measures"][0], "plausible": [0, 100], "hard": [1, 2]}]}
    with pytest.raises(MeasureSetError, match="plausible"):
        parse_measure_set(json.dumps(broken).encode(), "broken.json")
    too_long = {**raw, "measures": [{**raw["measures"][0], "test": "x" * 41}]}
    with pytest.raises(MeasureSetError, match="40"):
        parse_measure_set(json.dumps(too_long).encode(), "broken.json")


def test_a_measure_set_changed_under_a_used_version_is_refused(app):
    from epro import db

    with app.app_context(), db.unit_of_work() as s:
        row = s.get(MeasureSetFile, "liver-1.0")
        assert row is not None and row.checksum == load_measure_set("liver-1.0").checksum
        row.checksum = "0" * 64
        s.add(row)
        s.flush()
        with pytest.raises(ValueError, match="changed after use"):
            sync_measure_sets(s)
        s.rollback()


# --- Child-Pugh -------------------------------------------------------------------------------------------


def _values(**overrides: str) -> dict[str, Decimal | str | None]:
    """All inputs at 1 point (bilirubin 1.0, albumin 4.0, PT 90 %, no ascites, no encephalopathy)."""
    values: dict[str, Decimal | str | None] = {
        "BILI": Decimal("1.0"),
        "ALB": Decimal("4.0"),
        "PT": Decimal("90"),
        "ASCITES": "NONE",
        "ENCEPH": "NONE",
    }
    for code, value in overrides.items():
        values[code] = value if code in ("ASCITES", "ENCEPH") or value is None else Decimal(value)
    return values


@pytest.mark.parametrize(
    ("code", "value", "points"),
    [
        # Bilirubin (mg/dL): < 2 / 2-3 / > 3
        ("BILI", "1.9", 1), ("BILI", "2.0", 2), ("BILI", "3.0", 2), ("BILI", "3.1", 3),
        # Albumin (g/dL): > 3.5 / 2.8-3.5 / < 2.8
        ("ALB", "3.6", 1), ("ALB", "3.5", 2), ("ALB", "2.8", 2), ("ALB", "2.7", 3),
        # Prothrombin time activity (%): > 70 / 40-70 / < 40
        ("PT", "71", 1), ("PT", "70", 2), ("PT", "40", 2), ("PT", "39", 3),
        # INR: < 1.7 / 1.7-2.3 / > 2.3
        ("INR", "1.69", 1), ("INR", "1.70", 2), ("INR", "2.30", 2), ("INR", "2.31", 3),
        ("ASCITES", "NONE", 1), ("ASCITES", "SLIGHT", 2), ("ASCITES", "MODSEV", 3),
        ("ENCEPH", "NONE", 1), ("ENCEPH", "G1_2", 2), ("ENCEPH", "G3_4", 3),
    ],
)  # fmt: skip
def test_each_input_scores_by_the_standard_table_at_its_boundaries(code: str, value: str, points: int):
    values = _values(**{code: value})
    if code == "INR":
        values.pop("PT")
    result = child_pugh(values)
    assert result is not None
    assert result.points[code] == points
    assert result.score == 4 + points


@pytest.mark.parametrize(
    ("overrides", "score", "grade"),
    [
        ({}, 5, "A"),
        ({"ENCEPH": "G1_2"}, 6, "A"),
        ({"ENCEPH": "G1_2", "ASCITES": "SLIGHT"}, 7, "B"),
        ({"BILI": "2.5", "ALB": "3.0", "PT": "50", "ASCITES": "SLIGHT"}, 9, "B"),
        ({"BILI": "3.5", "ALB": "3.0", "PT": "50", "ASCITES": "SLIGHT"}, 10, "C"),
        ({"BILI": "3.5", "ALB": "2.5", "PT": "30", "ASCITES": "MODSEV", "ENCEPH": "G3_4"}, 15, "C"),
    ],
)
def test_classes_are_a_5_6_b_7_9_c_10_15(overrides: dict[str, str], score: int, grade: str):
    result = child_pugh(_values(**overrides))
    assert result is not None and (result.score, result.grade) == (score, grade)


def test_inr_is_used_when_present_else_pt_activity_and_a_missing_input_gives_none():
    both = _values(INR="2.5")  # INR 3 points, PT 90 % 1 point
    assert child_pugh(both).coagulation == "INR" and child_pugh(both).points["INR"] == 3  # type: ignore[union-attr]
    assert child_pugh(both, ("PT", "INR")).coagulation == "PT"  # type: ignore[union-attr]
    assert child_pugh(_values()).coagulation == "PT"  # type: ignore[union-attr]
    for code in ("BILI", "ALB", "ASCITES", "ENCEPH"):
        assert child_pugh(_values(**{code: None})) is None
    assert child_pugh(_values(PT=None)) is None
    assert child_pugh(_values(ASCITES="LARGE")) is None


def test_the_seed_trial_table_with_the_pt_activity_criterion():
    """Table 1 of the trial; computed with PT activity not every patient is B or C (patient 5 is A)."""
    table = [
        ("MODSEV", "2.6", "1.6", "58", 10, "C"),
        ("SLIGHT", "2.8", "0.6", "75", 7, "B"),
        ("MODSEV", "3.4", "0.5", "70", 9, "B"),
        ("SLIGHT", "3.5", "1.4", "73", 7, "B"),
        ("NONE", "3.2", "1.0", "76", 6, "A"),
    ]
    assert PROTOCOL.child_pugh_coagulation[0] == "PT"
    for ascites, albumin, bilirubin, pt, score, grade in table:
        values = {"ASCITES": ascites, "ENCEPH": "NONE", "ALB": albumin, "BILI": bilirubin, "PT": pt}
        result = baseline_child_pugh(values, PROTOCOL)
        assert result is not None and (result.score, result.grade) == (score, grade), values


# --- protocol, demo and queries ---------------------------------------------------------------------------


def test_the_protocol_names_its_measure_set_and_baseline_characteristics():
    assert PROTOCOL.measure_set == "liver-1.0"
    characteristics = {c.code: c for c in characteristics_for(PROTOCOL)}
    assert [o.code for o in characteristics["AETIOL"].options] == ["HBV", "HCV", "ALCOHOL", "OTHER"]
    assert {"BILI", "ALB", "PT", "INR", "ASCITES", "ENCEPH"} <= set(characteristics)
    assert characteristics["ALB"].unit == "g/dL" and characteristics["ALB"].format("2.8") == "2.8"


def test_the_demo_study_has_every_measure_at_completed_visits_and_baseline_characteristics(app):
    from epro import db

    with app.app_context(), db.unit_of_work() as s:
        demo.seed(s, PROTOCOL, clinic_today(), clinic_zone())
        s.commit()
        liver = load_measure_set("liver-1.0")
        values = list(study_values(s))
        assert values and [v.study_id for v in values] == sorted(v.study_id for v in values)
        first = s.exec(select(Patient).where(Patient.study_id == "EPR-001")).one()
        by_visit = values_by_visit(s, first.id)  # type: ignore[arg-type]
        visits = {v.id: v for v in s.exec(select(Visit).where(Visit.patient_id == first.id))}
        completed = {visits[i].code for i in by_visit}
        assert completed == {"BL", "W1", "W2", "M1", "M3"}  # M2 missed, M4 due today
        for visit_id, measured in by_visit.items():
            assert set(measured) == {m.code for m in liver.for_visit(visits[visit_id].code)}
            for code, row in measured.items():
                measure = liver.get(code)
                if measure.is_number:
                    assert measure.plausible[0] <= row.value_number <= measure.plausible[1], code
                assert row.sample_date == visits[visit_id].target_date and not row.out_of_range
        weights = {visits[i].code: by_visit[i]["WEIGHT"].value_number for i in by_visit}
        assert weights["BL"] == Decimal("61.2") and weights["M3"] == Decimal("63.0")
        patients = s.exec(select(Patient)).all()
        characteristics = {
            p.id: {code: row.value for code, row in patient_characteristics(s, p.id).items()}  # type: ignore[arg-type]
            for p in patients
        }
        assert characteristics[first.id]["AETIOL"] == "HBV"
        assert characteristics[first.id]["ALB"] == "2.6"
        grades = sorted(
            baseline_child_pugh(c, PROTOCOL).grade  # type: ignore[union-attr]
            for c in characteristics.values()
            if c
        )
        assert grades == ["A", "B", "B", "B", "C"]


# --- migration 0005 ---------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_before_clinical(request, tmp_path: Path):  # type: ignore[no-untyped-def]
    url = (
        f"sqlite:///{tmp_path / 'm.sqlite3'}"
        if request.param == "sqlite"
        else request.getfixturevalue("empty_postgres_url")
    )
    engine = make_engine(url)
    migrate.upgrade(engine, "0004")
    yield engine
    engine.dispose()


def test_migration_moves_each_weight_with_its_history(engine_before_clinical: sa.Engine):
    engine = engine_before_clinical
    with Session(engine, expire_on_commit=False) as s:
        # Raw SQL: the staff_user model is newer than revision 0003 (later migrations add columns to it).
        nurse_id = s.execute(
            sa.text(
                "INSERT INTO staff_user (username, password_hash, role, preferred_language, is_active, created_at)"
                " VALUES ('nurse1', 'x', 'nurse', 'ko', TRUE, :at) RETURNING id"
            ),
            {"at": datetime(2026, 1, 1)},
        ).scalar_one()
        # The patient row too (later migrations add columns to it); enrol then works on it as usual.
        created = datetime(2026, 1, 1, tzinfo=UTC)
        patient_id = s.execute(
            sa.text(
                "INSERT INTO patient (study_id, birth_year, sex, preferred_language, created_at)"
                " VALUES ('EPR-301', 1960, 'M', 'ko', :at) RETURNING id"
            ),
            {"at": created.replace(tzinfo=None)},
        ).scalar_one()
        patient = Patient(
            id=patient_id,
            study_id="EPR-301",
            birth_year=1960,
            sex="M",
            preferred_language="ko",
            created_at=created,
        )
        make_transient_to_detached(patient)
        s.add(patient)
        visits = {v.code: v for v in enrol(s, patient, PROTOCOL, date(2026, 1, 5), Actor("system"))}
        s.commit()
        bl, w1, w2 = visits["BL"], visits["W1"], visits["W2"]
        staff = Actor("staff", nurse_id, "nurse1")
        # BL: recorded, then changed with a reason (as the old weight form did); W1: set with no audit event.
        s.execute(
            sa.text("UPDATE visit SET weight_kg = 62.4, actual_date = :d WHERE id = :v"),
            {"d": date(2026, 1, 4), "v": bl.id},
        )
        record(s, staff, "visit.weight", "visit", bl.id, field="weight_kg", old=None, new="61.0")
        record(
            s,
            staff,
            "visit.weight",
            "visit",
            bl.id,
            field="weight_kg",
            old="61.0",
            new="62.4",
            reason="Scale recalibrated",
        )
        s.execute(sa.text("UPDATE visit SET weight_kg = 25.5 WHERE id = :v"), {"v": w1.id})
        s.commit()
        before = s.exec(select(sa.func.count()).select_from(AuditEvent)).one()

    migrate.upgrade(engine)

    assert "weight_kg" not in {c["name"] for c in sa.inspect(engine).get_columns("visit")}
    with Session(engine) as s:
        rows = {r.visit_id: r for r in s.exec(select(ClinicalValue).order_by(ClinicalValue.id))}
        assert set(rows) == {bl.id, w1.id} and w2.id not in rows
        moved = rows[bl.id]
        assert (moved.measure_code, moved.measure_set, moved.unit) == ("WEIGHT", "liver-1.0", "kg")
        assert moved.value_number == Decimal("62.4") and moved.value_code is None
        assert moved.sample_date == date(2026, 1, 4)  # the actual date
        assert moved.entered_by_id == nurse_id and not moved.out_of_range
        assert moved.correction_reason == "Scale recalibrated" and moved.corrected_at is not None
        unrecorded = rows[w1.id]
        assert unrecorded.sample_date == w1.target_date and unrecorded.entered_by_id is None
        assert unrecorded.out_of_range  # 25.5 kg is outside 30-150: flagged for a look
        assert unrecorded.corrected_at is None
        events = s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert len(events) == before + 2
        assert [e.action for e in events].count("visit.weight") == 2  # the history stays
        moves = [e for e in events if e.action == "clinical.migrate"]
        assert {(e.entity, e.entity_id, e.field, e.new_value) for e in moves} == {
            ("clinical_value", str(moved.id), "WEIGHT", "62.4"),
            ("clinical_value", str(unrecorded.id), "WEIGHT", "25.5"),
        }
        assert verify_chain(s).intact
