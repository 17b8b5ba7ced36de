"""Each patient's share of the study overview's tallies, computed from the patient's own rows.

A share is a list of tally entries, each counting once: the patient's values per visit and measure, the
changes from the same patient's baseline (epro.baseline: the last value assessed on or before day 0,
whichever visit; the visit holding the baseline gets no change), age, sex, the categorical baseline
characteristics and the Child-Pugh class at baseline (Table 1), and one entry per visit for the completion
counts (its state and window: whether it is upcoming, due or overdue depends on the clinic's date, so that
is decided when the counts are read). Only analysed patients (epro.study.population) have a share.

Values and changes are kept as whole numbers (times SCALE: every value in the database has at most four
decimal places), so adding and removing shares is exact on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from epro.baseline import baseline_key
from epro.codes import SessionState
from epro.models import ClinicalValue, Patient, PatientCharacteristic, QuestionnaireSession, Visit
from epro.schedule import Protocol, VisitStatus
from epro.study.population import live_session
from epro.study.sources import Source, sources

SCALE = 10_000
#: A visit whose state (upcoming, due or overdue) depends on the clinic's date.
OPEN = "open"
BATCH = 500

#: (kind, visit code, measure, category, scaled value)
Entry = tuple[str, str, str, str, int]
#: (visit code, state, staff-entered, late, window start, window end)
VisitEntry = tuple[str, str, int, int, date, date]


@dataclass
class Share:
    entries: list[Entry] = field(default_factory=list)
    visits: list[VisitEntry] = field(default_factory=list)


def _rows(db: Session, query: Any) -> list[Any]:
    """Plain rows through the session's Core connection (no ORM result processing: the rebuild reads
    every value of the study)."""
    return list(db.connection().execute(query).all())


def scaled(value: Any) -> int:
    """A value of the database (int, Decimal or float) as a whole number of 1/SCALE."""
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    return int((exact * SCALE).to_integral_value(ROUND_HALF_EVEN))


def shares(db: Session, protocol: Protocol, patient_ids: Iterable[int]) -> Iterator[tuple[int, Share]]:
    """(patient id, share) for each analysed patient among ``patient_ids``, a batch of patients at a time."""
    ids = sorted(set(patient_ids))
    for start in range(0, len(ids), BATCH):
        yield from _batch(db, protocol, ids[start : start + BATCH])


def _batch(db: Session, protocol: Protocol, ids: list[int]) -> Iterator[tuple[int, Share]]:
    patients = {
        row.id: row
        for row in _rows(
            db,
            select(
                col(Patient.id),
                col(Patient.sex),
                col(Patient.birth_year),
                col(Patient.procedure_date),
                col(Patient.withdrawn_on),
            ).where(
                col(Patient.id).in_(ids),
                col(Patient.procedure_date).is_not(None),
                col(Patient.protocol_code).is_not(None),
            ),
        )
    }
    if not patients:
        return
    analysed = list(patients)
    visits = _rows(
        db,
        select(
            col(Visit.id),
            col(Visit.patient_id),
            col(Visit.code),
            col(Visit.number),
            col(Visit.window_start),
            col(Visit.window_end),
            col(Visit.actual_date),
            col(Visit.missed_at),
            col(QuestionnaireSession.state),
            col(QuestionnaireSession.entered_by),
        )
        .join(QuestionnaireSession, live_session(), isouter=True)
        .where(col(Visit.patient_id).in_(analysed)),
    )
    visit_of = {v.id: (v.patient_id, v.code, v.number) for v in visits}
    result = {pid: Share() for pid in analysed}
    for v in visits:
        result[v.patient_id].visits.append(_visit_entry(v, patients[v.patient_id].withdrawn_on))

    for source, _infos in sources(protocol):
        _values(db, source, analysed, visit_of, patients, result)
    characteristics = _characteristics(db, protocol, analysed, visit_of, patients)

    for pid, patient in patients.items():
        share = result[pid]
        share.entries.append(("age", "", "", "", (patient.procedure_date.year - patient.birth_year) * SCALE))
        share.entries.append(("sex", "", "", patient.sex, 0))
        share.entries.extend(characteristics.get(pid, ()))
        share.entries.sort()
        share.visits.sort()
        yield pid, share


def _visit_entry(v: Any, withdrawn_on: date | None) -> VisitEntry:
    """The visit's state as epro.study.compute reads it (data wins over a missed mark, which wins over a
    withdrawal); only an open visit's state moves with the calendar, so only its window start is kept."""
    submitted = v.state == SessionState.SUBMITTED
    expected = withdrawn_on is None or v.window_end < withdrawn_on or v.missed_at is not None or submitted
    if submitted:
        state = VisitStatus.COMPLETED.value
    elif v.missed_at is not None:
        state = VisitStatus.MISSED.value
    elif not expected:
        state = VisitStatus.CANCELLED.value
    else:
        return (v.code, OPEN, 0, 0, v.window_start, v.window_end)
    staff = int(submitted and v.entered_by == "staff")
    late = int(
        submitted and v.actual_date is not None and not (v.window_start <= v.actual_date <= v.window_end)
    )
    return (v.code, state, staff, late, v.window_end, v.window_end)


def _values(
    db: Session,
    source: Source,
    analysed: list[int],
    visit_of: dict[int, tuple[int, str, int]],
    patients: dict[int, Any],
    result: dict[int, Share],
) -> None:
    """Each value of the source, and its change from the same patient's baseline."""
    row = source.alias()
    rows = _rows(
        db,
        select(source.visit_id(row), source.key(row), source.value(row), source.assessed_on(row))
        .join(Visit, col(Visit.id) == source.visit_id(row))
        .where(col(Visit.patient_id).in_(analysed), source.where(row)),
    )
    by_measure: dict[tuple[int, str], list[tuple[int, int, date | None, int]]] = defaultdict(list)
    for visit_id, key, value, assessed_on in rows:
        pid, _code, number = visit_of[visit_id]
        by_measure[(pid, key)].append((number, visit_id, assessed_on, scaled(value)))
    for (pid, key), values in by_measure.items():
        values.sort(key=lambda item: item[:2])  # visit order (epro.baseline.baseline_key)
        share = result[pid]
        base = baseline_key(
            patients[pid].procedure_date,
            ((i, assessed_on, True) for i, (_n, _v, assessed_on, _x) in enumerate(values)),
        )
        for _number, visit_id, _assessed, number in values:
            share.entries.append(("value", visit_of[visit_id][1], key, "", number))
        if base is None:
            continue
        _bn, base_visit, _ba, base_value = values[base]
        for _number, visit_id, _assessed, number in values:
            if visit_id != base_visit:
                share.entries.append(("change", visit_of[visit_id][1], key, "", number - base_value))


def _characteristics(
    db: Session,
    protocol: Protocol,
    analysed: list[int],
    visit_of: dict[int, tuple[int, str, int]],
    patients: dict[int, Any],
) -> dict[int, list[Entry]]:
    """Table 1's categories per patient: as entered at enrolment, and where a Child-Pugh input was not
    entered, the value measured at baseline."""
    if not protocol.baseline_characteristics or protocol.measure_set is None:
        return {}
    from epro.clinical.characteristics import baseline_child_pugh, characteristics_for
    from epro.clinical.child_pugh import INPUTS

    measured: dict[tuple[int, str], list[tuple[int, int, date | None, str]]] = defaultdict(list)
    for visit_id, code, number, category, sampled in _rows(
        db,
        select(
            col(ClinicalValue.visit_id),
            col(ClinicalValue.measure_code),
            col(ClinicalValue.value_number),
            col(ClinicalValue.value_code),
            col(ClinicalValue.sample_date),
        )
        .join(Visit, col(Visit.id) == ClinicalValue.visit_id)
        .where(col(Visit.patient_id).in_(analysed), col(ClinicalValue.measure_code).in_(INPUTS)),
    ):
        pid, _code, visit_number = visit_of[visit_id]
        text = category if category is not None else str(number)
        measured[(pid, code)].append((visit_number, visit_id, sampled, text))
    values: dict[int, dict[str, str]] = defaultdict(dict)
    for (pid, code), found in measured.items():
        found.sort(key=lambda item: item[:2])
        base = baseline_key(
            patients[pid].procedure_date,
            ((i, sampled, True) for i, (_n, _v, sampled, _t) in enumerate(found)),
        )
        if base is not None:
            values[pid][code] = found[base][3]
    for pid, code, value in _rows(
        db,
        select(
            col(PatientCharacteristic.patient_id),
            col(PatientCharacteristic.code),
            col(PatientCharacteristic.value),
        ).where(col(PatientCharacteristic.patient_id).in_(analysed)),
    ):
        values[pid][code] = value

    categories = [c.code for c in characteristics_for(protocol) if c.measure is None and c.kind == "category"]
    entries: dict[int, list[Entry]] = defaultdict(list)
    for pid, recorded in values.items():
        for code in categories:
            if code in recorded:
                entries[pid].append(("char", "", code, recorded[code], 0))
        derived = baseline_child_pugh(recorded, protocol)
        if derived is not None:
            entries[pid].append(("cp", "", "", derived.grade, 0))
    return entries
