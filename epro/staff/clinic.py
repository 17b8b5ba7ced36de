"""The nurse's clinic list: what is due now, what is overdue, and what comes up in the next 14 days.

Each section is one bounded query on indexed dates, showing at most SHOWN visits with a count capped just
above that, so the page's cost follows what a nurse can act on today, not the size of the study.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from epro.capped import Capped
from epro.models import ProtocolVisit
from epro.schedule import Protocol
from epro.study.review import ReviewList, needs_review
from epro.visits import VisitFilter, VisitRow, count_visits, visit_rows

LOOKAHEAD_DAYS = 14
SHOWN = 50


#: A section's first SHOWN visits, and how many it holds counted up to SHOWN + 1.
Section = Capped[VisitRow]


@dataclass(frozen=True)
class ClinicList:
    today: date
    due: Section
    overdue: Section
    upcoming: Section
    #: Submitted visits whose change from baseline reached the protocol's threshold downward, not yet
    #: acknowledged by a nurse (epro.study.review).
    needs_review: ReviewList | None = None


def _section(db: Session, today: date, which: VisitFilter, newest_window_first: bool = False) -> Section:
    rows = visit_rows(db, today, which, limit=SHOWN, newest_window_first=newest_window_first)
    count = len(rows) if len(rows) < SHOWN else count_visits(db, which, cap=SHOWN + 1)
    return Section(rows, count)


def widest_window_days(db: Session) -> int:
    """The widest visit window of any protocol in use (baseline: 14 days before day 0)."""
    widest = db.exec(select(func.max(ProtocolVisit.window_before + ProtocolVisit.window_after))).one()
    return int(widest or 0)


def clinic_list(db: Session, today: date, protocol: Protocol | None = None) -> ClinicList:
    """The day's sections; with the site's protocol, also the visits that need review."""
    horizon = today + timedelta(days=LOOKAHEAD_DAYS)
    opened_since = today - timedelta(days=widest_window_days(db))
    due = VisitFilter(
        window_from=today,
        window_to=today,
        window_start_from=opened_since,
        appointment_until=today,
        open_only=True,
        active_patients_only=True,
    )
    upcoming = VisitFilter(
        window_from=today,
        window_to=horizon,
        window_start_from=opened_since,
        appointment_after=today,
        appointment_until=horizon,
        open_only=True,
        active_patients_only=True,
    )
    overdue = VisitFilter(window_closed_before=today, open_only=True, active_patients_only=True)
    return ClinicList(
        today,
        due=_section(db, today, due),
        overdue=_section(db, today, overdue, newest_window_first=True),
        upcoming=_section(db, today, upcoming),
        needs_review=None if protocol is None else needs_review(db, protocol),
    )
