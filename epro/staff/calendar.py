"""An iCalendar file of a patient's visits still to come, for the clinic's calendar."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from icalendar import Calendar, Event

from epro.models import Patient, utcnow
from epro.schedule import VisitStatus
from epro.templating import visit_label
from epro.visits import VisitRow


def patient_calendar(patient: Patient, rows: list[VisitRow], today: date) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//epro//visit schedule//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"epro {patient.study_id}")
    stamp = utcnow()
    for row in rows:
        if row.status not in (VisitStatus.UPCOMING, VisitStatus.DUE) or row.visit.appointment_date < today:
            continue
        visit = row.visit
        event = Event()
        event.add("uid", f"epro-visit-{visit.id}")
        event.add("dtstamp", stamp)
        event.add("dtstart", visit.appointment_date)
        event.add("dtend", visit.appointment_date + timedelta(days=1))
        event.add("summary", f"{patient.study_id} · {visit_label(visit)}")
        event.add(
            "description",
            _(
                "Window: %(start)s to %(end)s",
                start=visit.window_start.isoformat(),
                end=visit.window_end.isoformat(),
            ),
        )
        calendar.add_component(event)
    return calendar.to_ical()
