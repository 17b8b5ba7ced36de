"""The summary's data, built from constructed histories: every number an investigator will read."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from epro.reports.context import Direction, NoteKind, NotEnrolled, Report, build_report
from epro.schedule import VisitStatus, load_protocol
from tests.conftest import World
from tests.report_helpers import SEOUL, answer, day0_of, eventful_history


def report_of(world: World, patient_id: int, **kwargs) -> Report:  # type: ignore[no-untyped-def]
    with world.app.app_context(), world.session() as s:
        return build_report(
            s,
            patient_id,
            study_name="Cell therapy in cirrhosis",
            zone=SEOUL,
            now=datetime.now(UTC),
            generated_by="investigator1",
            **kwargs,
        )


def scores(report: Report, visit_code: str) -> dict[str, tuple]:  # type: ignore[type-arg]
    visit = next(v for v in report.visits if v.code == visit_code)
    return {m.code: (s.value, s.change, s.flag) for m, s in zip(report.measures, visit.scores, strict=True)}


def visit(report: Report, code: str):  # type: ignore[no-untyped-def]
    return next(v for v in report.visits if v.code == code)


def test_header_describes_patient_protocol_and_instruments(world: World) -> None:
    patient = eventful_history(world)
    report = report_of(world, patient.id)
    day0 = day0_of(world, patient)
    assert (report.study_name, report.study_id, report.sex) == ("Cell therapy in cirrhosis", "EPR-201", "F")
    assert report.age_at_enrolment == day0.year - 1965
    assert report.day0 == day0
    assert (report.protocol_code, report.protocol_version) == ("default", "1.0")
    assert {(i.code, i.version) for i in report.instruments} == {("PS", "1.1"), ("WB", "1.0"), ("QOL", "1.0")}
    assert [m.code for m in report.measures] == ["PS", "WB", "QOL"]
    assert {m.code: m.threshold for m in report.measures} == {"PS": 10, "WB": 1, "QOL": 1}
    assert report.measures[0].name.ko == "활동 수행 능력 (환자 보고)"
    assert report.generated_by == "investigator1"
    assert report.generated_at.utcoffset() == SEOUL.utcoffset(report.generated_at.replace(tzinfo=None))


def test_statuses_dates_weight_and_days_outside_window(world: World) -> None:
    report = report_of(world, eventful_history(world).id)
    assert [(v.code, v.status) for v in report.visits] == [
        ("BL", VisitStatus.COMPLETED),
        ("W1", VisitStatus.COMPLETED),
        ("W2", VisitStatus.MISSED),
        ("M1", VisitStatus.OVERDUE),
        ("M2", VisitStatus.COMPLETED),
        ("M3", VisitStatus.COMPLETED),
        ("M4", VisitStatus.UPCOMING),
        ("M5", VisitStatus.UPCOMING),
        ("M6", VisitStatus.UPCOMING),
    ]
    assert visit(report, "W2").missed_reason == "Admitted to another hospital"
    assert visit(report, "BL").weight_kg == Decimal("61.0")
    assert visit(report, "M2").weight_kg == Decimal("59.4")
    assert visit(report, "W1").weight_kg is None
    # M2: target day 60, window ±7, done on day 69 -> 2 days after the window closed.
    assert (visit(report, "M2").actual_day, visit(report, "M2").days_outside_window) == (69, 2)
    assert (visit(report, "M3").actual_day, visit(report, "M3").days_outside_window) == (85, 0)
    assert visit(report, "BL").days_outside_window == 0
    assert visit(report, "W2").days_outside_window is None and visit(report, "W2").actual_date is None
    assert visit(report, "M2").chart_day == 69 and visit(report, "W2").chart_day == 14


def test_missed_and_overdue_visits_have_no_values_never_zero(world: World) -> None:
    report = report_of(world, eventful_history(world).id)
    for code in ("W2", "M1", "M4"):
        assert scores(report, code) == {
            "PS": (None, None, None),
            "WB": (None, None, None),
            "QOL": (None, None, None),
        }
        assert not visit(report, code).has_data
    # An item left unanswered at a completed visit is missing too, and has no change.
    assert scores(report, "M3")["WB"] == (None, None, None)


def test_change_from_baseline_and_threshold_flags_in_both_directions(world: World) -> None:
    report = report_of(world, eventful_history(world).id)
    assert scores(report, "BL") == {"PS": (60, None, None), "WB": (4, None, None), "QOL": (4, None, None)}
    assert visit(report, "BL").is_baseline and report.baseline.code == "BL"  # type: ignore[union-attr]
    assert scores(report, "W1") == {
        "PS": (70, 10, Direction.UP),
        "WB": (3, -1, Direction.DOWN),
        "QOL": (4, 0, None),
    }
    assert scores(report, "M2") == {
        "PS": (50, -10, Direction.DOWN),
        "WB": (5, 1, Direction.UP),
        "QOL": (3, -1, Direction.DOWN),
    }
    assert scores(report, "M3")["PS"] == (60, 0, None)


def test_a_change_below_the_threshold_is_not_flagged(world: World) -> None:
    patient = world.patient("EPR-202", day0_offset=-40)
    answer(world, patient, "BL", {"PS": 60, "WB": 4, "QOL": 4})
    answer(world, patient, "W1", {"PS": 60, "WB": 4, "QOL": 5})
    answer(world, patient, "M1", {"PS": 50, "WB": 2, "QOL": 4})
    report = report_of(world, patient.id)
    assert scores(report, "W1") == {"PS": (60, 0, None), "WB": (4, 0, None), "QOL": (5, 1, Direction.UP)}
    assert scores(report, "M1") == {
        "PS": (50, -10, Direction.DOWN),
        "WB": (2, -2, Direction.DOWN),
        "QOL": (4, 0, None),
    }


def test_thresholds_come_from_the_protocol(world: World) -> None:
    patient = eventful_history(world)
    stricter = dataclasses.replace(load_protocol("default"), thresholds={"PS": 20, "WB": 2, "QOL": 1})
    report = report_of(world, patient.id, protocol=stricter)
    assert {m.code: m.threshold for m in report.measures} == {"PS": 20, "WB": 2, "QOL": 1}
    assert scores(report, "W1") == {"PS": (70, 10, None), "WB": (3, -1, None), "QOL": (4, 0, None)}
    assert scores(report, "M2")["QOL"] == (3, -1, Direction.DOWN)


def test_without_a_baseline_value_there_is_no_change(world: World) -> None:
    patient = world.patient("EPR-203", day0_offset=-20)
    answer(world, patient, "W1", {"PS": 70, "WB": 5, "QOL": 5})
    report = report_of(world, patient.id)
    assert scores(report, "BL") == {
        "PS": (None, None, None),
        "WB": (None, None, None),
        "QOL": (None, None, None),
    }
    assert scores(report, "W1") == {"PS": (70, None, None), "WB": (5, None, None), "QOL": (5, None, None)}


def test_staff_entry_and_correction_are_footnoted(world: World) -> None:
    report = report_of(world, eventful_history(world).id)
    staff, correction = report.footnotes
    assert staff.kind == NoteKind.STAFF_ENTRY and staff.number == 1
    assert (staff.visit_code, staff.measure_codes) == ("W1", ("PS", "WB", "QOL"))
    assert staff.reason == "Tremor: could not use the tablet"
    assert staff.at.tzinfo is not None and staff.at.utcoffset() == correction.at.utcoffset()
    assert [s.notes for s in visit(report, "W1").scores] == [(1,), (1,), (1,)]
    assert correction.kind == NoteKind.CORRECTION and correction.number == 2
    assert (correction.visit_code, correction.measure_codes) == ("M2", ("PS",))
    assert (correction.original_value, correction.current_value) == (40, 50)
    assert correction.reason == "Nurse tapped the wrong level"
    assert [s.notes for s in visit(report, "M2").scores] == [(2,), (), ()]
    assert all(s.notes == () for v in report.visits if v.code not in ("W1", "M2") for s in v.scores)


def test_a_second_correction_keeps_the_first_original(world: World) -> None:
    from tests.report_helpers import correct

    patient = eventful_history(world)
    correct(world, patient, "M2", "PS", 60, "Checked the paper source again")
    (correction,) = [n for n in report_of(world, patient.id).footnotes if n.kind == NoteKind.CORRECTION]
    assert (correction.original_value, correction.current_value) == (40, 60)
    assert correction.reason == "Checked the paper source again"


def test_a_registered_patient_who_is_not_enrolled_has_no_summary(world: World) -> None:
    from epro import db
    from epro.audit import SYSTEM
    from epro.registry import register_patient

    with world.app.app_context(), db.unit_of_work() as s:
        patient = register_patient(
            s, SYSTEM, study_id="EPR-299", birth_year=1950, sex="M", preferred_language="en"
        )
    with pytest.raises(NotEnrolled):
        report_of(world, patient.id)  # type: ignore[arg-type]
    with pytest.raises(NotEnrolled):
        report_of(world, 9999)
