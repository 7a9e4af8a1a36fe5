"""EventBridge schedule expressions: what EventBridge accepts, and the next run times."""

from __future__ import annotations

from datetime import datetime

import pytest

from planning.schedule_expressions import ScheduleExpressionError, next_runs, runs_per_month, validate


@pytest.mark.parametrize(
    "expression",
    ["rate(1 hour)", "rate(5 minutes)", "rate(7 days)", "cron(0 5 * * ? *)", "cron(15 10 ? * MON-FRI *)", "cron(0/15 * * * ? *)", "cron(0 0 L * ? *)", "cron(0 8 ? * 6#3 *)", "cron(30 2 1,15 JAN,JUL ? 2027-2030)"],
)
def test_valid_expressions(expression: str) -> None:
    validate(expression)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cron(0 5 * * *)", "has 5 fields"),
        ("cron(0 5 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 5 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(60 5 * * ? *)", "minutes value '60'"),
        ("cron(0 24 * * ? *)", "hours value '24'"),
        ("cron(0 5 * 13 ? *)", "month value '13'"),
        ("cron(0 5 ? * FUNDAY *)", "day-of-week"),
        ("cron(0 5 * * ? 1969)", "year value '1969'"),
        ("cron(0 5-3 * * ? *)", "runs backwards"),
        ("rate(1 hours)", "rate(1 hour)"),
        ("rate(2 hour)", "plural"),
        ("rate(0 minutes)", "at least 1"),
        ("every day", "neither rate"),
        ("cron(? 5 * * ? *)", "minutes cannot be '?'"),
    ],
)
def test_invalid_expressions_name_the_problem(expression: str, message: str) -> None:
    with pytest.raises(ScheduleExpressionError) as caught:
        validate(expression)
    assert message in str(caught.value)


def test_next_runs() -> None:
    after = datetime(2026, 11, 22, 15, 30)
    assert next_runs("cron(0 5 * * ? *)", after=after, count=2) == [datetime(2026, 11, 23, 5, 0), datetime(2026, 11, 24, 5, 0)]
    assert next_runs("cron(15 10 ? * MON-FRI *)", after=after, count=1) == [datetime(2026, 11, 23, 10, 15)]  # the 22nd is a Sunday
    assert next_runs("cron(0 0 L * ? *)", after=after, count=2) == [datetime(2026, 11, 30, 0, 0), datetime(2026, 12, 31, 0, 0)]
    assert next_runs("cron(0 8 ? * 6#3 *)", after=after, count=1) == [datetime(2026, 12, 18, 8, 0)]  # third Friday
    assert next_runs("rate(6 hours)", after=after, count=2) == [datetime(2026, 11, 22, 21, 30), datetime(2026, 11, 23, 3, 30)]


@pytest.mark.parametrize(
    ("expression", "runs_a_year"),
    [
        ("cron(0 5 * * ? *)", 365),
        ("cron(0/15 8-9 ? * MON-FRI *)", 261 * 8),  # 261 weekdays from 2026-11-23 to 2027-11-22
        ("cron(0 0 L * ? *)", 12),
        ("cron(0 8 ? * 6#3 *)", 12),
        ("cron(0 1 1 1 ? 2027)", 1),
        ("rate(6 hours)", 1460),
        ("rate(1 day)", 365),
    ],
)
def test_runs_per_month_is_a_twelfth_of_the_next_365_days_runs(expression: str, runs_a_year: int) -> None:
    assert runs_per_month(expression, after=datetime(2026, 11, 22, 15, 30)) == pytest.approx(runs_a_year / 12)
