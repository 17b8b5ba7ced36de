"""Building the StudyOverview: the statistics, completion counts and Table 1 from the kept tallies
(epro.study.tallies), the charts' lines and the completion matrix from the patients they show."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Float, Row, func, type_coerce
from sqlalchemy import select as sql_select
from sqlalchemy.sql.expression import Executable
from sqlmodel import Session, col, select

from epro.codes import SessionState
from epro.models import Patient, QuestionnaireSession, Visit
from epro.schedule import Protocol, VisitStatus, visit_status
from epro.study.overview import (
    Cell,
    Completion,
    Count,
    MatrixRow,
    MeasureInfo,
    MeasureStats,
    PatientLine,
    StudyOverview,
    Table1,
    VisitCompletion,
    VisitInfo,
    VisitStats,
)
from epro.study.population import analysed_patients, live_session
from epro.study.sources import Source, sources
from epro.study.tallies import Tallies, current
from epro.text import Text

#: The all-patients charts draw at most this many patients' lines (an even sample by study ID beyond it).
MAX_LINES = 60

SEX_LABELS = {"M": Text(ko="남성", en="Male"), "F": Text(ko="여성", en="Female")}


def build_overview(
    db: Session,
    protocol: Protocol,
    *,
    today: date,
    now: datetime,
    study_name: str,
    max_lines: int = MAX_LINES,
) -> StudyOverview:
    # Visits planned on or before day 0 are where baselines come from: no change from baseline shown there.
    visits = tuple(VisitInfo(v.code, v.number, v.label, v.day, v.day <= 0) for v in protocol.visits)
    tallies = current(db, protocol, today)
    patients = sum(n for (kind, _measure, _category), n in tallies.counts.items() if kind == "sex")
    sample = _even_sample(db, patients, max_lines)
    measures: list[MeasureStats] = []
    for source, infos in sources(protocol):
        measures.extend(_measure_stats(db, tallies, source, infos, visits, sample))
    return StudyOverview(
        study_name=study_name,
        protocol_name=protocol.name,
        today=today,
        generated_at=now,
        visits=visits,
        completion=completion(tallies, visits),
        measures=tuple(measures),
        table1=table1(tallies, protocol, patients),
        patients=patients,
        lines_drawn=len(sample),
    )


def _rows(db: Session, query: Executable) -> Sequence[Row[*tuple[Any, ...]]]:
    """Plain rows through the session's Core connection: no ORM result processing."""
    return db.connection().execute(query).all()


def _even_sample(db: Session, patients: int, most: int) -> list[tuple[int, str]]:
    """Every analysed patient (id, study ID) by study ID, or an even sample of ``most`` of them."""
    numbered = (
        select(
            col(Patient.id).label("id"),
            col(Patient.study_id).label("study_id"),
            (func.row_number().over(order_by=col(Patient.study_id)) - 1).label("place"),
        )
        .where(analysed_patients())
        .subquery()
    )
    query = select(numbered.c.id, numbered.c.study_id).order_by(numbered.c.place)
    if patients > most:
        step = patients / most
        query = query.where(numbered.c.place.in_([int(i * step) for i in range(most)]))
    return [(pid, sid) for pid, sid in _rows(db, query)]


def _measure_stats(
    db: Session,
    tallies: Tallies,
    source: Source,
    infos: list[MeasureInfo],
    visits: tuple[VisitInfo, ...],
    sample: list[tuple[int, str]],
) -> list[MeasureStats]:
    row = source.alias()
    key, value = source.key(row), type_coerce(source.value(row), Float)
    lines: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    if sample:
        study_ids = dict(sample)
        drawn = (
            select(col(Visit.patient_id), col(Visit.code), key, value)
            .select_from(row)
            .join(Visit, col(Visit.id) == source.visit_id(row))
            .where(col(Visit.patient_id).in_(list(study_ids)), source.where(row))
            .order_by(col(Visit.patient_id), col(Visit.number))
        )
        for patient_id, visit_code, measure_key, number in _rows(db, drawn):
            lines[(study_ids[patient_id], measure_key)].append((visit_code, float(number)))

    keys = {code: key for key, code in source.measure_of.items()}
    result = []
    for info in infos:
        measure_key = keys[info.code]
        result.append(
            MeasureStats(
                measure=info,
                visits=tuple(
                    VisitStats(
                        visit.code,
                        tallies.summary("value", visit.code, measure_key),
                        tallies.change(visit.code, measure_key),
                    )
                    for visit in visits
                ),
                lines=tuple(
                    PatientLine(study_id, tuple(lines[(study_id, measure_key)]))
                    for _pid, study_id in sample
                    if lines.get((study_id, measure_key))
                ),
            )
        )
    return result


def completion(tallies: Tallies, visits: tuple[VisitInfo, ...]) -> Completion:
    """Counts per visit and status, and completion in window over the expected visits whose window has
    closed (visits cancelled by a withdrawal are counted apart, never as overdue or in the rate)."""
    counts: dict[str, dict[str, int]] = {v.code: defaultdict(int) for v in visits}
    closed_total = completed_in_window = 0
    for code, state, staff, is_late, is_closed, count in tallies.completion:
        if code not in counts:
            continue
        tally = counts[code]
        tally[state] += count
        if state == VisitStatus.COMPLETED.value:
            tally["staff_entered"] += count if staff else 0
            tally["late"] += count if is_late else 0
        if is_closed and state != VisitStatus.CANCELLED.value:
            closed_total += count
            if state == VisitStatus.COMPLETED.value and not is_late:
                completed_in_window += count
    per_visit = tuple(
        VisitCompletion(
            visit_code=v.code,
            completed=counts[v.code][VisitStatus.COMPLETED.value],
            staff_entered=counts[v.code]["staff_entered"],
            late=counts[v.code]["late"],
            missed=counts[v.code][VisitStatus.MISSED.value],
            overdue=counts[v.code][VisitStatus.OVERDUE.value],
            due=counts[v.code][VisitStatus.DUE.value],
            upcoming=counts[v.code][VisitStatus.UPCOMING.value],
            cancelled=counts[v.code][VisitStatus.CANCELLED.value],
        )
        for v in visits
    )
    return Completion(per_visit, closed_total, completed_in_window)


def matrix_rows(
    db: Session, visits: tuple[VisitInfo, ...], today: date, *, offset: int = 0, limit: int = 50
) -> list[MatrixRow]:
    """One page of the completion matrix: patients by study ID, a cell per protocol visit; a withdrawn
    patient's row says so, and the visits cancelled by the withdrawal show as cancelled."""
    patients = db.exec(
        select(
            col(Patient.id), col(Patient.study_id), col(Patient.withdrawn_on), col(Patient.withdrawal_reason)
        )
        .where(analysed_patients())
        .order_by(col(Patient.study_id))
        .offset(offset)
        .limit(limit)
    ).all()
    if not patients:
        return []
    rows = db.execute(
        sql_select(
            col(Visit.patient_id),
            col(Visit.code),
            col(Visit.window_start),
            col(Visit.window_end),
            col(Visit.actual_date),
            col(Visit.missed_reason),
            col(QuestionnaireSession.state),
            col(QuestionnaireSession.entered_by),
        )
        .join(QuestionnaireSession, live_session(), isouter=True)
        .where(col(Visit.patient_id).in_([patient_id for patient_id, *_ in patients]))
    ).all()
    withdrawn = {patient_id: withdrawn_on for patient_id, _study_id, withdrawn_on, _reason in patients}
    cells: dict[int, dict[str, Cell]] = defaultdict(dict)
    for patient_id, code, window_start, window_end, actual_date, missed_reason, state, entered_by in rows:
        completed = state == SessionState.SUBMITTED
        status = visit_status(
            today=today,
            window_start=window_start,
            window_end=window_end,
            completed=completed,
            missed=missed_reason is not None,
            withdrawn_on=withdrawn[patient_id],
        )
        late = completed and actual_date is not None and not (window_start <= actual_date <= window_end)
        cells[patient_id][code] = Cell(
            code,
            status,
            staff_entered=completed and entered_by == "staff",
            late=late,
            missed_reason=missed_reason if status is VisitStatus.MISSED else None,
        )
    matrix = []
    for patient_id, study_id, withdrawn_on, withdrawal_reason in patients:
        assert patient_id is not None
        matrix.append(
            MatrixRow(
                patient_id,
                study_id,
                tuple(cells[patient_id].get(v.code, Cell(v.code, VisitStatus.UPCOMING)) for v in visits),
                withdrawn_on=withdrawn_on,
                withdrawal_reason=withdrawal_reason,
            )
        )
    return matrix


def table1(tallies: Tallies, protocol: Protocol, n: int) -> Table1:
    """n, age at enrolment (the year of day 0 minus the birth year), sex, the protocol's categorical
    baseline characteristics and the Child-Pugh class at baseline (epro.study.contributions)."""
    return Table1(
        n=n,
        age=tallies.summary("age"),
        sex=tuple(_count(code, label, tallies.count("sex", code), n) for code, label in SEX_LABELS.items()),
        characteristics=_characteristics(tallies, protocol, n),
        child_pugh=_child_pugh(tallies, protocol, n),
    )


def _count(code: str, label: Text, count: int, n: int) -> Count:
    return Count(code, label, count, 100 * count / n if n else 0.0)


NOT_RECORDED = Text(ko="기록 없음", en="Not recorded")
NOT_ASSESSED = Text(ko="평가 불가 (입력값 부족)", en="Not assessed (an input is missing)")


def _characteristics(
    tallies: Tallies, protocol: Protocol, n: int
) -> tuple[tuple[Text, tuple[Count, ...]], ...]:
    if not protocol.baseline_characteristics or protocol.measure_set is None:
        return ()
    from epro.clinical.characteristics import characteristics_for

    groups = []
    for characteristic in characteristics_for(protocol):
        if characteristic.measure is not None or characteristic.kind != "category":
            continue
        counts = [
            _count(o.code, o.label, tallies.count("char", o.code, characteristic.code), n)
            for o in characteristic.options
        ]
        counts.append(_count("", NOT_RECORDED, n - sum(c.n for c in counts), n))
        groups.append((characteristic.name, tuple(counts)))
    return tuple(groups)


def _child_pugh(tallies: Tallies, protocol: Protocol, n: int) -> tuple[Count, ...]:
    if not protocol.baseline_characteristics or protocol.measure_set is None:
        return ()
    counts = [_count(g, Text(ko=f"{g}등급", en=f"Class {g}"), tallies.count("cp", g), n) for g in "ABC"]
    counts.append(_count("", NOT_ASSESSED, n - sum(c.n for c in counts), n))
    return tuple(counts)
