"""Which dates make sense. Each refusal is a named exception the views turn into a translated message.

- Day 0 lies within a configurable range around today (DAY0_MAX_PAST_DAYS back, DAY0_MAX_FUTURE_DAYS ahead);
  more than DAY0_CONFIRM_DAYS away from today it needs an explicit confirmation.
- A rescheduled visit is never before day 0 (baseline: never before its window), never after its window by more
  than RESCHEDULE_MAX_DAYS_AFTER_WINDOW (a hard bound), and past the next visit's target date only with a
  confirmation and a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any


class DateRuleError(Exception):
    """A date the study cannot use; carries the bounds so the message can name them."""

    def __init__(self, earliest: date | None = None, latest: date | None = None) -> None:
        super().__init__(earliest, latest)
        self.earliest, self.latest = earliest, latest


class DayZeroOutOfRange(DateRuleError):
    """Day 0 outside the range the clinic allows around today."""


class DayZeroNeedsConfirmation(DateRuleError):
    """Day 0 far from today: allowed, but only when the nurse confirms it."""


class RescheduleBeforeDayZero(DateRuleError):
    """A follow-up visit moved before day 0 (or a baseline before its window)."""


class RescheduleTooLate(DateRuleError):
    """A visit moved past the hard bound after its window."""


class ReschedulePastNextVisit(DateRuleError):
    """A visit moved past the next visit's target date without confirmation and reason."""


@dataclass(frozen=True)
class DateLimits:
    day0_max_past_days: int = 365
    day0_max_future_days: int = 90
    day0_confirm_days: int = 30
    reschedule_max_days_after_window: int = 60

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DateLimits:
        return cls(
            day0_max_past_days=int(config.get("DAY0_MAX_PAST_DAYS", cls.day0_max_past_days)),
            day0_max_future_days=int(config.get("DAY0_MAX_FUTURE_DAYS", cls.day0_max_future_days)),
            day0_confirm_days=int(config.get("DAY0_CONFIRM_DAYS", cls.day0_confirm_days)),
            reschedule_max_days_after_window=int(
                config.get("RESCHEDULE_MAX_DAYS_AFTER_WINDOW", cls.reschedule_max_days_after_window)
            ),
        )


def check_day0(day0: date, today: date, limits: DateLimits, *, confirmed: bool) -> None:
    earliest = today - timedelta(days=limits.day0_max_past_days)
    latest = today + timedelta(days=limits.day0_max_future_days)
    if not earliest <= day0 <= latest:
        raise DayZeroOutOfRange(earliest, latest)
    if abs((day0 - today).days) > limits.day0_confirm_days and not confirmed:
        raise DayZeroNeedsConfirmation(
            today - timedelta(days=limits.day0_confirm_days), today + timedelta(days=limits.day0_confirm_days)
        )


def check_reschedule(
    new_date: date,
    *,
    day0: date,
    window_start: date,
    window_end: date,
    next_target: date | None,
    limits: DateLimits,
    confirmed_with_reason: bool,
) -> None:
    earliest = min(day0, window_start)
    latest = window_end + timedelta(days=limits.reschedule_max_days_after_window)
    if new_date < earliest:
        raise RescheduleBeforeDayZero(earliest, latest)
    if new_date > latest:
        raise RescheduleTooLate(earliest, latest)
    if next_target is not None and new_date >= next_target and not confirmed_with_reason:
        raise ReschedulePastNextVisit(earliest, next_target)
