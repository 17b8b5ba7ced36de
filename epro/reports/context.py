"""The per-patient summary as plain data: built from the database in one function, rendered elsewhere.

Nothing here knows about HTML or PDF. Missing values are ``None``, never 0. The baseline of each measure is
the last answer assessed on or before day 0 (epro.baseline, the same rule as the exports); the change from
baseline is the visit's value minus that one, and it reaches the threshold when its size is at least the
protocol's threshold for the measure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from epro import instruments
from epro.baseline import baseline_key
from epro.clinical.child_pugh import ChildPugh, child_pugh
from epro.clinical.measures import Measure as ClinicalMeasure
from epro.clinical.measures import load_measure_set, measure_set_for
from epro.clinical.queries import values_by_visit
from epro.enrolment import NotEnrolled
from epro.models import AuditEvent, ClinicalValue, Patient, Response
from epro.schedule import Protocol, VisitStatus, days_outside_window, load_protocol, study_day
from epro.text import Text
from epro.visit_labels import visit_label
from epro.visits import visit_rows


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"


class NoteKind(StrEnum):
    STAFF_ENTRY = "staff_entry"
    CORRECTION = "correction"


@dataclass(frozen=True, slots=True)
class Measure:
    """One plotted score: an instrument's item (the measure code is the instrument code for one-item ones)."""

    code: str
    instrument_code: str
    item_code: str
    name: Text
    scale_min: int
    scale_max: int
    unit: str
    #: Change from baseline that counts as meaningful (a convention), or None when the protocol sets none.
    threshold: int | None


@dataclass(frozen=True, slots=True)
class IndexValue:
    """One clinical value at a visit: a number with the measure's decimals, or a category's label."""

    number: Decimal | None = None
    label: Text | None = None
    #: Outside the plausible range (confirmed when entered).
    out_of_range: bool = False


NO_VALUE = IndexValue()


@dataclass(frozen=True, slots=True)
class InstrumentVersion:
    code: str
    version: str
    name: Text


@dataclass(frozen=True, slots=True)
class Score:
    value: int | None
    #: Value minus the baseline value; None at the baseline itself or when either value is missing.
    change: int | None
    #: Set when |change| reaches the measure's threshold.
    flag: Direction | None
    #: Numbers of the footnotes that explain this value (staff entry, correction).
    notes: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class VisitLine:
    code: str
    number: int
    label: Text
    is_baseline: bool
    planned_day: int
    target_date: date
    window_start: date
    window_end: date
    actual_date: date | None
    #: Study day of the actual date, else None.
    actual_day: int | None
    status: VisitStatus
    missed_reason: str | None
    #: Aligned with Report.measures.
    scores: tuple[Score, ...]
    #: Clinical values by measure code (absent: no value).
    values: Mapping[str, IndexValue]
    #: Derived from the visit's values; None when an input is missing.
    child_pugh: ChildPugh | None
    #: 0 inside the window, days before (negative) or after (positive) it; None without an actual date.
    days_outside_window: int | None

    @property
    def chart_day(self) -> int:
        """Where the visit sits on the study-day axis: when it happened, else when it was planned."""
        return self.actual_day if self.actual_day is not None else self.planned_day

    @property
    def has_data(self) -> bool:
        return any(score.value is not None for score in self.scores)

    def value(self, index_code: str) -> IndexValue:
        return self.values.get(index_code, NO_VALUE)

    @property
    def weight_kg(self) -> Decimal | None:
        return self.value("WEIGHT").number


@dataclass(frozen=True, slots=True)
class Footnote:
    number: int
    kind: NoteKind
    visit_code: str
    visit_label: Text
    #: The measures it concerns (a staff entry covers every answer of the sitting).
    measure_codes: tuple[str, ...]
    reason: str
    #: Clinic time of the staff entry's submission or of the (latest) correction.
    at: datetime
    #: For corrections: the value first submitted (from the audit trail) and the value now.
    original_value: int | None = None
    current_value: int | None = None


@dataclass(frozen=True, slots=True)
class Report:
    study_name: str
    patient_id: int
    study_id: str
    sex: str
    birth_year: int
    age_at_enrolment: int
    day0: date
    protocol_code: str
    protocol_version: str
    protocol_name: Text
    instruments: tuple[InstrumentVersion, ...]
    measures: tuple[Measure, ...]
    #: The clinical measures of the patient's measure set (the indices), in the set's order.
    indices: tuple[ClinicalMeasure, ...]
    visits: tuple[VisitLine, ...]
    footnotes: tuple[Footnote, ...]
    generated_at: datetime
    generated_by: str
    #: Withdrawn from the study (연구 중단): the date and the reason; None while in the study.
    withdrawn_on: date | None = None
    withdrawal_reason: str | None = None

    @property
    def baseline(self) -> VisitLine | None:
        return next((visit for visit in self.visits if visit.is_baseline), None)

    def series(self, measure_code: str) -> list[tuple[VisitLine, Score]]:
        """A measure's score at every visit, in visit order."""
        index = self.measure_index(measure_code)
        return [(visit, visit.scores[index]) for visit in self.visits]

    def measure_index(self, measure_code: str) -> int:
        return next(i for i, m in enumerate(self.measures) if m.code == measure_code)

    def index_series(self, index_code: str) -> list[tuple[VisitLine, IndexValue]]:
        """A clinical index's value at every visit, in visit order."""
        return [(visit, visit.value(index_code)) for visit in self.visits]


def build_report(
    db: Session,
    patient_id: int,
    *,
    study_name: str,
    zone: ZoneInfo,
    now: datetime,
    generated_by: str,
    protocol: Protocol | None = None,
) -> Report:
    """Everything the summary shows for one patient, as of ``now`` (aware) in the clinic's time zone.

    ``protocol`` defaults to the patient's own (by code and version), whose thresholds apply; visit labels
    are always the patient's own protocol's (epro.visit_labels).
    """
    patient = db.get(Patient, patient_id)
    if patient is None or patient.procedure_date is None or patient.protocol_code is None:
        raise NotEnrolled(patient_id)
    protocol = protocol or load_protocol(patient.protocol_code, patient.protocol_version)
    day0 = patient.procedure_date
    today = now.astimezone(zone).date()
    measures = _measures(protocol)
    indices = _indices(protocol)
    rows = sorted(visit_rows(db, today, patient_id=patient_id), key=lambda row: row.visit.number)
    responses = db.exec(
        select(Response).where(col(Response.visit_id).in_([row.visit.id for row in rows]))
    ).all()
    by_visit: dict[int, dict[str, Response]] = {}
    for response in responses:
        by_visit.setdefault(response.visit_id, {})[_measure_code(response, measures)] = response
    originals = _original_values(db, [r.id for r in responses if r.corrected_at is not None])
    clinical = values_by_visit(db, patient_id)

    baseline_visits: dict[str, int | None] = {
        m.code: baseline_key(
            day0,
            (
                (
                    row.visit.id,
                    _assessed_on(by_visit.get(row.visit.id or 0, {}), m.code),
                    m.code in by_visit.get(row.visit.id or 0, {}),
                )
                for row in rows
            ),
        )
        for m in measures
    }
    baseline_values: dict[str, int | None] = {
        code: None if visit_id is None else _value(by_visit[visit_id].get(code))
        for code, visit_id in baseline_visits.items()
    }

    footnotes: list[Footnote] = []
    lines = []
    for row in rows:
        visit = row.visit
        label = visit_label(patient.protocol_code, patient.protocol_version, visit.code)
        answers = by_visit.get(visit.id or 0, {})
        staff_note = None
        staff_answers = [
            m.code for m in measures if m.code in answers and answers[m.code].entered_by == "staff"
        ]
        if staff_answers and row.session is not None:
            staff_note = len(footnotes) + 1
            footnotes.append(
                Footnote(
                    number=staff_note,
                    kind=NoteKind.STAFF_ENTRY,
                    visit_code=visit.code,
                    visit_label=label,
                    measure_codes=tuple(staff_answers),
                    reason=row.session.staff_reason or "",
                    at=(row.session.submitted_at or row.session.started_at).astimezone(zone),
                )
            )
        scores = []
        for measure in measures:
            answer = answers.get(measure.code)
            notes = [staff_note] if staff_note and measure.code in staff_answers else []
            if answer is not None and answer.corrected_at is not None:
                notes.append(len(footnotes) + 1)
                footnotes.append(
                    Footnote(
                        number=len(footnotes) + 1,
                        kind=NoteKind.CORRECTION,
                        visit_code=visit.code,
                        visit_label=label,
                        measure_codes=(measure.code,),
                        reason=answer.correction_reason or "",
                        at=answer.corrected_at.astimezone(zone),
                        original_value=originals.get(answer.id or 0),
                        current_value=answer.value,
                    )
                )
            value = _value(answer)
            is_baseline = baseline_visits[measure.code] == visit.id
            change = None
            base = baseline_values[measure.code]
            if not is_baseline and value is not None and base is not None:
                change = value - base
            scores.append(Score(value, change, _flag(change, measure.threshold), tuple(notes)))
        entered = clinical.get(visit.id or 0, {})
        lines.append(
            VisitLine(
                code=visit.code,
                number=visit.number,
                label=label,
                is_baseline=visit.id in baseline_visits.values(),
                planned_day=visit.study_day,
                target_date=visit.target_date,
                window_start=visit.window_start,
                window_end=visit.window_end,
                actual_date=visit.actual_date,
                actual_day=None if visit.actual_date is None else study_day(day0, visit.actual_date),
                status=row.status,
                missed_reason=visit.missed_reason,
                scores=tuple(scores),
                values=_index_values(entered),
                child_pugh=child_pugh({code: value.value for code, value in entered.items()}),
                days_outside_window=None
                if visit.actual_date is None
                else days_outside_window(visit.actual_date, visit.window_start, visit.window_end),
            )
        )

    used = sorted({(r.instrument_code, r.instrument_version) for r in responses})
    return Report(
        study_name=study_name,
        patient_id=patient_id,
        study_id=patient.study_id,
        sex=patient.sex,
        birth_year=patient.birth_year,
        age_at_enrolment=day0.year - patient.birth_year,
        day0=day0,
        protocol_code=protocol.code,
        protocol_version=protocol.version,
        protocol_name=protocol.name,
        instruments=tuple(InstrumentVersion(c, v, instruments.get(c, v).name) for c, v in used),
        measures=measures,
        indices=indices,
        visits=tuple(lines),
        footnotes=tuple(footnotes),
        generated_at=now.astimezone(zone),
        generated_by=generated_by,
        withdrawn_on=patient.withdrawn_on,
        withdrawal_reason=patient.withdrawal_reason,
    )


def _measures(protocol: Protocol) -> tuple[Measure, ...]:
    codes = (code for visit in protocol.visits for code in visit.instruments)
    return tuple(
        Measure(
            code=p.code,
            instrument_code=p.instrument.code,
            item_code=p.item.code,
            name=p.instrument.name,
            scale_min=p.instrument.scale_min,
            scale_max=p.instrument.scale_max,
            unit=p.instrument.unit,
            threshold=p.threshold,
        )
        for p in instruments.protocol_items(codes, protocol.thresholds)
    )


def _indices(protocol: Protocol) -> tuple[ClinicalMeasure, ...]:
    """The clinical measures the protocol collects; none when it names no measure set."""
    return measure_set_for(protocol).measures if protocol.measure_set else ()


def _index_values(rows: Mapping[str, ClinicalValue]) -> dict[str, IndexValue]:
    """A visit's clinical values as shown: numbers with their measure's decimals (stored with four),
    categories as their option's label. Each value is read with the measure set it was entered under."""
    values = {}
    for code, row in rows.items():
        measure = load_measure_set(row.measure_set).get(code)
        if row.value_number is not None:
            number = Decimal(row.value_number).quantize(Decimal(1).scaleb(-measure.decimals))
            values[code] = IndexValue(number=number, out_of_range=row.out_of_range)
        elif row.value_code is not None:
            option = measure.option(row.value_code)
            label = option.label if option else Text(ko=row.value_code, en=row.value_code)
            values[code] = IndexValue(label=label, out_of_range=row.out_of_range)
    return values


def _measure_code(response: Response, measures: tuple[Measure, ...]) -> str:
    for measure in measures:
        if (measure.instrument_code, measure.item_code) == (response.instrument_code, response.item_code):
            return measure.code
    return f"{response.instrument_code}.{response.item_code}"


def _assessed_on(answers: dict[str, Response], measure_code: str) -> date | None:
    response = answers.get(measure_code)
    return None if response is None else response.assessment_date


def _value(response: Response | None) -> int | None:
    return None if response is None else response.value


def _flag(change: int | None, threshold: int | None) -> Direction | None:
    if change is None or threshold is None or abs(change) < threshold:
        return None
    return Direction.UP if change > 0 else Direction.DOWN


def _original_values(db: Session, response_ids: list[int | None]) -> dict[int, int | None]:
    """The value each corrected response had before its first correction, from the audit trail."""
    if not response_ids:
        return {}
    events = db.exec(
        select(AuditEvent)
        .where(
            AuditEvent.action == "response.correct",
            AuditEvent.entity == "response",
            col(AuditEvent.entity_id).in_([str(i) for i in response_ids]),
        )
        .order_by(col(AuditEvent.id))
    ).all()
    originals: dict[int, int | None] = {}
    for event in events:
        key = int(event.entity_id or 0)
        if key not in originals:
            originals[key] = int(event.old_value) if event.old_value not in (None, "") else None
    return originals
