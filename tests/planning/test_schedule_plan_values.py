"""The strings a schedule sends as pipeline parameters, per declared type; the name and count limits at
their edges; and which setting (module or cdk.json override) decides enabled, expression and time zone."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from base.config import EnvironmentConfig, ScheduleOverride
from pipeline_defs.contract import DeclaredParameter
from pipeline_defs.schedules import Schedule
from planning.compilation import compile_pipelines
from planning.schedules import ScheduleError, plan_schedules

PARAMETERS = (
    DeclaredParameter(name="Flag", type="Boolean", default=None),
    DeclaredParameter(name="Count", type="Integer", default=None),
    DeclaredParameter(name="Rate", type="Float", default=None),
    DeclaredParameter(name="Label", type="String", default=None),
)
SOURCE = "declared in pipeline_defs/pipelines/train_evaluate_register.py SCHEDULES"


@pytest.fixture(scope="module")
def pipeline() -> Any:
    compiled = {c.module_pipeline_name: c for c in compile_pipelines(config=EnvironmentConfig(name="prod"))}
    return dataclasses.replace(compiled["train-evaluate-register"], parameters=PARAMETERS)


def _plan(pipeline: Any, *, overrides: tuple = (), enabled_env: bool = True, **fields: Any) -> Any:
    schedule = Schedule(**{"name": "nightly", "expression": "cron(0 2 * * ? *)", **fields})
    config = EnvironmentConfig(name="prod", schedules_enabled=enabled_env, schedule_overrides=overrides)
    (planned,) = plan_schedules(config=config, compiled=[dataclasses.replace(pipeline, schedules=(schedule,))])
    return planned


def _refusal(pipeline: Any, **fields: Any) -> str:
    with pytest.raises(ScheduleError) as caught:
        _plan(pipeline, **fields)
    return str(caught.value)


@pytest.mark.parametrize(
    ("name", "value", "sent"),
    [
        ("Flag", True, "true"),
        ("Flag", False, "false"),
        ("Flag", "TRUE", "true"),
        ("Flag", "False", "false"),
        ("Count", 0, "0"),
        ("Count", -12, "-12"),
        ("Count", "42", "42"),
        ("Count", "-7", "-7"),
        ("Rate", 5, "5.0"),
        ("Rate", 0.25, "0.25"),
        ("Rate", "1e-3", "1e-3"),
        ("Label", "nightly run", "nightly run"),
        ("Label", "", ""),
    ],
)
def test_each_type_is_sent_as_its_string(pipeline: Any, name: str, value: Any, sent: str) -> None:
    assert dict(_plan(pipeline, parameter_values={name: value}).parameter_values) == {name: sent}


@pytest.mark.parametrize(
    ("name", "value"),
    [("Flag", 1), ("Flag", "yes"), ("Count", True), ("Count", 1.5), ("Count", "4.0"), ("Count", " 4"), ("Rate", True), ("Rate", "fast"), ("Rate", None), ("Label", 3), ("Label", None)],
)
def test_a_value_of_another_type_is_refused_naming_it_and_where_it_was_written(pipeline: Any, name: str, value: Any) -> None:
    kind = {p.name: p.type for p in PARAMETERS}[name]
    message = _refusal(pipeline, parameter_values={name: value})
    assert message == f"pipeline smp-prod-train-evaluate-register, schedule 'nightly', field parameter_values.{name}: {value!r} is not a valid {kind} value ({SOURCE})"


def test_a_parameter_type_without_a_rule_is_sent_as_text(pipeline: Any) -> None:
    other = dataclasses.replace(pipeline, parameters=(DeclaredParameter(name="Any", type="Other", default=None),))
    assert dict(_plan(other, parameter_values={"Any": 7}).parameter_values) == {"Any": "7"}


def test_parameters_are_sent_in_name_order_with_overrides_on_top(pipeline: Any) -> None:
    override = ScheduleOverride(pipeline="train-evaluate-register", schedule="nightly", parameter_values={"Count": 9})
    planned = _plan(pipeline, overrides=(override,), parameter_values={"Label": "x", "Count": 1, "Flag": True})
    assert list(planned.parameter_values.items()) == [("Count", "9"), ("Flag", "true"), ("Label", "x")]


def test_an_override_names_its_own_key_when_its_value_is_wrong(pipeline: Any) -> None:
    override = ScheduleOverride(pipeline="train-evaluate-register", schedule="nightly", parameter_values={"Count": "many"})
    with pytest.raises(ScheduleError) as caught:
        _plan(pipeline, overrides=(override,), parameter_values={"Count": 1})
    assert str(caught.value) == (
        "pipeline smp-prod-train-evaluate-register, schedule 'nightly', field parameter_values.Count: 'many' is not a valid Integer value "
        "(set in context 'environments.prod.schedules.train-evaluate-register.nightly.parameterValues.Count')"
    )


def test_at_most_200_parameters(pipeline: Any) -> None:
    many = dataclasses.replace(pipeline, parameters=tuple(DeclaredParameter(name=f"P{i}", type="String", default=None) for i in range(201)))
    assert len(_plan(many, parameter_values={f"P{i}": "v" for i in range(200)}).parameter_values) == 200
    message = _refusal(many, parameter_values={f"P{i}": "v" for i in range(201)})
    assert message == f"pipeline smp-prod-train-evaluate-register, schedule 'nightly', field parameter_values: 201 parameters; EventBridge passes at most 200 ({SOURCE})"


def test_the_rule_name_may_be_64_characters(pipeline: Any) -> None:
    # "smp-prod-train-evaluate-register-" is 33 characters.
    assert _plan(pipeline, name="n" * 31).resource_name == "smp-prod-train-evaluate-register-" + "n" * 31
    message = _refusal(pipeline, name="n" * 32)
    assert message == f"pipeline smp-prod-train-evaluate-register, schedule '{'n' * 32}', field name: 'smp-prod-train-evaluate-register-{'n' * 32}' is too long: 65 characters, EventBridge allows at most 64 ({SOURCE})"


@pytest.mark.parametrize("name", ["a", "a-b", "a--b", "A1"])
def test_schedule_names_of_letters_digits_and_hyphens(pipeline: Any, name: str) -> None:
    assert _plan(pipeline, name=name).schedule_name == name


@pytest.mark.parametrize("name", ["-a", "a-", "a_b", "a.b", ""])
def test_other_schedule_names_are_refused(pipeline: Any, name: str) -> None:
    message = _refusal(pipeline, name=name)
    assert message == f"pipeline smp-prod-train-evaluate-register, schedule {name!r}, field name: use letters, digits and single hyphens (EventBridge names here allow no underscores) ({SOURCE})"


@pytest.mark.parametrize(
    ("declared", "override", "enabled_env", "enabled", "deployed"),
    [
        (True, None, True, True, True),
        (False, None, True, False, False),
        (True, None, False, True, False),
        (False, True, True, True, True),
        (True, False, True, False, False),
        (False, True, False, True, False),
    ],
)
def test_enabled_comes_from_the_override_when_it_has_one_and_deployed_needs_the_environment_too(
    pipeline: Any, declared: bool, override: bool | None, enabled_env: bool, enabled: bool, deployed: bool
) -> None:
    overrides = (ScheduleOverride(pipeline="train-evaluate-register", schedule="nightly", enabled=override),) if override is not None else ()
    planned = _plan(pipeline, overrides=overrides, enabled_env=enabled_env, enabled=declared)
    assert (planned.enabled, planned.deployed) == (enabled, deployed)


def test_an_override_without_enabled_keeps_the_modules_choice(pipeline: Any) -> None:
    override = ScheduleOverride(pipeline="train-evaluate-register", schedule="nightly", expression="rate(1 day)")
    planned = _plan(pipeline, overrides=(override,), enabled=False)
    assert (planned.enabled, planned.expression) == (False, "rate(1 day)")


def test_the_time_zone_comes_from_the_override_then_the_module(pipeline: Any) -> None:
    assert _plan(pipeline).timezone is None
    assert _plan(pipeline, timezone="Europe/Paris").timezone == "Europe/Paris"
    override = ScheduleOverride(pipeline="train-evaluate-register", schedule="nightly", timezone="Asia/Tokyo")
    assert _plan(pipeline, overrides=(override,), timezone="Europe/Paris").timezone == "Asia/Tokyo"
    bad = ScheduleOverride(pipeline="train-evaluate-register", schedule="nightly", timezone="Mars/Olympus")
    with pytest.raises(ScheduleError) as caught:
        _plan(pipeline, overrides=(bad,), timezone="Europe/Paris")
    assert str(caught.value) == (
        "pipeline smp-prod-train-evaluate-register, schedule 'nightly', field timezone: 'Mars/Olympus' is not an IANA time zone such as 'Europe/Paris' "
        "(set in context 'environments.prod.schedules.train-evaluate-register.nightly.timezone')"
    )


def test_a_plan_carries_the_pipeline_module_and_skip_setting(pipeline: Any) -> None:
    planned = _plan(pipeline, skip_if_running=True)
    assert (planned.pipeline_name, planned.module_pipeline_name, planned.schedule_name, planned.skip_if_running) == ("smp-prod-train-evaluate-register", "train-evaluate-register", "nightly", True)
    assert _plan(pipeline).skip_if_running is False


def test_an_override_naming_no_pipeline_lists_the_known_ones(pipeline: Any) -> None:
    config = EnvironmentConfig(name="prod", schedule_overrides=(ScheduleOverride(pipeline="abalone", schedule="nightly", enabled=True),))
    with pytest.raises(ScheduleError) as caught:
        plan_schedules(config=config, compiled=[pipeline])
    assert str(caught.value) == "context 'environments.prod.schedules.abalone' names no pipeline module; known: ['train-evaluate-register']"


def test_an_override_naming_no_schedule_lists_the_declared_ones(pipeline: Any) -> None:
    item = dataclasses.replace(pipeline, schedules=(Schedule(name="b", expression="rate(1 day)"), Schedule(name="a", expression="rate(1 day)")))
    config = EnvironmentConfig(name="prod", schedule_overrides=(ScheduleOverride(pipeline="train-evaluate-register", schedule="zzz", enabled=True),))
    with pytest.raises(ScheduleError) as caught:
        plan_schedules(config=config, compiled=[item])
    assert str(caught.value) == "context 'environments.prod.schedules.train-evaluate-register.zzz' names no schedule of train-evaluate-register; it declares ['a', 'b']"


def test_schedules_are_planned_by_pipeline_name_in_declaration_order(pipeline: Any) -> None:
    first = dataclasses.replace(pipeline, pipeline_name="smp-prod-b", module_pipeline_name="b", schedules=(Schedule(name="z", expression="rate(1 day)"), Schedule(name="y", expression="rate(1 day)")))
    second = dataclasses.replace(pipeline, pipeline_name="smp-prod-a", module_pipeline_name="a", schedules=(Schedule(name="x", expression="rate(1 day)"),))
    planned = plan_schedules(config=EnvironmentConfig(name="prod"), compiled=[first, second])
    assert [p.resource_name for p in planned] == ["smp-prod-a-x", "smp-prod-b-z", "smp-prod-b-y"]


def test_a_duplicate_is_named_by_its_first_name_in_order(pipeline: Any) -> None:
    item = dataclasses.replace(pipeline, schedules=tuple(Schedule(name=n, expression="rate(1 day)") for n in ("b", "a", "b", "a", "c")))
    with pytest.raises(ScheduleError) as caught:
        plan_schedules(config=EnvironmentConfig(name="prod"), compiled=[item])
    assert str(caught.value) == f"pipeline smp-prod-train-evaluate-register, schedule 'a', field name: declared more than once ({SOURCE})"


def test_an_unknown_parameter_is_refused_with_the_declared_ones_and_where_it_was_written(pipeline: Any) -> None:
    message = _refusal(pipeline, parameter_values={"Cuont": 1})
    assert message == (
        "pipeline smp-prod-train-evaluate-register, schedule 'nightly', field parameter_values.Cuont: the pipeline declares no such parameter "
        f"(did you mean 'Count'?); it has ['Count', 'Flag', 'Label', 'Rate'] ({SOURCE})"
    )


def test_a_refused_expression_names_the_schedule_and_the_module(pipeline: Any) -> None:
    message = _refusal(pipeline, expression="rate(2 hour)")
    assert message == f"pipeline smp-prod-train-evaluate-register, schedule 'nightly', field expression: 'rate(2 hour)': write 'rate(1 hour)' for 1 and the plural otherwise ({SOURCE})"
