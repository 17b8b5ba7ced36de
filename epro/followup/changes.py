"""Audited changes to a patient's follow-up: correcting day 0, and withdrawing from the study.
Each flushes; the view commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from epro.audit import Actor, record
from epro.enrolment import NotEnrolled
from epro.models import Patient, Visit
from epro.schedule import Protocol, VisitStatus, plan_visits
from epro.visits import VisitRow


class AlreadyWithdrawn(Exception):
    """The patient was already withdrawn from the study."""


class SameDayZero(Exception):
    """The corrected day 0 is the day 0 already recorded."""


class WithdrawalDateOutOfRange(Exception):
    """A withdrawal date in the future, or before the patient's follow-up began."""

    def __init__(self, earliest: date | None, latest: date) -> None:
        super().__init__(earliest, latest)
        self.earliest, self.latest = earliest, latest


@dataclass(frozen=True)
class VisitMove:
    """What correcting day 0 does to one visit."""

    row: VisitRow
    new_target: date
    new_window_start: date
    new_window_end: date
    #: The status the visit would have after the correction (completed visits keep theirs).
    new_status: VisitStatus

    @property
    def moves(self) -> bool:
        return self.new_target != self.row.visit.target_date

    @property
    def status_changes(self) -> bool:
        return self.new_status != self.row.status


def plan_day0_correction(
    rows: list[VisitRow], protocol: Protocol, new_day0: date, today: date
) -> list[VisitMove]:
    """Every visit with its new dates and status; completed visits keep their dates."""
    from epro.schedule import visit_status

    planned = {p.code: p for p in plan_visits(protocol, new_day0)}
    moves = []
    for row in rows:
        visit, plan = row.visit, planned.get(row.visit.code)
        if plan is None or row.status == VisitStatus.COMPLETED:
            moves.append(VisitMove(row, visit.target_date, visit.window_start, visit.window_end, row.status))
            continue
        status = visit_status(
            today=today,
            window_start=plan.window_start,
            window_end=plan.window_end,
            completed=False,
            missed=visit.missed_at is not None,
            withdrawn_on=row.patient.withdrawn_on,
        )
        moves.append(VisitMove(row, plan.target_date, plan.window_start, plan.window_end, status))
    return moves


def correct_day0(
    db: Session, actor: Actor, patient: Patient, moves: list[VisitMove], new_day0: date, reason: str
) -> int:
    """Move day 0 and every visit that is not completed; returns how many visits moved. A rescheduled
    appointment of a moved visit is dropped (it was chosen against the old schedule), audited too."""
    if patient.procedure_date is None:
        raise NotEnrolled
    if patient.procedure_date == new_day0:
        raise SameDayZero
    record(
        db,
        actor,
        "patient.day0_correct",
        "patient",
        patient.id,
        field="procedure_date",
        old=patient.procedure_date.isoformat(),
        new=new_day0.isoformat(),
        reason=reason,
    )
    patient.procedure_date = new_day0
    db.add(patient)
    moved = 0
    for move in moves:
        visit: Visit = move.row.visit
        if not move.moves:
            continue
        record(
            db,
            actor,
            "visit.day0_move",
            "visit",
            visit.id,
            field="target_date",
            old=visit.target_date.isoformat(),
            new=move.new_target.isoformat(),
            reason=reason,
        )
        if visit.scheduled_date is not None:
            record(
                db,
                actor,
                "visit.reschedule",
                "visit",
                visit.id,
                field="scheduled_date",
                old=visit.scheduled_date.isoformat(),
                new=None,
                reason=reason,
            )
        visit.target_date, visit.window_start, visit.window_end = (
            move.new_target,
            move.new_window_start,
            move.new_window_end,
        )
        visit.scheduled_date, visit.reschedule_reason = None, None
        db.add(visit)
        moved += 1
    db.flush()
    return moved


def withdraw(
    db: Session, actor: Actor, patient: Patient, on: date, reason: str, today: date, earliest: date | None
) -> None:
    """Withdraw from the study on a date from `earliest` (the first window's start, if enrolled) to today:
    open visits whose window had not closed by then count as cancelled (see epro.schedule.visit_status)."""
    if patient.withdrawn_on is not None:
        raise AlreadyWithdrawn
    if on > today or (earliest is not None and on < earliest):
        raise WithdrawalDateOutOfRange(earliest, today)
    record(
        db,
        actor,
        "patient.withdraw",
        "patient",
        patient.id,
        field="withdrawn_on",
        old=None,
        new=on.isoformat(),
        reason=reason,
    )
    patient.withdrawn_on, patient.withdrawal_reason = on, reason
    db.add(patient)
    db.flush()
