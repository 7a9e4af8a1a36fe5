"""EventBridge schedule expressions: validation at synth, the next run times and runs per month.

EventBridge accepts ``rate(N unit)`` and six-field ``cron(min hour day-of-month month day-of-week year)``
where exactly one of day-of-month and day-of-week is ``?``. A bad expression would otherwise only
fail at deploy time, after the stacks before it have changed.
"""

from __future__ import annotations

import calendar
import itertools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterator

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_MONTHS = {name: i for i, name in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
_RATE_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
YEAR_SECONDS = 365 * 86400
_DAYS = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}


class ScheduleExpressionError(ValueError):
    """An expression EventBridge would refuse; the message says which part and why."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]
    extra: str  # characters allowed beyond digits, ',', '-', '*', '/'


_FIELDS = (
    _Field("minutes", 0, 59, {}, ""),
    _Field("hours", 0, 23, {}, ""),
    _Field("day-of-month", 1, 31, {}, "?LW"),
    _Field("month", 1, 12, _MONTHS, ""),
    _Field("day-of-week", 1, 7, _DAYS, "?L#"),
    _Field("year", 1970, 2199, {}, ""),
)


def _value(field: _Field, token: str) -> int:
    number = field.names.get(token.upper()) if not token.isdigit() else int(token)
    if number is None or not field.low <= number <= field.high:
        raise ScheduleExpressionError(f"{field.name} value {token!r} is outside {field.low}-{field.high}")
    return number


def _expand(field: _Field, text: str) -> set[int] | None:
    """The values a field allows; None for '?', and for day fields using L, W or # (checked, not expanded)."""
    if text == "?":
        if "?" not in field.extra:
            raise ScheduleExpressionError(f"{field.name} cannot be '?'")
        return None
    if field.name == "day-of-month" and re.fullmatch(r"L|LW|\d{1,2}W", text):
        if text not in ("L", "LW"):
            _value(field, text[:-1])
        return None
    if field.name == "day-of-week" and re.fullmatch(r"[1-7A-Za-z]{1,3}(L|#[1-5])", text):
        _value(field, text.split("#")[0].rstrip("L"))
        return None
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleExpressionError(f"{field.name} step {step_text!r} must be a positive integer")
            step = int(step_text)
        if part == "*":
            low, high = field.low, field.high
        elif "-" in part:
            first, last = part.split("-", 1)
            low, high = _value(field, first), _value(field, last)
            if low > high:
                raise ScheduleExpressionError(f"{field.name} range {part!r} runs backwards")
        elif part:
            low = _value(field, part)
            high = field.high if step > 1 else low
        else:
            raise ScheduleExpressionError(f"{field.name} {text!r} has an empty part")
        values.update(range(low, high + 1, step))
    return values


def validate(expression: str) -> None:
    """Raise ScheduleExpressionError unless EventBridge accepts ``expression``."""
    if not isinstance(expression, str):
        raise ScheduleExpressionError(f"expression {expression!r} is not a string")
    rate = _RATE.match(expression)
    if rate:
        count, unit = int(rate.group(1)), rate.group(2)
        if count < 1:
            raise ScheduleExpressionError(f"{expression!r}: the rate must be at least 1")
        if (count == 1) != (not unit.endswith("s")):
            raise ScheduleExpressionError(f"{expression!r}: write 'rate(1 {unit.rstrip('s')})' for 1 and the plural otherwise")
        return
    cron = _CRON.match(expression)
    if not cron:
        raise ScheduleExpressionError(f"{expression!r} is neither rate(N unit) nor cron(...)")
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise ScheduleExpressionError(f"{expression!r} has {len(fields)} fields; EventBridge cron has 6 (minutes hours day-of-month month day-of-week year)")
    for field, text in zip(_FIELDS, fields):
        try:
            _expand(field, text)
        except ScheduleExpressionError as error:
            raise ScheduleExpressionError(f"{expression!r}: {error}") from None
    if (fields[2] == "?") == (fields[4] == "?"):
        raise ScheduleExpressionError(f"{expression!r}: exactly one of day-of-month and day-of-week must be '?'")


def next_runs(expression: str, *, after: datetime, count: int = 3) -> list[datetime]:
    """The next ``count`` times (UTC, naive) a valid expression fires after ``after``; rates count from it."""
    return list(itertools.islice(_runs(expression, after=after, until=after + timedelta(days=366 * 5)), count))


def runs_per_month(expression: str, *, after: datetime) -> float:
    """How often a valid expression fires in an average month: its runs on the 365 days after ``after``'s, over 12.

    A year rather than the next month, so a monthly or weekday schedule counts the same whenever asked.
    A cron expression is counted day by day (its times a day on each day it matches), not run by run.
    """
    validate(expression)
    rate = _RATE.match(expression)
    if rate:
        return YEAR_SECONDS // (_RATE_UNIT_SECONDS[rate.group(2).rstrip("s")] * int(rate.group(1))) / 12
    fields = _CRON.match(expression).group(1).split()
    minutes, hours, dom, months, dow, years = (_expand(f, t) for f, t in zip(_FIELDS, fields))
    first = datetime(after.year, after.month, after.day)
    days = (first + timedelta(days=offset) for offset in range(1, YEAR_SECONDS // 86400 + 1))
    matching = sum(
        1
        for day in days
        if (years is None or day.year in years) and day.month in months and _day_matches(day, dom, fields[2], dow, fields[4])
    )
    return matching * len(minutes) * len(hours) / 12


def _runs(expression: str, *, after: datetime, until: datetime) -> Iterator[datetime]:
    validate(expression)
    rate = _RATE.match(expression)
    if rate:
        interval = timedelta(seconds=_RATE_UNIT_SECONDS[rate.group(2).rstrip("s")] * int(rate.group(1)))
        moment = after + interval
        while moment < until:
            yield moment
            moment += interval
        return
    fields = _CRON.match(expression).group(1).split()
    minutes, hours, dom, months, dow, years = (_expand(f, t) for f, t in zip(_FIELDS, fields))
    dom_text, dow_text = fields[2], fields[4]
    moment = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while moment < until:
        day_ok = _day_matches(moment, dom, dom_text, dow, dow_text)
        if (years is None or moment.year in years) and moment.month in months and day_ok and moment.hour in hours and moment.minute in minutes:
            yield moment
            moment += timedelta(minutes=1)
        elif not (moment.month in months and day_ok):
            moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
        elif moment.hour not in hours:
            moment = (moment + timedelta(hours=1)).replace(minute=0)
        else:
            moment += timedelta(minutes=1)


def _day_matches(moment: datetime, dom: set[int] | None, dom_text: str, dow: set[int] | None, dow_text: str) -> bool:
    last_day = calendar.monthrange(moment.year, moment.month)[1]
    weekday = (moment.weekday() + 1) % 7 + 1  # EventBridge: SUN=1 ... SAT=7
    if dom_text != "?":
        if dom is not None:
            return moment.day in dom
        if dom_text == "L":
            return moment.day == last_day
        return False  # W forms: shown as unknown in the summary rather than guessed
    if dow is not None:
        return weekday in dow
    if dow_text.endswith("L"):
        target = _value(_FIELDS[4], dow_text[:-1])
        return weekday == target and moment.day > last_day - 7
    day, nth = dow_text.split("#")
    return weekday == _value(_FIELDS[4], day) and (moment.day - 1) // 7 + 1 == int(nth)
