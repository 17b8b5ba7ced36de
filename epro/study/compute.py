"""Building the StudyOverview from the database: a handful of grouped queries, whatever the study's size."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import Float, and_, case, extract, func, or_, type_coerce
from sqlmodel import Session, col, select

from epro.codes import SessionState
from epro.models import Patient, QuestionnaireSession, Visit
from epro.schedule import Protocol, VisitStatus, visit_status
from epro.study.overview import (
    Cell,
    Change,
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
from epro.study.population import (
    analysed_patients,
    baseline_rank,
    baseline_values,
    before_exposure,
    expected_visits,
)
from epro.study.sources import Source, sources
from epro.study.statistics import change_from_moments, summarise
from epro.text import Text

#: The all-patients charts draw at most this many patients' lines (an even sample by study ID beyond it).
MAX_LINES = 60

LIVE_SESSION = and_(
    col(QuestionnaireSession.visit_id) == Visit.id, QuestionnaireSession.state != SessionState.CANCELLED
)
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
    patients = db.exec(
        select(Patient.id, Patient.study_id).where(analysed_patients()).order_by(col(Patient.study_id))
    ).all()
    sample = _even_sample([(pid, sid) for pid, sid in patients], max_lines)
    measures: list[MeasureStats] = []
    for source, infos in sources(protocol):
        measures.extend(_measure_stats(db, source, infos, visits, sample))
    return StudyOverview(
        study_name=study_name,
        protocol_name=protocol.name,
        today=today,
        generated_at=now,
        visits=visits,
        completion=completion(db, visits, today),
        measures=tuple(measures),
        table1=table1(db, protocol),
        patients=len(patients),
        lines_drawn=len(sample),
    )


def _rows(db: Session, query) -> list:  # type: ignore[no-untyped-def,type-arg]
    """Plain rows through the session's Core connection: no ORM result processing for large groupings."""
    return db.connection().execute(query).all()


def _even_sample(patients: list[tuple[int, str]], most: int) -> list[tuple[int, str]]:
    if len(patients) <= most:
        return patients
    step = len(patients) / most
    return [patients[int(i * step)] for i in range(most)]


def _measure_stats(
    db: Session,
    source: Source,
    infos: list[MeasureInfo],
    visits: tuple[VisitInfo, ...],
    sample: list[tuple[int, str]],
) -> list[MeasureStats]:
    values: dict[tuple[str, str], list[tuple[object, int]]] = defaultdict(list)
    changes: dict[tuple[str, str], Change] = {}

    # One pass over the values: each distinct value with its count, and beside it the sums of the changes
    # from the same patient's baseline (a different record, left-joined), added up per visit and measure.
    row = source.alias()
    key, value = source.key(row), type_coerce(source.value(row), Float)
    baseline = baseline_values(source)
    difference = type_coerce(source.value(row) - baseline.c.value, Float)
    frequency = (
        select(
            Visit.code,
            key,
            value,
            func.count(),
            func.count(baseline.c.visit_id),
            func.sum(difference),
            func.sum(difference * difference),
        )
        .select_from(row)
        .join(Visit, col(Visit.id) == source.visit_id(row))
        .join(Patient, col(Patient.id) == Visit.patient_id)
        .join(
            baseline,
            and_(
                baseline.c.patient_id == Visit.patient_id,
                baseline.c.key == key,
                baseline.c.visit_id != source.visit_id(row),
            ),
            isouter=True,
        )
        .where(analysed_patients(), source.where(row))
        .group_by(Visit.code, key, value)
    )
    sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for visit_code, measure_key, number, count, n, total, squares in _rows(db, frequency):
        values[(visit_code, measure_key)].append((number, count))
        if n:
            tally = sums[(visit_code, measure_key)]
            tally[0] += n
            tally[1] += total
            tally[2] += squares
    for group, (n, total, squares) in sums.items():
        changes[group] = change_from_moments(int(n), float(total), float(squares))

    lines: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    if sample:
        study_ids = dict(sample)
        drawn = (
            select(Visit.patient_id, Visit.code, key, value)
            .select_from(row)
            .join(Visit, col(Visit.id) == source.visit_id(row))
            .where(col(Visit.patient_id).in_(list(study_ids)), source.where(row))
            .order_by(Visit.patient_id, Visit.number)
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
                        summarise(values.get((visit.code, measure_key), ())),
                        changes.get((visit.code, measure_key), Change(0)),
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


def _status_expression(today: date):  # type: ignore[no-untyped-def]
    """The visit status of epro.schedule.visit_status, as SQL (data wins over a missed mark, which wins
    over a withdrawal, then dates). The query joins Patient and the live session (outer)."""
    return case(
        (QuestionnaireSession.state == SessionState.SUBMITTED, VisitStatus.COMPLETED.value),
        (col(Visit.missed_at).is_not(None), VisitStatus.MISSED.value),
        (~expected_visits(), VisitStatus.CANCELLED.value),
        (Visit.window_start > today, VisitStatus.UPCOMING.value),
        (Visit.window_end >= today, VisitStatus.DUE.value),
        else_=VisitStatus.OVERDUE.value,
    )


def _late_expression():  # type: ignore[no-untyped-def]
    return and_(
        QuestionnaireSession.state == SessionState.SUBMITTED,
        col(Visit.actual_date).is_not(None),
        or_(Visit.actual_date < Visit.window_start, Visit.actual_date > Visit.window_end),
    )


def completion(db: Session, visits: tuple[VisitInfo, ...], today: date) -> Completion:
    """Counts per visit and status, and completion in window over the expected visits whose window has
    closed (visits cancelled by a withdrawal are counted apart, never as overdue or in the rate)."""
    status = _status_expression(today).label("status")
    late = case((_late_expression(), 1), else_=0).label("late")
    closed = case((Visit.window_end < today, 1), else_=0).label("closed")
    query = (
        select(Visit.code, status, QuestionnaireSession.entered_by, late, closed, func.count())
        .join(Patient, col(Patient.id) == Visit.patient_id)
        .join(QuestionnaireSession, LIVE_SESSION, isouter=True)
        .where(analysed_patients())
        .group_by(Visit.code, status, QuestionnaireSession.entered_by, late, closed)
    )
    counts: dict[str, dict[str, int]] = {v.code: defaultdict(int) for v in visits}
    closed_total = completed_in_window = 0
    for code, state, entered_by, is_late, is_closed, count in _rows(db, query):
        if code not in counts:
            continue
        tally = counts[code]
        tally[state] += count
        if state == VisitStatus.COMPLETED.value:
            tally["staff_entered"] += count if entered_by == "staff" else 0
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
        select(Patient.id, Patient.study_id, Patient.withdrawn_on, Patient.withdrawal_reason)
        .where(analysed_patients())
        .order_by(col(Patient.study_id))
        .offset(offset)
        .limit(limit)
    ).all()
    if not patients:
        return []
    rows = db.exec(
        select(
            Visit.patient_id,
            Visit.code,
            Visit.window_start,
            Visit.window_end,
            Visit.actual_date,
            Visit.missed_reason,
            QuestionnaireSession.state,
            QuestionnaireSession.entered_by,
        )
        .join(QuestionnaireSession, LIVE_SESSION, isouter=True)
        .where(col(Visit.patient_id).in_([p.id for p in patients]))
    ).all()
    withdrawn = {p.id: p.withdrawn_on for p in patients}
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
    return [
        MatrixRow(
            p.id,
            p.study_id,
            tuple(cells[p.id].get(v.code, Cell(v.code, VisitStatus.UPCOMING)) for v in visits),
            withdrawn_on=p.withdrawn_on,
            withdrawal_reason=p.withdrawal_reason,
        )
        for p in patients
    ]


def table1(db: Session, protocol: Protocol) -> Table1:
    """n, age at enrolment (the year of day 0 minus the birth year) and sex, counted in SQL; the protocol's
    categorical baseline characteristics and the Child-Pugh class at baseline."""
    age = (extract("year", Patient.procedure_date) - Patient.birth_year).label("age")
    ages = db.exec(select(age, func.count()).where(analysed_patients()).group_by(age)).all()
    sexes = dict(
        db.exec(select(Patient.sex, func.count()).where(analysed_patients()).group_by(Patient.sex)).all()
    )
    n = sum(sexes.values())
    groups, child_pugh = _baseline_characteristics(db, protocol, n)
    return Table1(
        n=n,
        age=summarise((int(a), c) for a, c in ages),
        sex=tuple(_count(code, label, sexes.get(code, 0), n) for code, label in SEX_LABELS.items()),
        characteristics=groups,
        child_pugh=child_pugh,
    )


def _count(code: str, label: Text, count: int, n: int) -> Count:
    return Count(code, label, count, 100 * count / n if n else 0.0)


NOT_RECORDED = Text(ko="기록 없음", en="Not recorded")
NOT_ASSESSED = Text(ko="평가 불가 (입력값 부족)", en="Not assessed (an input is missing)")


def _baseline_characteristics(
    db: Session, protocol: Protocol, n: int
) -> tuple[tuple[tuple[Text, tuple[Count, ...]], ...], tuple[Count, ...]]:
    """Counts of each categorical characteristic, and of the Child-Pugh class at baseline: from the
    characteristics entered at enrolment, and where one of its inputs is missing there, from the value
    measured at baseline (epro.baseline: the last value sampled on or before day 0)."""
    if not protocol.baseline_characteristics or protocol.measure_set is None:
        return (), ()
    from epro.clinical.characteristics import baseline_child_pugh, characteristics_for
    from epro.clinical.child_pugh import INPUTS
    from epro.models import ClinicalValue, PatientCharacteristic

    values: dict[int, dict[str, str]] = defaultdict(dict)
    rank = baseline_rank(ClinicalValue.measure_code, ClinicalValue.sample_date).label("rank")
    ranked = (
        select(
            Visit.patient_id,
            ClinicalValue.measure_code,
            ClinicalValue.value_number,
            ClinicalValue.value_code,
            rank,
        )
        .join(Visit, col(Visit.id) == ClinicalValue.visit_id)
        .join(Patient, col(Patient.id) == Visit.patient_id)
        .where(
            analysed_patients(),
            before_exposure(ClinicalValue.sample_date),
            col(ClinicalValue.measure_code).in_(INPUTS),
        )
        .subquery()
    )
    measured = select(
        ranked.c.patient_id, ranked.c.measure_code, ranked.c.value_number, ranked.c.value_code
    ).where(ranked.c.rank == 1)
    for patient_id, code, number, category in _rows(db, measured):
        values[patient_id][code] = category if category is not None else str(number)
    entered = (
        select(PatientCharacteristic.patient_id, PatientCharacteristic.code, PatientCharacteristic.value)
        .join(Patient, col(Patient.id) == PatientCharacteristic.patient_id)
        .where(analysed_patients())
    )
    for patient_id, code, value in _rows(db, entered):
        values[patient_id][code] = value

    groups = []
    for characteristic in characteristics_for(protocol):
        if characteristic.measure is not None or characteristic.kind != "category":
            continue
        tally: dict[str, int] = defaultdict(int)
        for found in values.values():
            if characteristic.code in found:
                tally[found[characteristic.code]] += 1
        counts = [_count(o.code, o.label, tally.get(o.code, 0), n) for o in characteristic.options]
        counts.append(_count("", NOT_RECORDED, n - sum(c.n for c in counts), n))
        groups.append((characteristic.name, tuple(counts)))

    grades: dict[str, int] = defaultdict(int)
    for found in values.values():
        derived = baseline_child_pugh(found, protocol)
        if derived is not None:
            grades[derived.grade] += 1
    child_pugh = [_count(g, Text(ko=f"{g}등급", en=f"Class {g}"), grades.get(g, 0), n) for g in "ABC"]
    child_pugh.append(_count("", NOT_ASSESSED, n - sum(c.n for c in child_pugh), n))
    return tuple(groups), tuple(child_pugh)
