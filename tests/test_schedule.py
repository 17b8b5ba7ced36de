"""Schedule arithmetic: day 0, windows, month boundaries and the status on each boundary day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from epro.schedule import (
    VisitStatus,
    days_outside_window,
    load_protocol,
    plan_visits,
    study_day,
    visit_status,
)

PROTOCOL = load_protocol("default")


def test_default_protocol_has_nine_visits_with_the_brief_s_days_and_windows():
    planned = [(v.code, v.day, v.window_before, v.window_after) for v in PROTOCOL.visits]
    assert planned == [
        ("BL", 0, 14, 0),
        ("W1", 7, 2, 2),
        ("W2", 14, 2, 2),
        ("M1", 30, 7, 7),
        ("M2", 60, 7, 7),
        ("M3", 90, 7, 7),
        ("M4", 120, 7, 7),
        ("M5", 150, 7, 7),
        ("M6", 180, 7, 7),
    ]
    assert all(v.instruments == ("PS", "WB", "QOL") for v in PROTOCOL.visits)
    assert PROTOCOL.thresholds == {"PS": 10, "WB": 1, "QOL": 1}


def test_visits_count_days_from_day0_across_month_ends_and_leap_day():
    day0 = date(2024, 1, 31)  # 2024 is a leap year
    visits = {v.code: v for v in plan_visits(PROTOCOL, day0)}
    assert visits["BL"].target_date == day0
    assert (visits["BL"].window_start, visits["BL"].window_end) == (date(2024, 1, 17), day0)
    assert visits["W1"].target_date == date(2024, 2, 7)
    assert (visits["W2"].window_start, visits["W2"].window_end) == (date(2024, 2, 12), date(2024, 2, 16))
    assert visits["M1"].target_date == date(2024, 3, 1)  # 30 days, through 29 February
    assert visits["M1"].window_start == date(2024, 2, 23)
    assert visits["M6"].target_date == date(2024, 7, 29)
    assert visits["M6"].window_end == date(2024, 8, 5)
    assert [v.number for v in visits.values()] == list(range(1, 10))


def test_non_leap_year_shifts_month_one_by_a_day():
    assert {v.code: v for v in plan_visits(PROTOCOL, date(2023, 1, 31))}["M1"].target_date == date(2023, 3, 2)


def test_year_end_crossing():
    visits = {v.code: v for v in plan_visits(PROTOCOL, date(2025, 12, 20))}
    assert visits["W2"].target_date == date(2026, 1, 3)
    assert visits["BL"].window_start == date(2025, 12, 6)


def test_study_day_counts_day0_as_zero():
    day0 = date(2026, 3, 1)
    assert study_day(day0, day0) == 0
    assert study_day(day0, date(2026, 2, 28)) == -1
    assert study_day(day0, date(2026, 3, 31)) == 30


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-1, VisitStatus.UPCOMING),  # the day before the window opens
        (0, VisitStatus.DUE),  # the first day of the window
        (2, VisitStatus.DUE),
        (4, VisitStatus.DUE),  # the last day of the window
        (5, VisitStatus.OVERDUE),  # the day after it closes
    ],
)
def test_status_on_each_boundary_day(offset, expected):
    start, end = date(2026, 5, 5), date(2026, 5, 9)
    today = start + timedelta(days=offset)
    assert (
        visit_status(today=today, window_start=start, window_end=end, completed=False, missed=False)
        == expected
    )


def test_completed_and_missed_win_over_the_calendar():
    start, end = date(2026, 5, 5), date(2026, 5, 9)
    for today in (date(2026, 5, 1), date(2026, 5, 6), date(2026, 6, 1)):
        assert visit_status(
            today=today, window_start=start, window_end=end, completed=True, missed=False
        ) == (VisitStatus.COMPLETED)
        assert visit_status(
            today=today, window_start=start, window_end=end, completed=False, missed=True
        ) == (VisitStatus.MISSED)


def test_days_outside_window():
    start, end = date(2026, 5, 5), date(2026, 5, 9)
    assert days_outside_window(date(2026, 5, 7), start, end) == 0
    assert days_outside_window(date(2026, 5, 3), start, end) == -2
    assert days_outside_window(date(2026, 5, 12), start, end) == 3
