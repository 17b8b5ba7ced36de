"""Enrolling a patient: day 0 plus the protocol gives every visit with its target date and window."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from epro.audit import Actor, record
from epro.catalog import sync_protocol
from epro.models import Patient, Visit
from epro.schedule import Protocol, plan_visits


class NotEnrolled(LookupError):
    """The patient does not exist or has no day 0 yet (nothing to summarise, no day 0 to correct)."""


class AlreadyEnrolled(Exception):
    """The patient already has a day 0: it is corrected (epro.followup), not entered again."""


def enrol(db: Session, patient: Patient, protocol: Protocol, day0: date, actor: Actor) -> list[Visit]:
    if patient.procedure_date is not None:
        raise AlreadyEnrolled
    assert patient.id is not None
    # Every row has its id once synced (flushed); the filter only tells the type checker so.
    protocol_visit_ids = {
        code: row.id for code, row in sync_protocol(db, protocol).items() if row.id is not None
    }
    patient.procedure_date, patient.protocol_code, patient.protocol_version = (
        day0,
        protocol.code,
        protocol.version,
    )
    db.add(patient)
    visits = [
        Visit(
            patient_id=patient.id,
            protocol_visit_id=protocol_visit_ids[planned.code],
            code=planned.code,
            number=planned.number,
            study_day=planned.study_day,
            target_date=planned.target_date,
            window_start=planned.window_start,
            window_end=planned.window_end,
            instruments=" ".join(planned.instruments),
        )
        for planned in plan_visits(protocol, day0)
    ]
    db.add_all(visits)
    db.flush()
    record(
        db,
        actor,
        "patient.enrol",
        "patient",
        patient.id,
        field="procedure_date",
        new=day0.isoformat(),
        reason=f"protocol {protocol.code} {protocol.version}",
    )
    return visits
