"""The study overview's tallies (tables in epro.models), kept current with the audit trail.

Every change to the study's data is audited in the same transaction, so the tallies note the newest audit
event they include. On the next read, the patients named by the events since then are tallied again: each
one's stored share (epro.study.contributions) is taken out and the share computed from its rows now is put
in, so the counts stay exact, and only the groups of values whose counts moved get their statistics
computed again (from the group's distinct values and counts, in the database's index order). A baseline
corrected changes that patient's changes at every visit: the whole patient is tallied again, so that is
covered. Tallies that are missing, made for another protocol, or behind by more than MAX_INCREMENTAL
patients (or by an event the tallies cannot place) are built again from every patient.

Writers take turns (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock), and audit events are committed
in id order (epro.audit serialises appenders), so no event is ever counted twice or skipped.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import astuple, dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, delete, func, insert, inspect, text, update
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from epro.db import unit_of_work, write_intended
from epro.models import (
    ClinicalValue,
    Patient,
    PatientCharacteristic,
    QuestionnaireSession,
    Response,
    StudyPatientTally,
    StudyTally,
    StudyTallyState,
    StudyVisitTally,
    Visit,
)
from epro.schedule import Protocol, VisitStatus
from epro.study.cache import engine_of, latest_change, read_only_action
from epro.study.contributions import OPEN, SCALE, Entry, Share, VisitEntry, shares
from epro.study.overview import Change, Summary
from epro.study.population import analysed_patients
from epro.study.statistics import summarise

FORMAT = "1"
STATE_ID = 1
#: Groups of values with statistics (mean, SD, median, quartiles); the other kinds are counts.
SUMMARISED = ("value", "change", "age")
COUNTED = ("sex", "char", "cp")
#: Past this many patients to tally again, building everything again is as quick.
MAX_INCREMENTAL = 1000
ADVISORY_LOCK = 4243
IN_LIST = 500

Group = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Tallies:
    summaries: dict[Group, Summary]
    #: (kind, measure, category) -> patients, for sex, the categorical characteristics and Child-Pugh.
    counts: dict[tuple[str, str, str], int]
    #: (visit code, status, staff-entered, late, window closed, visits) as of the clinic date asked for.
    completion: list[tuple[str, str, int, int, int, int]]

    def summary(self, kind: str, visit_code: str = "", measure: str = "") -> Summary:
        return self.summaries.get((kind, visit_code, measure), Summary(0))

    def change(self, visit_code: str, measure: str) -> Change:
        found = self.summary("change", visit_code, measure)
        return Change(found.n, found.mean, found.sd)

    def count(self, kind: str, category: str, measure: str = "") -> int:
        return self.counts.get((kind, measure, category), 0)


def current(db: Session, protocol: Protocol, today: date) -> Tallies:
    """The tallies as of the newest change, brought up to date first when they are behind."""
    state = db.exec(
        select(
            col(StudyTallyState.context), col(StudyTallyState.audit_id), col(StudyTallyState.summaries)
        ).where(col(StudyTallyState.id) == STATE_ID)
    ).first()
    if state is not None and state[0] == _context(protocol) and state[1] == latest_change(db):
        return _read(db, _load_summaries(state[2]), today)
    if write_intended():  # the caller writes (an export's POST): in its transaction, which holds the lock
        return _read(db, _bring_up_to_date(db, protocol), today)
    with unit_of_work(engine_of(db)) as writer:
        return _read(writer, _bring_up_to_date(writer, protocol), today)


def _context(protocol: Protocol) -> str:
    return f"{protocol.code} {protocol.version} format {FORMAT}"


def _bring_up_to_date(db: Session, protocol: Protocol) -> dict[Group, Summary]:
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})"))
    latest = latest_change(db)
    state = db.get(StudyTallyState, STATE_ID)
    touched = None
    if state is not None and state.context == _context(protocol) and state.audit_id <= latest:
        touched = _touched(db, state.audit_id)
    if state is None or touched is None or len(touched) > MAX_INCREMENTAL:
        summaries = _rebuild(db, protocol)
    else:
        summaries = _retally(db, protocol, touched, _load_summaries(state.summaries))
    if state is None:
        state = StudyTallyState(id=STATE_ID, context="", audit_id=0, summaries="")
    state.context, state.audit_id, state.summaries = _context(protocol), latest, _dump_summaries(summaries)
    db.add(state)
    db.flush()
    return summaries


# Which patient an audited entity belongs to (entities the overview does not read are passed over).
# (the entity's id, its patient's id, and the visit id to join Visit on where the patient is the visit's)
_OWNERS: dict[str, tuple[Mapped[int | None], Mapped[int | None], Mapped[int] | None]] = {
    "patient": (col(Patient.id), col(Patient.id), None),
    "patient_characteristic": (col(PatientCharacteristic.id), col(PatientCharacteristic.patient_id), None),
    "visit": (col(Visit.id), col(Visit.patient_id), None),
    "questionnaire_session": (
        col(QuestionnaireSession.id),
        col(Visit.patient_id),
        col(QuestionnaireSession.visit_id),
    ),
    "response": (col(Response.id), col(Visit.patient_id), col(Response.visit_id)),
    "clinical_value": (col(ClinicalValue.id), col(Visit.patient_id), col(ClinicalValue.visit_id)),
}
_PASSED_OVER = frozenset(
    {"staff_user", "signature", "change_review", "audit_event", "export", "study", "database"}
)


def _touched(db: Session, after: int) -> set[int] | None:
    """The patients whose data the audit events after ``after`` changed, or None when an event names
    something that cannot be placed (an entity unknown here, or a row no longer there)."""
    from epro.models import AuditEvent

    ids: dict[str, set[int]] = defaultdict(set)
    for entity, entity_id in db.exec(
        select(col(AuditEvent.entity), col(AuditEvent.entity_id)).where(
            col(AuditEvent.id) > after, ~read_only_action()
        )
    ).all():
        if entity in _PASSED_OVER:
            continue
        if entity not in _OWNERS or entity_id is None or not entity_id.isdigit():
            return None
        ids[entity].add(int(entity_id))
    patients: set[int] = set()
    for entity, wanted in ids.items():
        key, owner, visit_id = _OWNERS[entity]
        found = 0
        for chunk in _chunks(sorted(wanted)):
            query = select(key, owner).where(key.in_(chunk))
            if visit_id is not None:
                query = query.join(Visit, col(Visit.id) == visit_id)
            rows = db.exec(query).all()
            found += len(rows)
            patients.update(pid for _id, pid in rows if pid is not None)
        if found != len(wanted):
            return None
    return patients


def _chunks(items: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(items), IN_LIST):
        yield items[start : start + IN_LIST]


def _retally(
    db: Session, protocol: Protocol, patients: set[int], summaries: dict[Group, Summary]
) -> dict[Group, Summary]:
    """Take the patients' stored shares out of the counts and put their shares as of now in."""
    entries: Counter[Entry] = Counter()
    visits: Counter[VisitEntry] = Counter()
    ordered = sorted(patients)
    for chunk in _chunks(ordered):
        for _pid, stored in db.exec(
            select(StudyPatientTally.patient_id, StudyPatientTally.entries).where(
                col(StudyPatientTally.patient_id).in_(chunk)
            )
        ).all():
            old = _load_share(stored)
            entries.subtract(old.entries)
            visits.subtract(old.visits)
        db.execute(delete(StudyPatientTally).where(col(StudyPatientTally.patient_id).in_(chunk)))
    for pid, share in shares(db, protocol, ordered):
        entries.update(share.entries)
        visits.update(share.visits)
        db.add(StudyPatientTally(patient_id=pid, entries=_dump_share(share)))
    db.flush()
    _apply(db, StudyTally, ("kind", "visit_code", "measure", "category", "value"), entries)
    _apply(
        db, StudyVisitTally, ("visit_code", "state", "staff", "late", "window_start", "window_end"), visits
    )
    for group in {entry[:3] for entry, moved in entries.items() if moved and entry[0] in SUMMARISED}:
        kind, visit_code, measure = group
        counted = db.exec(
            select(col(StudyTally.value), col(StudyTally.n))
            .where(
                col(StudyTally.kind) == kind,
                col(StudyTally.visit_code) == visit_code,
                col(StudyTally.measure) == measure,
            )
            .order_by(col(StudyTally.value))
        ).all()
        _summarise_into(summaries, group, counted)
    return summaries


CountTable = type[StudyTally] | type[StudyVisitTally]


def _apply(db: Session, table: CountTable, columns: tuple[str, ...], moves: Counter[Any]) -> None:
    """Add each move to its row's count (a new row where there is none; a row counting 0 goes)."""
    n = col(table.n)
    for key, moved in moves.items():
        if not moved:
            continue
        match = [getattr(table, name) == value for name, value in zip(columns, key, strict=True)]
        changed = db.exec(update(table).where(*match).values(n=n + moved)).rowcount
        if not changed:
            db.execute(insert(table).values(**dict(zip(columns, key, strict=True)), n=moved))
        elif moved < 0:
            db.execute(delete(table).where(*match, n == 0))


def _rebuild(db: Session, protocol: Protocol) -> dict[Group, Summary]:
    """Every analysed patient's share, counted afresh."""
    for table in (StudyTally, StudyVisitTally, StudyPatientTally):
        db.execute(delete(table))
    patients = [
        pid for pid in db.exec(select(col(Patient.id)).where(analysed_patients())).all() if pid is not None
    ]
    entries: Counter[Entry] = Counter()
    visits: Counter[VisitEntry] = Counter()
    rows: list[dict[str, object]] = []
    for pid, share in shares(db, protocol, patients):
        entries.update(share.entries)
        visits.update(share.visits)
        rows.append({"patient_id": pid, "entries": _dump_share(share)})
        if len(rows) >= IN_LIST:
            _insert(db, StudyPatientTally, rows)
            rows = []
    if rows:
        _insert(db, StudyPatientTally, rows)
    _insert_counts(db, StudyTally, ("kind", "visit_code", "measure", "category", "value"), entries)
    _insert_counts(
        db, StudyVisitTally, ("visit_code", "state", "staff", "late", "window_start", "window_end"), visits
    )
    groups: dict[Group, list[tuple[int, int]]] = defaultdict(list)
    for entry in sorted(entries):
        if entry[0] in SUMMARISED:
            groups[entry[:3]].append((entry[4], entries[entry]))
    summaries: dict[Group, Summary] = {}
    for group, counted in groups.items():
        _summarise_into(summaries, group, counted)
    return summaries


def _insert_counts(db: Session, table: CountTable, columns: tuple[str, ...], counts: Counter[Any]) -> None:
    rows = [{**dict(zip(columns, key, strict=True)), "n": n} for key, n in counts.items() if n]
    for start in range(0, len(rows), 5000):
        _insert(db, table, rows[start : start + 5000])


def _insert(db: Session, table: CountTable | type[StudyPatientTally], rows: list[dict[str, object]]) -> None:
    """executemany through the Core connection (the ORM's bulk insert costs more per row)."""
    db.connection().execute(insert(inspect(table).local_table), rows)


def _summarise_into(
    summaries: dict[Group, Summary], group: Group, counted: Iterable[tuple[int, int]]
) -> None:
    """The group's statistics from its (scaled value, count) pairs in value order (the same order however
    the counts were made, so the same floating-point results)."""
    found = summarise((value / SCALE, n) for value, n in counted)
    if found.n:
        summaries[group] = found
    else:
        summaries.pop(group, None)


def _read(db: Session, summaries: dict[Group, Summary], today: date) -> Tallies:
    counts = {
        (kind, measure, category): int(n)
        for kind, measure, category, n in db.exec(
            select(
                col(StudyTally.kind),
                col(StudyTally.measure),
                col(StudyTally.category),
                func.sum(StudyTally.n),
            )
            .where(col(StudyTally.kind).in_(COUNTED))
            .group_by(col(StudyTally.kind), col(StudyTally.measure), col(StudyTally.category))
        ).all()
    }
    return Tallies(summaries, counts, _completion(db, today))


def _completion(db: Session, today: date) -> list[tuple[str, str, int, int, int, int]]:
    """The visits by status as of ``today``: an open visit is upcoming before its window, due in it, and
    overdue after it (epro.schedule.visit_status)."""
    status = case(
        (col(StudyVisitTally.state) != OPEN, StudyVisitTally.state),
        (col(StudyVisitTally.window_start) > today, VisitStatus.UPCOMING.value),
        (col(StudyVisitTally.window_end) >= today, VisitStatus.DUE.value),
        else_=VisitStatus.OVERDUE.value,
    ).label("status")
    closed = case((col(StudyVisitTally.window_end) < today, 1), else_=0).label("closed")
    visit_code, staff, late = (
        col(StudyVisitTally.visit_code),
        col(StudyVisitTally.staff),
        col(StudyVisitTally.late),
    )
    rows = db.execute(
        sql_select(visit_code, status, staff, late, closed, func.sum(StudyVisitTally.n)).group_by(
            visit_code, status, staff, late, closed
        )
    ).all()
    return [(code, state, staff, late, shut, int(n)) for code, state, staff, late, shut, n in rows]


def _dump_summaries(summaries: dict[Group, Summary]) -> str:
    return json.dumps([[*group, *astuple(summary)] for group, summary in sorted(summaries.items())])


def _load_summaries(stored: str) -> dict[Group, Summary]:
    return {(kind, visit, measure): Summary(*rest) for kind, visit, measure, *rest in json.loads(stored)}


def _dump_share(share: Share) -> str:
    visits = [[*entry[:4], entry[4].isoformat(), entry[5].isoformat()] for entry in share.visits]
    return json.dumps({"t": share.entries, "v": visits}, separators=(",", ":"))


def _load_share(stored: str) -> Share:
    found = json.loads(stored)
    return Share(
        entries=[
            (kind, visit_code, measure, category, value)
            for kind, visit_code, measure, category, value in found["t"]
        ],
        visits=[
            (code, state, staff, late, date.fromisoformat(start), date.fromisoformat(end))
            for code, state, staff, late, start, end in found["v"]
        ],
    )
