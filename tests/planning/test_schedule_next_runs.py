"""The next run times the synth summary prints: strictly after the moment given, across minute, hour,
day, month and year edges, for every day form, and within a five-year horizon."""

from __future__ import annotations

from datetime import datetime

import pytest

from planning.schedule_expressions import ScheduleExpressionError, next_runs

SUNDAY = datetime(2026, 11, 22, 15, 30)  # a Sunday afternoon


def test_runs_are_strictly_after_the_moment_and_on_whole_minutes() -> None:
    assert next_runs("cron(30 15 * * ? *)", after=SUNDAY, count=1) == [datetime(2026, 11, 23, 15, 30)]
    assert next_runs("cron(30 15 * * ? *)", after=datetime(2026, 11, 22, 15, 29, 59, 500000), count=1) == [datetime(2026, 11, 22, 15, 30)]


def test_every_minute_crosses_the_hour_day_month_and_year() -> None:
    runs = next_runs("cron(* * * * ? *)", after=datetime(2026, 12, 31, 23, 58, 10), count=3)
    assert runs == [datetime(2026, 12, 31, 23, 59), datetime(2027, 1, 1, 0, 0), datetime(2027, 1, 1, 0, 1)]


def test_the_default_is_three_runs() -> None:
    assert next_runs("cron(0 9,17 * * ? *)", after=SUNDAY) == [datetime(2026, 11, 22, 17, 0), datetime(2026, 11, 23, 9, 0), datetime(2026, 11, 23, 17, 0)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(5/20 * * * ? *)", [datetime(2026, 11, 22, 15, 45), datetime(2026, 11, 22, 16, 5), datetime(2026, 11, 22, 16, 25)]),
        ("cron(1/2 * * * ? *)", [datetime(2026, 11, 22, 15, 31), datetime(2026, 11, 22, 15, 33), datetime(2026, 11, 22, 15, 35)]),
        ("cron(0 1-23/2 * * ? *)", [datetime(2026, 11, 22, 17, 0), datetime(2026, 11, 22, 19, 0), datetime(2026, 11, 22, 21, 0)]),
        ("cron(0 22-23 * * ? *)", [datetime(2026, 11, 22, 22, 0), datetime(2026, 11, 22, 23, 0), datetime(2026, 11, 23, 22, 0)]),
        ("cron(59 23 31 12 ? *)", [datetime(2026, 12, 31, 23, 59), datetime(2027, 12, 31, 23, 59), datetime(2028, 12, 31, 23, 59)]),
    ],
)
def test_steps_ranges_and_the_last_value_of_each_field(expression: str, expected: list[datetime]) -> None:
    assert next_runs(expression, after=SUNDAY, count=3) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("1", datetime(2026, 11, 29, 5, 0)),  # SUN is 1
        ("SUN", datetime(2026, 11, 29, 5, 0)),
        ("2", datetime(2026, 11, 23, 5, 0)),  # MON is 2
        ("7", datetime(2026, 11, 28, 5, 0)),  # SAT is 7
        ("SAT", datetime(2026, 11, 28, 5, 0)),
    ],
)
def test_days_of_the_week_count_from_sunday(day: str, expected: datetime) -> None:
    assert next_runs(f"cron(0 5 ? * {day} *)", after=SUNDAY, count=1) == [expected]


def test_weekdays_skip_the_weekend() -> None:
    friday_evening = datetime(2026, 11, 27, 18, 0)
    assert next_runs("cron(0 8 ? * MON-FRI *)", after=friday_evening, count=2) == [datetime(2026, 11, 30, 8, 0), datetime(2026, 12, 1, 8, 0)]


def test_the_last_day_of_the_month_follows_leap_years() -> None:
    assert next_runs("cron(0 0 L 2 ? *)", after=SUNDAY, count=3) == [datetime(2027, 2, 28), datetime(2028, 2, 29), datetime(2029, 2, 28)]


def test_the_last_weekday_of_the_month() -> None:
    assert next_runs("cron(0 8 ? * 6L *)", after=SUNDAY, count=3) == [datetime(2026, 11, 27, 8, 0), datetime(2026, 12, 25, 8, 0), datetime(2027, 1, 29, 8, 0)]
    assert next_runs("cron(0 8 ? * FRIL *)", after=SUNDAY, count=1) == [datetime(2026, 11, 27, 8, 0)]
    # 30 November 2026 is a Monday, and so is the 23rd, a week before: only the 30th is the last one.
    assert next_runs("cron(0 8 ? * 2L *)", after=SUNDAY, count=1) == [datetime(2026, 11, 30, 8, 0)]


def test_the_nth_weekday_of_the_month() -> None:
    assert next_runs("cron(0 8 ? * FRI#5 *)", after=SUNDAY, count=1) == [datetime(2027, 1, 29, 8, 0)]  # November and December have four Fridays
    assert next_runs("cron(0 8 ? * 2#1 *)", after=SUNDAY, count=2) == [datetime(2026, 12, 7, 8, 0), datetime(2027, 1, 4, 8, 0)]


def test_nearest_weekday_forms_have_no_run_shown() -> None:
    """``15W`` depends on where weekends fall; the summary shows no time rather than a guess."""
    assert next_runs("cron(0 0 15W * ? *)", after=SUNDAY) == []
    assert next_runs("cron(0 0 LW * ? *)", after=SUNDAY) == []


def test_a_year_field_limits_the_runs() -> None:
    assert next_runs("cron(0 0 1 1 ? 2028)", after=SUNDAY) == [datetime(2028, 1, 1)]


def test_runs_are_looked_for_5_times_366_days_ahead() -> None:
    # 1,830 days after 22 November 2026 15:30 is 26 November 2031 15:30: a run then is beyond the horizon.
    assert next_runs("cron(29 15 26 11 ? 2031)", after=SUNDAY) == [datetime(2031, 11, 26, 15, 29)]
    assert next_runs("cron(30 15 26 11 ? 2031)", after=SUNDAY) == []


def test_runs_are_looked_for_five_years_ahead() -> None:
    # 29 February: 2028 lies within five years of November 2026, 2032 beyond.
    assert next_runs("cron(0 0 29 2 ? *)", after=SUNDAY) == [datetime(2028, 2, 29)]
    assert next_runs("cron(0 0 30 2 ? *)", after=SUNDAY) == []
    assert next_runs("cron(0 0 1 1 ? *)", after=SUNDAY) == [datetime(2027, 1, 1), datetime(2028, 1, 1), datetime(2029, 1, 1)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rate(1 day)", [datetime(2026, 11, 23, 15, 30), datetime(2026, 11, 24, 15, 30), datetime(2026, 11, 25, 15, 30)]),
        ("rate(2 minutes)", [datetime(2026, 11, 22, 15, 32), datetime(2026, 11, 22, 15, 34), datetime(2026, 11, 22, 15, 36)]),
        ("rate(1 hour)", [datetime(2026, 11, 22, 16, 30), datetime(2026, 11, 22, 17, 30), datetime(2026, 11, 22, 18, 30)]),
        ("rate(3 days)", [datetime(2026, 11, 25, 15, 30), datetime(2026, 11, 28, 15, 30), datetime(2026, 12, 1, 15, 30)]),
    ],
)
def test_rates_count_from_the_moment(expression: str, expected: list[datetime]) -> None:
    assert next_runs(expression, after=SUNDAY) == expected


def test_an_invalid_expression_has_no_runs_but_its_refusal() -> None:
    with pytest.raises(ScheduleExpressionError, match="'cron\\(0 5 \\* \\* \\* \\*\\)': exactly one of day-of-month and day-of-week"):
        next_runs("cron(0 5 * * * *)", after=SUNDAY)
