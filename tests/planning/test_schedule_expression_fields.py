"""Each cron field at and beyond its edges, steps, ranges, names and the day-field forms, with the
exact message synth prints for what EventBridge would refuse."""

from __future__ import annotations

import pytest

from planning.schedule_expressions import ScheduleExpressionError, validate


def _refusal(expression: object) -> str:
    with pytest.raises(ScheduleExpressionError) as caught:
        validate(expression)  # type: ignore[arg-type]
    return str(caught.value)


# (field position, lowest, highest) with '?' in the day-of-week or day-of-month slot as EventBridge needs.
EDGES = [
    ("cron({} 5 * * ? *)", "minutes", 0, 59),
    ("cron(0 {} * * ? *)", "hours", 0, 23),
    ("cron(0 5 {} * ? *)", "day-of-month", 1, 31),
    ("cron(0 5 * {} ? *)", "month", 1, 12),
    ("cron(0 5 ? * {} *)", "day-of-week", 1, 7),
    ("cron(0 5 * * ? {})", "year", 1970, 2199),
]


@pytest.mark.parametrize(("template", "name", "low", "high"), EDGES)
def test_each_field_accepts_its_first_and_last_value_and_refuses_one_beyond(template: str, name: str, low: int, high: int) -> None:
    validate(template.format(low))
    validate(template.format(high))
    validate(template.format(f"{low}-{high}"))
    expression = template.format(high + 1)
    assert _refusal(expression) == f"{expression!r}: {name} value '{high + 1}' is outside {low}-{high}"
    if low > 0:
        expression = template.format(low - 1)
        assert _refusal(expression) == f"{expression!r}: {name} value '{low - 1}' is outside {low}-{high}"


@pytest.mark.parametrize("expression", ["cron(0 5 * JAN ? *)", "cron(0 5 * dec ? *)", "cron(0 5 * Jan-Mar ? *)", "cron(0 5 ? * sun *)", "cron(0 5 ? * SAT *)", "cron(0 5 ? * MON,wed,FRI *)"])
def test_month_and_day_names_in_any_case(expression: str) -> None:
    validate(expression)


def test_names_belong_to_their_own_field() -> None:
    assert _refusal("cron(0 5 * MON ? *)") == "'cron(0 5 * MON ? *)': month value 'MON' is outside 1-12"
    assert _refusal("cron(0 5 ? * JAN *)") == "'cron(0 5 ? * JAN *)': day-of-week value 'JAN' is outside 1-7"
    assert _refusal("cron(MON 5 * * ? *)") == "'cron(MON 5 * * ? *)': minutes value 'MON' is outside 0-59"


@pytest.mark.parametrize("expression", ["cron(*/1 * * * ? *)", "cron(0/2 * * * ? *)", "cron(5/15 * * * ? *)", "cron(0 1-23/2 * * ? *)"])
def test_steps_of_one_and_more(expression: str) -> None:
    validate(expression)


@pytest.mark.parametrize(("step", "shown"), [("0", "'0'"), ("x", "'x'"), ("", "''"), ("-1", "'-1'"), ("15/3", "'15/3'")])
def test_a_step_must_be_a_positive_integer(step: str, shown: str) -> None:
    expression = f"cron(0/{step} * * * ? *)"
    assert _refusal(expression) == f"{expression!r}: minutes step {shown} must be a positive integer"


def test_a_range_has_one_hyphen() -> None:
    assert _refusal("cron(0 1-2-3 * * ? *)") == "'cron(0 1-2-3 * * ? *)': hours value '2-3' is outside 0-23"


def test_ranges_may_be_one_value_long_but_not_run_backwards() -> None:
    validate("cron(0 5-5 * * ? *)")
    validate("cron(0 5 ? * MON-MON *)")
    assert _refusal("cron(0 5 ? * FRI-MON *)") == "'cron(0 5 ? * FRI-MON *)': day-of-week range 'FRI-MON' runs backwards"
    assert _refusal("cron(0 6-5 * * ? *)") == "'cron(0 6-5 * * ? *)': hours range '6-5' runs backwards"


@pytest.mark.parametrize("hours", ["1,,2", ",1", "1,"])
def test_an_empty_list_part_is_refused(hours: str) -> None:
    expression = f"cron(0 {hours} * * ? *)"
    assert _refusal(expression) == f"{expression!r}: hours {hours!r} has an empty part"


@pytest.mark.parametrize("day", ["L", "LW", "1W", "15W", "31W"])
def test_day_of_month_last_and_weekday_forms(day: str) -> None:
    validate(f"cron(0 5 {day} * ? *)")


@pytest.mark.parametrize(("day", "value"), [("0W", "0"), ("32W", "32")])
def test_day_of_month_weekday_form_checks_its_day(day: str, value: str) -> None:
    expression = f"cron(0 5 {day} * ? *)"
    assert _refusal(expression) == f"{expression!r}: day-of-month value '{value}' is outside 1-31"


@pytest.mark.parametrize("day", ["6L", "FRIL", "1#1", "7#5", "FRI#2", "sun#3"])
def test_day_of_week_last_and_nth_forms(day: str) -> None:
    validate(f"cron(0 5 ? * {day} *)")


@pytest.mark.parametrize(("day", "value"), [("8#1", "8#1"), ("0L", "0L"), ("FUNL", "FUN"), ("XY#2", "XY")])
def test_day_of_week_last_and_nth_forms_check_their_day(day: str, value: str) -> None:
    expression = f"cron(0 5 ? * {day} *)"
    assert _refusal(expression) == f"{expression!r}: day-of-week value '{value}' is outside 1-7"


def test_an_nth_weekday_beyond_the_fifth_is_refused() -> None:
    assert _refusal("cron(0 5 ? * 6#6 *)") == "'cron(0 5 ? * 6#6 *)': day-of-week value '6#6' is outside 1-7"


def test_a_bare_last_is_for_the_day_of_month_only() -> None:
    assert _refusal("cron(0 5 ? * L *)") == "'cron(0 5 ? * L *)': day-of-week value 'L' is outside 1-7"
    assert _refusal("cron(0 5 WL * ? *)") == "'cron(0 5 WL * ? *)': day-of-month value 'WL' is outside 1-31"


@pytest.mark.parametrize(("position", "name"), [(0, "minutes"), (1, "hours"), (3, "month"), (5, "year")])
def test_only_the_day_fields_may_be_a_question_mark(position: int, name: str) -> None:
    fields = ["0", "5", "*", "*", "?", "*"]
    fields[position] = "?"
    expression = f"cron({' '.join(fields)})"
    assert _refusal(expression) == f"{expression!r}: {name} cannot be '?'"


@pytest.mark.parametrize("expression", ["cron(0 5 ? * MON *)", "cron(0 5 1 * ? *)"])
def test_exactly_one_day_field_is_a_question_mark(expression: str) -> None:
    validate(expression)


def test_both_day_fields_set_is_refused_with_the_rule() -> None:
    assert _refusal("cron(0 5 1 * MON *)") == "'cron(0 5 1 * MON *)': exactly one of day-of-month and day-of-week must be '?'"


@pytest.mark.parametrize("expression", ["rate(1 minute)", "rate(1 hour)", "rate(1 day)", "rate(2 minutes)", "rate(10 hours)", "rate(365 days)"])
def test_rates_in_the_singular_for_one_and_plural_otherwise(expression: str) -> None:
    validate(expression)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(1 minutes)", "'rate(1 minutes)': write 'rate(1 minute)' for 1 and the plural otherwise"),
        ("rate(1 days)", "'rate(1 days)': write 'rate(1 day)' for 1 and the plural otherwise"),
        ("rate(2 minute)", "'rate(2 minute)': write 'rate(1 minute)' for 1 and the plural otherwise"),
        ("rate(0 minutes)", "'rate(0 minutes)': the rate must be at least 1"),
        ("rate(0 minute)", "'rate(0 minute)': the rate must be at least 1"),
        ("rate(5 weeks)", "'rate(5 weeks)' is neither rate(N unit) nor cron(...)"),
        ("rate(-1 minutes)", "'rate(-1 minutes)' is neither rate(N unit) nor cron(...)"),
        (" rate(5 minutes)", "' rate(5 minutes)' is neither rate(N unit) nor cron(...)"),
        ("cron(0 5 * * ? *) ", "'cron(0 5 * * ? *) ' is neither rate(N unit) nor cron(...)"),
        ("cron(0 5 * * ? * *)", "'cron(0 5 * * ? * *)' has 7 fields; EventBridge cron has 6 (minutes hours day-of-month month day-of-week year)"),
        ("cron()", "'cron()' has 0 fields; EventBridge cron has 6 (minutes hours day-of-month month day-of-week year)"),
    ],
)
def test_refused_rates_and_shapes_say_what_to_write(expression: str, message: str) -> None:
    assert _refusal(expression) == message


@pytest.mark.parametrize("expression", [None, 5, ["rate(1 day)"]])
def test_an_expression_must_be_text(expression: object) -> None:
    assert _refusal(expression) == f"expression {expression!r} is not a string"
