"""The nurse's clinic list: what is due now, what is overdue, and what comes up in the next 14 days.

Each section is one bounded query on indexed dates, showing at most SHOWN visits with a count capped just
above that, so the page's cost follows what a nurse can act on today, not the size of the study.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from epro.capped import Capped
from epro.models import ProtocolVisit
from epro.schedule import Protocol
from epro.study.review import ReviewList, needs_review
from epro.visits import VisitFilter, VisitRow, visit_rows

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


def _section(db: Session, today: date, *parts: VisitFilter, newest_window_first: bool = False) -> Section:
    """The parts' visits, one query each, in order: every visit of a part comes before the next part's.
    A row past SHOWN says "more" without counting them."""
    rows: list[VisitRow] = []
    for which in parts:
        rows += visit_rows(
            db, today, which, limit=SHOWN + 1 - len(rows), newest_window_first=newest_window_first
        )
        if len(rows) > SHOWN:
            break
    return Section(rows[:SHOWN], len(rows))


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
    # In appointment order, the due visits rescheduled to before the earliest open window come first; the
    # rest have their appointment in [opened_since, today], a range the appointment index reads in order.
    due_rescheduled_early = replace(due, appointment_before=opened_since, rescheduled_only=True)
    due_in_range = replace(due, appointment_from=opened_since)
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
        due=_section(db, today, due_rescheduled_early, due_in_range),
        overdue=_section(db, today, overdue, newest_window_first=True),
        upcoming=_section(db, today, upcoming),
        needs_review=None if protocol is None else needs_review(db, protocol),
    )
