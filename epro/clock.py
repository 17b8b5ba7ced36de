"""The clinic's calendar: 'today' is a date in the clinic's time zone, not the server's."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from epro.models import utcnow


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["CLINIC_TIMEZONE"])


def clinic_today() -> date:
    return utcnow().astimezone(clinic_zone()).date()


def to_clinic_time(moment: datetime) -> datetime:
    return moment.astimezone(clinic_zone())
