"""Protocols defined as data, and the schedule arithmetic: day 0 + protocol -> visits. No Flask here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from epro.codes import VisitStatus as VisitStatus  # re-exported: the schedule derives it
from epro.text import Text

PROTOCOLS = Path(__file__).parent / "protocols"


@dataclass(frozen=True, slots=True)
class ProtocolVisit:
    code: str
    number: int
    label: Text
    day: int
    window_before: int
    window_after: int
    instruments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Protocol:
    code: str
    version: str
    name: Text
    visits: tuple[ProtocolVisit, ...]
    #: Change from baseline that counts as meaningful, per measure (a convention, not a clinical judgement).
    thresholds: dict[str, int]
    #: The clinical measure set ("code-version", e.g. "liver-1.0") collected at the visits, if any.
    measure_set: str | None = None
    #: Child-Pugh coagulation criteria in order of preference (measure codes: INR, else PT activity).
    child_pugh_coagulation: tuple[str, ...] = ("INR", "PT")
    #: What is entered once at enrolment, as written in the file (typed by epro.clinical.characteristics).
    baseline_characteristics: tuple[dict[str, Any], ...] = field(default=(), hash=False, compare=False)

    def visit(self, code: str) -> ProtocolVisit:
        return next(v for v in self.visits if v.code == code)


@cache
def load_protocol(code: str, version: str | None = None, directory: Path = PROTOCOLS) -> Protocol:
    """A protocol by code; the newest version unless one is named."""
    candidates = []
    for path in directory.glob(f"{code}-*.json"):
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw["code"] == code and (version is None or raw["version"] == version):
            candidates.append(raw)
    if not candidates:
        raise KeyError(f"protocol {code} {version or ''}".strip())
    raw = max(candidates, key=lambda r: tuple(int(p) for p in r["version"].split(".")))
    visits = tuple(
        ProtocolVisit(
            code=v["code"],
            number=number,
            label=Text.parse(v["label"], f"{code} {v['code']}"),
            day=int(v["day"]),
            window_before=int(v["window_before"]),
            window_after=int(v["window_after"]),
            instruments=tuple(v["instruments"]),
        )
        for number, v in enumerate(raw["visits"], start=1)
    )
    return Protocol(
        code=raw["code"],
        version=raw["version"],
        name=Text.parse(raw["name"], code),
        visits=visits,
        thresholds={k: int(v) for k, v in raw["thresholds"].items()},
        measure_set=raw.get("measure_set"),
        child_pugh_coagulation=tuple(raw.get("child_pugh", {}).get("coagulation", ("INR", "PT"))),
        baseline_characteristics=tuple(raw.get("baseline_characteristics", ())),
    )


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    code: str
    number: int
    study_day: int
    target_date: date
    window_start: date
    window_end: date
    instruments: tuple[str, ...]


def plan_visits(protocol: Protocol, day0: date) -> list[PlannedVisit]:
    """Every visit of the protocol with its target date and window, counted in days from day 0."""
    return [
        PlannedVisit(
            code=v.code,
            number=v.number,
            study_day=v.day,
            target_date=day0 + timedelta(days=v.day),
            window_start=day0 + timedelta(days=v.day - v.window_before),
            window_end=day0 + timedelta(days=v.day + v.window_after),
            instruments=v.instruments,
        )
        for v in protocol.visits
    ]


def visit_status(
    *,
    today: date,
    window_start: date,
    window_end: date,
    completed: bool,
    missed: bool,
    withdrawn_on: date | None = None,
) -> VisitStatus:
    """Derived, never stored: data wins over a missed mark, which wins over a withdrawal (open visits
    whose window had not closed by the withdrawal date are cancelled), which wins over the calendar."""
    if completed:
        return VisitStatus.COMPLETED
    if missed:
        return VisitStatus.MISSED
    if withdrawn_on is not None and window_end >= withdrawn_on:
        return VisitStatus.CANCELLED
    if today < window_start:
        return VisitStatus.UPCOMING
    if today <= window_end:
        return VisitStatus.DUE
    return VisitStatus.OVERDUE


def study_day(day0: date, on: date) -> int:
    """Days from day 0 (the procedure date is day 0, the day before is -1)."""
    return (on - day0).days


def days_outside_window(on: date, window_start: date, window_end: date) -> int:
    """0 inside the window; otherwise how many days before (negative) or after (positive) it."""
    if on < window_start:
        return (on - window_start).days
    if on > window_end:
        return (on - window_end).days
    return 0
