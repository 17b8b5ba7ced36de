"""A large synthetic study, made fast with bulk inserts, for benchmarks (exports, reports, pages).

    python -m bench.generate_study --patients 10000 --database-url sqlite:////tmp/big.sqlite3

or, from Python (no Flask app needed): ``generate(make_engine(url), patients=10_000)``.

Every patient is enrolled on the default protocol (9 visits, 3 items each) with day 0 spread over the last
400 days and the next 10, so the study holds every visit status. A visit whose window has closed was
completed (85 %), marked missed by a nurse with a reason (8 %) or left overdue with no data (7 %); a visit
whose window is open was completed half of the time; later visits are upcoming. 5 % of completed visits were
entered by staff on the patient's behalf. The audit trail gets one event per enrolment, submission and missed
mark, hash-chained like the real ones. Rows go in with executemany, a batch of patients at a time, so memory
stays small; the database schema is migrated first if needed. Calling it again adds more patients.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Date, DateTime, Engine, Numeric, Table, func, insert
from sqlmodel import Session, select

from epro import instruments, migrate
from epro.audit import GENESIS, row_hash
from epro.catalog import sync_instruments, sync_measure_sets, sync_protocol
from epro.clinical.measures import MeasureSet, measure_set_for
from epro.db import make_engine
from epro.models import (
    AuditEvent,
    ClinicalValue,
    Patient,
    QuestionnaireSession,
    Response,
    StaffUser,
    UTCDateTime,
    Visit,
)
from epro.schedule import PlannedVisit, Protocol, load_protocol, plan_visits

CLINIC_ZONE = ZoneInfo("Asia/Seoul")
PATIENTS_PER_BATCH = 1000
BENCH_NURSE = "bench-nurse"
MISSED_REASONS = (
    "Admitted to another hospital",
    "Too unwell to travel",
    "Could not be reached",
    "Withdrew consent for the visit",
)
STAFF_REASON = "Patient could not use the tablet"


@dataclass
class GeneratedStudy:
    patients: int = 0
    visits: int = 0
    responses: int = 0
    clinical_values: int = 0
    audit_events: int = 0
    seconds: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)


@dataclass
class _Ids:
    """The next free primary key of each table we insert into (ids are assigned here, not by the database)."""

    patient: int
    visit: int
    session: int
    response: int
    audit: int
    last_hash: str
    clinical: int = 1

    @classmethod
    def after_existing(cls, connection: Connection) -> _Ids:
        def next_id(table) -> int:  # type: ignore[no-untyped-def]
            return (connection.execute(select(func.max(table.c.id))).scalar() or 0) + 1

        last = connection.execute(
            select(AuditEvent.__table__.c.hash).order_by(AuditEvent.__table__.c.id.desc()).limit(1)  # type: ignore[attr-defined]
        ).scalar()
        return cls(
            patient=next_id(Patient.__table__),  # type: ignore[attr-defined]
            visit=next_id(Visit.__table__),  # type: ignore[attr-defined]
            session=next_id(QuestionnaireSession.__table__),  # type: ignore[attr-defined]
            response=next_id(Response.__table__),  # type: ignore[attr-defined]
            audit=next_id(AuditEvent.__table__),  # type: ignore[attr-defined]
            last_hash=last or GENESIS,
            clinical=next_id(ClinicalValue.__table__),  # type: ignore[attr-defined]
        )


def study_id(index: int) -> str:
    """GA-0000 ... GA-9999, GB-0000 ...: unique, and matching the default study ID pattern."""
    block, number = divmod(index, 10_000)
    return f"G{chr(ord('A') + block // 26)}{chr(ord('A') + block % 26)}-{number:04d}"


def _moment(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, clock_time(hour, minute), CLINIC_ZONE).astimezone(UTC)


def _native(value: object, sqlite: bool) -> object:
    """A date or aware datetime as the database stores it (naive UTC; text on SQLite, as SQLAlchemy writes it)."""
    if isinstance(value, datetime):
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else naive
    if isinstance(value, date) and sqlite:
        return value.isoformat()
    if isinstance(value, Decimal) and sqlite:
        return float(value)  # as SQLAlchemy binds Numeric on SQLite
    return value


def _bulk_insert(connection: Connection, table: Table, rows: list[dict[str, object]]) -> None:
    """executemany straight through the driver: SQLAlchemy's per-value processing costs more than the insert."""
    marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(connection.dialect.paramstyle)
    if marker is None:
        connection.execute(insert(table), rows)
        return
    sqlite = connection.dialect.name == "sqlite"
    columns = list(rows[0])
    temporal = [
        name for name in columns if isinstance(table.c[name].type, Date | DateTime | UTCDateTime | Numeric)
    ]
    for row in rows:
        for name in temporal:
            row[name] = _native(row[name], sqlite)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(marker for _ in columns)})"
    connection.exec_driver_sql(sql, [tuple(row[name] for name in columns) for row in rows])


def _advance_sequences(connection: Connection) -> None:
    """Ids were given explicitly: move PostgreSQL's id sequences past them, or the app's next insert collides."""
    if connection.dialect.name != "postgresql":
        return
    for table in _TABLES.values():
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))"
        )


Items = dict[str, list[tuple[str, str, str, tuple[int, ...]]]]
_TABLES = {
    "patient": Patient.__table__,  # type: ignore[attr-defined]
    "visit": Visit.__table__,  # type: ignore[attr-defined]
    "questionnaire_session": QuestionnaireSession.__table__,  # type: ignore[attr-defined]
    "response": Response.__table__,  # type: ignore[attr-defined]
    "audit_event": AuditEvent.__table__,  # type: ignore[attr-defined]
    "clinical_value": ClinicalValue.__table__,  # type: ignore[attr-defined]
}


@dataclass
class _Generator:
    """Builds the rows of a batch of patients; ids and the audit chain carry over from batch to batch."""

    rng: random.Random
    ids: _Ids
    protocol: Protocol
    protocol_visits: dict[str, int]
    items: Items
    nurse_id: int
    today: date
    #: With a measure set: every completed visit also gets a plausible value of each measure it collects.
    clinical: MeasureSet | None = None
    result: GeneratedStudy = field(default_factory=GeneratedStudy)
    rows: dict[str, list[dict[str, object]]] = field(default_factory=lambda: {t: [] for t in _TABLES})

    def flush(self, connection: Connection) -> None:
        for table, rows in self.rows.items():
            if rows:
                _bulk_insert(connection, _TABLES[table], rows)
                rows.clear()

    def audit(self, at: datetime, action: str, entity: str, entity_id: int, **fields: str | None) -> None:
        event = SimpleNamespace(
            id=self.ids.audit,
            at=at,
            actor_type="system",
            actor_id=None,
            actor_name="bench",
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            field=fields.get("field"),
            old_value=None,
            new_value=fields.get("new"),
            reason=fields.get("reason"),
            prev_hash=self.ids.last_hash,
            hash="",
        )
        event.hash = row_hash(event)  # type: ignore[arg-type]
        self.ids.last_hash = event.hash
        self.ids.audit += 1
        self.result.audit_events += 1
        self.rows["audit_event"].append(vars(event))

    def patient(self, index: int) -> None:
        rng, ids = self.rng, self.ids
        patient_id = ids.patient
        ids.patient += 1
        language = "ko" if rng.random() < 0.8 else "en"
        day0 = self.today - timedelta(days=rng.randint(-10, 540))
        enrolled_at = _moment(day0 - timedelta(days=15), 9, 0)
        self.rows["patient"].append(
            {
                "id": patient_id,
                "study_id": study_id(index),
                "birth_year": rng.randint(1940, 1985),
                "sex": rng.choice("MF"),
                "preferred_language": language,
                "procedure_date": day0,
                "protocol_code": self.protocol.code,
                "protocol_version": self.protocol.version,
                "created_at": enrolled_at,
            }
        )
        self.audit(
            enrolled_at, "patient.enrol", "patient", patient_id, field="procedure_date", new=day0.isoformat()
        )
        self.result.patients += 1
        for planned in plan_visits(self.protocol, day0):
            self.visit(patient_id, planned, language)

    def visit(self, patient_id: int, planned: PlannedVisit, language: str) -> None:
        visit_id = self.ids.visit
        self.ids.visit += 1
        visit: dict[str, object] = {
            "id": visit_id,
            "patient_id": patient_id,
            "protocol_visit_id": self.protocol_visits[planned.code],
            "code": planned.code,
            "number": planned.number,
            "study_day": planned.study_day,
            "target_date": planned.target_date,
            "window_start": planned.window_start,
            "window_end": planned.window_end,
            "instruments": " ".join(planned.instruments),
            "scheduled_date": None,
            "actual_date": None,
            "missed_reason": None,
            "missed_at": None,
            "reschedule_reason": None,
        }
        self.rows["visit"].append(visit)
        self.result.visits += 1
        roll = self.rng.random()
        if planned.window_end < self.today:
            outcome = "completed" if roll < 0.85 else "missed" if roll < 0.93 else "overdue"
        elif planned.window_start <= self.today:
            outcome = "completed" if roll < 0.5 else "due"
        else:
            outcome = "upcoming"
        self.result.by_status[outcome] = self.result.by_status.get(outcome, 0) + 1
        if outcome == "missed":
            reason = self.rng.choice(MISSED_REASONS)
            missed_at = _moment(planned.window_end, 17, 0)
            visit["missed_reason"], visit["missed_at"] = reason, missed_at
            self.audit(missed_at, "visit.missed", "visit", visit_id, new="missed", reason=reason)
        elif outcome == "completed":
            self.answers(visit, planned, language)

    def answers(self, visit: dict[str, object], planned: PlannedVisit, language: str) -> None:
        rng, ids = self.rng, self.ids
        latest = min(planned.window_end, self.today)
        actual = planned.window_start + timedelta(days=rng.randint(0, (latest - planned.window_start).days))
        visit["actual_date"] = actual
        submitted = _moment(actual, rng.randint(9, 16), rng.randint(0, 59))
        entered_by = "staff" if rng.random() < 0.05 else "patient"
        session_id = ids.session
        ids.session += 1
        self.rows["questionnaire_session"].append(
            {
                "id": session_id,
                "token": f"bench-{session_id}",
                "visit_id": visit["id"],
                "state": "submitted",
                "entered_by": entered_by,
                "staff_reason": STAFF_REASON if entered_by == "staff" else None,
                "language": language,
                "started_by_id": self.nurse_id,
                "started_at": submitted - timedelta(minutes=4),
                "last_activity_at": submitted,
                "submitted_at": submitted,
            }
        )
        for code in planned.instruments:
            for instrument_code, version, item_code, values in self.items[code]:
                self.rows["response"].append(
                    {
                        "id": ids.response,
                        "visit_id": visit["id"],
                        "session_id": session_id,
                        "instrument_code": instrument_code,
                        "instrument_version": version,
                        "item_code": item_code,
                        "value": rng.choice(values),
                        "language": language,
                        "entered_by": entered_by,
                        "answered_at": submitted - timedelta(minutes=1),
                        "submitted_at": submitted,
                        "assessment_date": actual,
                        "corrected_at": None,
                        "correction_reason": None,
                    }
                )
                ids.response += 1
                self.result.responses += 1
        self.audit(submitted, "session.submit", "questionnaire_session", session_id, new="submitted")
        if self.clinical is not None:
            self.clinical_values(visit, planned, actual, submitted)

    def clinical_values(
        self, visit: dict[str, object], planned: PlannedVisit, actual: date, entered: datetime
    ) -> None:
        """A value of every measure collected at the visit, inside its plausible range (not audited: the
        generated trail holds enrolments, submissions and missed marks only)."""
        assert self.clinical is not None
        for measure in self.clinical.for_visit(planned.code):
            number, code = None, None
            if measure.is_number and measure.plausible is not None:
                low, high = (float(bound) for bound in measure.plausible)
                middle, spread = (low + high) / 2, (high - low) / 6
                drawn = min(high, max(low, self.rng.gauss(middle, spread)))
                number = Decimal(f"{drawn:.{measure.decimals}f}")
            else:
                code = self.rng.choice(measure.options).code
            self.rows["clinical_value"].append(
                {
                    "id": self.ids.clinical,
                    "visit_id": visit["id"],
                    "measure_code": measure.code,
                    "measure_set": self.clinical.key,
                    "value_number": number,
                    "value_code": code,
                    "unit": measure.unit,
                    "sample_date": actual,
                    "out_of_range": False,
                    "entered_by_id": self.nurse_id,
                    "entered_at": entered,
                    "corrected_at": None,
                    "correction_reason": None,
                }
            )
            self.ids.clinical += 1
            self.result.clinical_values += 1


def generate(
    engine: Engine,
    patients: int = 10_000,
    *,
    seed: int = 20240601,
    today: date | None = None,
    protocol_code: str = "default",
    clinical: bool = False,
) -> GeneratedStudy:
    """Add `patients` enrolled patients with their visits, answers and audit events to the database."""
    started = time.perf_counter()
    protocol = load_protocol(protocol_code)
    migrate.upgrade(engine)
    with Session(engine, expire_on_commit=False) as db:
        sync_instruments(db)
        sync_measure_sets(db)
        protocol_visits = {code: row.id for code, row in sync_protocol(db, protocol).items()}
        nurse = db.exec(select(StaffUser).where(StaffUser.username == BENCH_NURSE)).first()
        if nurse is None:
            nurse = StaffUser(username=BENCH_NURSE, password_hash="!no-sign-in", role="nurse")
            db.add(nurse)
        db.commit()
    due_codes = sorted({code for visit in protocol.visits for code in visit.instruments})
    items: Items = {
        code: [
            (instrument.code, instrument.version, item.code, tuple(o.value for o in item.options))
            for item in instrument.items
        ]
        for code, instrument in ((c, instruments.current(c)) for c in due_codes)
    }
    with engine.begin() as connection:
        ids = _Ids.after_existing(connection)
        generator = _Generator(
            random.Random(seed),
            ids,
            protocol,
            protocol_visits,  # type: ignore[arg-type]
            items,
            nurse.id,  # type: ignore[arg-type]
            today or datetime.now(CLINIC_ZONE).date(),
            clinical=measure_set_for(protocol) if clinical and protocol.measure_set else None,
        )
        first_index = ids.patient - 1
        for index in range(first_index, first_index + patients):
            generator.patient(index)
            if (index - first_index + 1) % PATIENTS_PER_BATCH == 0:
                generator.flush(connection)
        generator.flush(connection)
        _advance_sequences(connection)
    result = generator.result
    result.seconds = time.perf_counter() - started
    return result


def _rows_per_table(result: GeneratedStudy) -> Iterator[str]:
    yield f"patients {result.patients:,}"
    yield f"visits {result.visits:,} ({', '.join(f'{k} {v:,}' for k, v in sorted(result.by_status.items()))})"
    yield f"answers {result.responses:,}"
    yield f"clinical values {result.clinical_values:,}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--clinical", action="store_true", help="also clinical values at completed visits")
    args = parser.parse_args(argv)
    engine = make_engine(args.database_url)
    try:
        result = generate(engine, args.patients, seed=args.seed, clinical=args.clinical)
    finally:
        engine.dispose()
    print(f"Generated in {result.seconds:.1f} s: " + "; ".join(_rows_per_table(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
