"""The study overview's numbers against values computed by hand for the constructed study."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date

import pytest
from sqlmodel import select

from epro import db
from epro.baseline import Key, baseline_key
from epro.clock import clinic_today
from epro.models import utcnow
from epro.schedule import load_protocol
from epro.study.compute import build_overview, matrix_rows
from tests import study_world


@pytest.fixture
def overview(app, world):  # type: ignore[no-untyped-def]
    study_world.build(app, world.staff("nurse1"))
    with app.app_context():
        return build_overview(
            db.session(), load_protocol("default"), today=clinic_today(), now=utcnow(), study_name="T"
        )


def close(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, abs_tol=1e-9)


def test_per_visit_statistics_match_hand_computed_values(overview) -> None:  # type: ignore[no-untyped-def]
    ps = overview.measure("PS")
    bl = ps.at("BL").summary
    assert bl.n == 2 and close(bl.mean, 70) and close(bl.sd, math.sqrt(200))
    assert close(bl.median, 70) and close(bl.q1, 65) and close(bl.q3, 75)
    w1 = ps.at("W1")
    # 70, 60, 40: mean 56.67, SD sqrt(((13.33)^2 + 3.33^2 + 16.67^2) / 2) = 15.275
    assert w1.summary.n == 3 and close(w1.summary.mean, 170 / 3)
    assert close(
        w1.summary.sd, math.sqrt(((70 - 170 / 3) ** 2 + (60 - 170 / 3) ** 2 + (40 - 170 / 3) ** 2) / 2)
    )
    assert close(w1.summary.median, 60) and close(w1.summary.q1, 50) and close(w1.summary.q3, 65)
    # Paired with baseline: +10 (EPR-201) and -20 (EPR-202); EPR-203 has no baseline.
    assert w1.change.n == 2 and close(w1.change.mean, -5) and close(w1.change.sd, math.sqrt(450))
    w2 = ps.at("W2")
    assert w2.summary.n == 2 and close(w2.summary.sd, 0)
    assert w2.change.n == 1 and close(w2.change.mean, -10) and w2.change.sd is None
    m1 = ps.at("M1")  # the late visit counts in the statistics
    assert m1.summary.n == 1 and close(m1.summary.mean, 90) and m1.summary.sd is None
    assert m1.change.n == 1 and close(m1.change.mean, 10)
    assert ps.at("M2").summary.n == 0 and ps.at("M2").summary.mean is None
    wb = overview.measure("WB").at("W1")
    assert close(wb.summary.mean, 11 / 3) and wb.change.n == 2 and close(wb.change.mean, -0.5)
    assert ps.at("BL").change.n == 0


def test_completion_counts_and_rate_in_window(overview) -> None:  # type: ignore[no-untyped-def]
    by_visit = {v.visit_code: v for v in overview.completion.per_visit}
    assert (by_visit["BL"].completed, by_visit["BL"].overdue) == (2, 1)
    assert by_visit["W1"].completed == 3 and by_visit["W1"].staff_entered == 3
    assert (by_visit["W2"].completed, by_visit["W2"].overdue) == (2, 1)
    m1 = by_visit["M1"]
    assert (m1.completed, m1.late, m1.missed, m1.overdue) == (1, 1, 1, 1)
    assert by_visit["M2"].upcoming == 3 and by_visit["M6"].upcoming == 3
    # 12 visits with closed windows (BL, W1, W2, M1 x 3); 7 completed inside them (the late M1 is not).
    assert overview.completion.closed == 12 and overview.completion.completed_in_window == 7


def test_table1_age_and_sex(overview) -> None:  # type: ignore[no-untyped-def]
    table = overview.table1
    assert table.n == 3 and overview.patients == 3
    assert close(table.age.mean, 60) and close(table.age.sd, 10)
    assert (table.age.low, table.age.high) == (50, 70)
    sex = {c.code: (c.n, round(c.percent, 1)) for c in table.sex}
    assert sex == {"M": (1, 33.3), "F": (2, 66.7)}


def test_matrix_cells(app, overview) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = matrix_rows(db.session(), overview.visits, clinic_today())
    cells = {(r.study_id, c.visit_code): c for r in rows for c in r.cells}
    assert [r.study_id for r in rows] == ["EPR-201", "EPR-202", "EPR-203"]
    assert cells[("EPR-201", "M1")].status == "missed"
    assert cells[("EPR-201", "M1")].missed_reason == "Admitted elsewhere"
    assert cells[("EPR-202", "M1")].late and cells[("EPR-202", "M1")].status == "completed"
    assert cells[("EPR-203", "BL")].status == "overdue"
    assert cells[("EPR-202", "W1")].staff_entered


def test_chart_lines_one_per_patient_with_values(overview) -> None:  # type: ignore[no-untyped-def]
    lines = {line.study_id: line.points for line in overview.measure("PS").lines}
    assert lines["EPR-203"] == (("W1", 40.0), ("W2", 50.0))
    assert lines["EPR-202"] == (("BL", 80.0), ("W1", 60.0), ("M1", 90.0))


def test_clinical_index_statistics(overview) -> None:  # type: ignore[no-untyped-def]
    albumin = overview.measure("ALB")
    assert albumin.measure.source == "clinical" and albumin.measure.unit == "g/dL"
    bl, w1 = albumin.at("BL"), albumin.at("W1")
    assert bl.summary.n == 2 and close(bl.summary.mean, 3.4)
    assert w1.summary.n == 3 and close(w1.summary.mean, (3.6 + 2.9 + 3.2) / 3)
    # Changes -0.2 (EPR-201) and -0.1 (EPR-202); EPR-203 has no baseline albumin.
    assert w1.change.n == 2 and close(w1.change.mean, -0.15) and close(w1.change.sd, math.sqrt(0.005))
    assert overview.measure("PT").at("BL").summary.n == 1
    assert "ASCITES" not in {m.measure.code for m in overview.measures}  # categories are not averaged


def test_table1_aetiology_and_child_pugh(overview) -> None:  # type: ignore[no-untyped-def]
    ((name, aetiology),) = overview.table1.characteristics
    assert name.en == "Aetiology of cirrhosis"
    counts = {c.code: (c.n, round(c.percent, 1)) for c in aetiology}
    assert counts == {
        "HBV": (1, 33.3),
        "HCV": (0, 0.0),
        "ALCOHOL": (1, 33.3),
        "OTHER": (0, 0.0),
        "": (1, 33.3),
    }
    grades = {c.code: c.n for c in overview.table1.child_pugh}
    assert grades == {"A": 1, "B": 1, "C": 0, "": 1}


@pytest.fixture
def dated(app, world):  # type: ignore[no-untyped-def]
    ids = study_world.build_dated(app, world.staff("nurse1"))
    with app.app_context():
        overview = build_overview(
            db.session(), load_protocol("default"), today=clinic_today(), now=utcnow(), study_name="T"
        )
    return ids, overview


def test_baseline_is_the_last_value_on_or_before_day_0_whatever_the_visit(dated) -> None:  # type: ignore[no-untyped-def]
    _ids, overview = dated
    ps = overview.measure("PS")
    # Every value at its visit counts in n and the mean: BL 50 and 70, W1 40 and 50.
    assert ps.at("BL").summary.n == 2 and close(ps.at("BL").summary.mean, 60)
    assert ps.at("W1").summary.n == 2 and close(ps.at("W1").summary.mean, 45)
    # Only EPR-204 has a baseline (its BL, assessed 3 days before day 0, transcribed later): W1 40 - 50.
    # EPR-205's "BL" was done 2 days after day 0: not a baseline (by visit code it would pair 50 - 70).
    assert ps.at("W1").change.n == 1 and close(ps.at("W1").change.mean, -10)
    assert ps.at("BL").change.n == 0
    assert overview.measure("WB").at("W1").change.n == 1
    assert close(overview.measure("WB").at("W1").change.mean, -1)
    albumin = overview.measure("ALB").at("W1")  # by sample date the same way: 3.3 - 3.5
    assert albumin.change.n == 1 and close(albumin.change.mean, -0.2)
    grades = {c.code: c.n for c in overview.table1.child_pugh}
    assert grades == {"A": 0, "B": 1, "C": 0, "": 1}  # EPR-205's PT was measured after day 0


def test_the_sql_baseline_is_epro_baseline_definition(app, dated) -> None:  # type: ignore[no-untyped-def]
    """The "needs review" worklist's SQL baseline picks the same records as epro.baseline (used by the
    tallies, the PDF and SDTM)."""
    from sqlalchemy import literal
    from sqlmodel import col, select

    from epro.models import Patient, Response, Visit
    from epro.study.population import baseline_value_of
    from epro.study.sources import pro_source

    with app.app_context():
        s = db.session()
        rows = s.exec(
            select(Patient.study_id, Patient.procedure_date, Response, Visit.id)
            .join(Visit, col(Visit.patient_id) == Patient.id)
            .join(Response, col(Response.visit_id) == Visit.id)
            .order_by(Patient.study_id, Visit.number)
        ).all()
        day0 = {sid: d for sid, d, _r, _v in rows}
        expected = baseline_keys(
            day0,
            (
                (sid, key, (sid, key, r.value), r.assessment_date, True)
                for sid, _d, r, _vid in rows
                for key in [f"{r.instrument_code}.{r.item_code}"]
            ),
        )
        source, _infos = pro_source(load_protocol("default"))
        found = set()
        for key in source.measure_of:
            for sid, value in s.exec(
                select(Patient.study_id, baseline_value_of(source, Patient.id, literal(key)))
            ).all():
                if value is not None:
                    found.add((sid, key, int(value)))
    assert found == expected and len(found) == 3  # EPR-204's BL: PS, WB and QOL


def test_withdrawn_patients_stay_in_but_their_cancelled_visits_are_not_expected(app, world) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from epro.audit import Actor
    from epro.followup.changes import withdraw
    from epro.models import Patient

    nurse_id = world.staff("nurse1")
    ids = study_world.build(app, nurse_id)
    nurse = Actor("staff", nurse_id, "nurse1")
    with app.app_context(), db.unit_of_work() as s:
        today = clinic_today()
        patient = s.get(Patient, ids["EPR-203"])
        # Withdrawn 5 days ago: M1 (window closed 3 days ago, no data) and M2-M6 are cancelled; BL (overdue
        # long before) stays overdue; W1 and W2 keep their data.
        withdraw(s, nurse, patient, today - timedelta(days=5), "Moved abroad", today, None)
    with app.app_context():
        overview = build_overview(
            db.session(), load_protocol("default"), today=clinic_today(), now=utcnow(), study_name="T"
        )
        rows = matrix_rows(db.session(), overview.visits, clinic_today())
    assert overview.patients == 3 and overview.measure("PS").at("W1").summary.n == 3
    by_visit = {v.visit_code: v for v in overview.completion.per_visit}
    assert (by_visit["M1"].overdue, by_visit["M1"].cancelled, by_visit["M1"].total) == (0, 1, 2)
    assert (by_visit["M2"].upcoming, by_visit["M2"].cancelled) == (2, 1)
    assert (by_visit["BL"].overdue, by_visit["BL"].cancelled) == (1, 0)
    # 11 expected visits with closed windows (M1 of EPR-203 is cancelled); 7 completed inside them.
    assert overview.completion.closed == 11 and overview.completion.completed_in_window == 7
    row = next(r for r in rows if r.study_id == "EPR-203")
    assert row.withdrawal_reason == "Moved abroad" and row.withdrawn_on == today - timedelta(days=5)
    cells = {c.visit_code: c.status for c in row.cells}
    assert cells["M1"] == "cancelled" and cells["M6"] == "cancelled" and cells["BL"] == "overdue"
    assert cells["W1"] == "completed"


def baseline_keys(
    day0_by_subject: dict[str, date], assessments: Iterable[tuple[str, str, Key, date | None, bool]]
) -> set[Key]:
    """The baseline record of every (subject, measure) at once: assessments are (subject, measure, key,
    date, has a result); subjects without a day 0 have no baseline."""
    grouped: dict[tuple[str, str], list[tuple[Key, date | None, bool]]] = {}
    for subject, measure, key, assessed_on, has_result in assessments:
        grouped.setdefault((subject, measure), []).append((key, assessed_on, has_result))
    found = set()
    for (subject, _measure), items in grouped.items():
        day0 = day0_by_subject.get(subject)
        baseline = None if day0 is None else baseline_key(day0, items)
        if baseline is not None:
            found.add(baseline)
    return found


def test_init_db_brings_the_tallies_up_to_date(app, world) -> None:  # type: ignore[no-untyped-def]
    """After a migration of a study with data, `flask init-db` builds the overview's tallies, so the first
    page view does not (it would, over a large study, for minutes)."""
    from epro.models import StudyTallyState
    from epro.study.cache import latest_change

    study_world.build(app, world.staff("nurse1"))
    with world.session() as s:
        assert s.exec(select(StudyTallyState)).first() is None
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with world.session() as s:
        state = s.exec(select(StudyTallyState)).one()
        assert state.audit_id == latest_change(s) > 0
