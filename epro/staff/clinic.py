"""The nurse's clinic list: what is due now, what is overdue, and what comes up in the next 14 days.

Every query is bounded by indexed window dates and keeps only open visits, so its cost follows the day's
clinic, not the size of the study.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from epro.schedule import VisitStatus
from epro.visits import VisitRow, visit_rows

LOOKAHEAD_DAYS = 14
OVERDUE_SHOWN = 100


@dataclass(frozen=True)
class ClinicList:
    today: date
    due: list[VisitRow]
    overdue: list[VisitRow]
    upcoming: list[VisitRow]


def clinic_list(db: Session, today: date) -> ClinicList:
    horizon = today + timedelta(days=LOOKAHEAD_DAYS)
    current = visit_rows(db, today, window_from=today, window_to=horizon, open_only=True)
    # One pass: `row not in due` compared every model field of every pair, quadratic in the rows shown.
    due: list[VisitRow] = []
    upcoming: list[VisitRow] = []
    for row in current:
        if row.status == VisitStatus.DUE and row.visit.appointment_date <= today:
            due.append(row)
        elif today < row.visit.appointment_date <= horizon:
            upcoming.append(row)
    overdue = visit_rows(db, today, window_closed_before=today, open_only=True, limit=OVERDUE_SHOWN)
    due.sort(key=lambda r: (r.visit.appointment_date, r.patient.study_id))
    upcoming.sort(key=lambda r: (r.visit.appointment_date, r.patient.study_id))
    return ClinicList(today, due, overdue, upcoming)
