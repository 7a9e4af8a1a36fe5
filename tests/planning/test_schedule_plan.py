"""Schedules as an environment deploys them: overrides applied, every bad case named precisely."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from pipeline_defs.schedules import Schedule
from base.config import EnvironmentConfig, ScheduleOverride
from planning.compilation import compile_pipelines
from planning.schedules import ScheduleError, plan_schedules


@pytest.fixture(scope="module")
def compiled() -> dict[str, Any]:
    return {c.module_pipeline_name: c for c in compile_pipelines(config=EnvironmentConfig(name="prod"))}


def _with_schedule(compiled: dict, **fields: Any) -> list:
    schedule = Schedule(**{"name": "nightly", "expression": "cron(0 2 * * ? *)", **fields})
    return [dataclasses.replace(compiled["train-evaluate-register"], schedules=(schedule,))]


def test_module_schedules_with_overrides(compiled: dict) -> None:
    config = EnvironmentConfig(
        name="prod",
        schedules_enabled=True,
        schedule_overrides=(
            ScheduleOverride(pipeline="fan-out-parent", schedule="daily", enabled=True),
            ScheduleOverride(pipeline="train-evaluate-register", schedule="weekly-retrain", expression="cron(0 4 ? * MON *)", parameter_values={"MseThreshold": 5.5}),
        ),
    )
    plan = {p.resource_name: p for p in plan_schedules(config=config, compiled=list(compiled.values()))}
    # Every declared schedule is planned; a pipeline added to the tree adds its own.
    assert sorted(plan) == sorted(f"{c.pipeline_name}-{s.name}" for c in compiled.values() for s in c.schedules)
    assert {"smp-prod-batch-inference-nightly", "smp-prod-fan-out-parent-daily", "smp-prod-parallel-shards-every-6-hours", "smp-prod-train-evaluate-register-weekly-retrain"} <= set(plan)
    retrain = plan["smp-prod-train-evaluate-register-weekly-retrain"]
    assert (retrain.expression, dict(retrain.parameter_values), retrain.deployed) == ("cron(0 4 ? * MON *)", {"MseThreshold": "5.5"}, True)
    assert plan["smp-prod-fan-out-parent-daily"].deployed is True
    assert plan["smp-prod-batch-inference-nightly"].timezone == "Europe/Paris"
    assert plan["smp-prod-parallel-shards-every-6-hours"].skip_if_running is True
    assert dict(plan["smp-prod-batch-inference-nightly"].parameter_values) == {"BatchSize": "4"}


def test_environment_with_schedules_disabled_deploys_none(compiled: dict) -> None:
    plan = plan_schedules(config=EnvironmentConfig(name="prod", schedules_enabled=False), compiled=list(compiled.values()))
    assert plan and not any(p.deployed for p in plan)


BAD = [
    ({"expression": "cron(0 2 * * * *)"}, "field expression: 'cron(0 2 * * * *)': exactly one of day-of-month and day-of-week must be '?'"),
    ({"expression": "cron(0 2 * * ?)"}, "field expression: 'cron(0 2 * * ?)' has 5 fields"),
    ({"expression": "rate(1 hours)"}, "field expression"),
    ({"name": "nightly_run"}, "field name: use letters, digits and single hyphens"),
    ({"name": "n" * 60}, "is too long: 93 characters, EventBridge allows at most 64"),
    ({"parameter_values": {"Unknown": 1}}, "field parameter_values.Unknown: the pipeline declares no such parameter"),
    ({"parameter_values": {"MaxDepth": "deep"}}, "field parameter_values.MaxDepth: 'deep' is not a valid Integer value"),
    ({"parameter_values": {"MaxDepth": True}}, "field parameter_values.MaxDepth: True is not a valid Integer value"),
    ({"parameter_values": {"LearningRate": "fast"}}, "field parameter_values.LearningRate: 'fast' is not a valid Float value"),
    ({"parameter_values": {"InputDataUrl": 3}}, "field parameter_values.InputDataUrl: 3 is not a valid String value"),
    ({"parameter_values": {f"P{i}": 1 for i in range(201)}}, "201 parameters; EventBridge passes at most 200"),
    ({"timezone": "Mars/Olympus"}, "field timezone: 'Mars/Olympus' is not an IANA time zone"),
]


@pytest.mark.parametrize(("fields", "message"), BAD, ids=[b[1].split(":")[0][:40] + f"-{i}" for i, b in enumerate(BAD)])
def test_bad_schedules_name_pipeline_schedule_and_field(compiled: dict, fields: dict, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        plan_schedules(config=EnvironmentConfig(name="prod", schedules_enabled=True), compiled=_with_schedule(compiled, **fields))
    text = str(caught.value)
    assert text.startswith("pipeline smp-prod-train-evaluate-register, schedule ")
    assert message in text


def test_overrides_must_name_a_declared_pipeline_and_schedule(compiled: dict) -> None:
    for override, message in (
        (ScheduleOverride(pipeline="abalone", schedule="daily", enabled=True), "context 'environments.prod.schedules.abalone' names no pipeline module"),
        (ScheduleOverride(pipeline="fan-out-parent", schedule="hourly", enabled=True), "names no schedule of fan-out-parent; it declares ['daily']"),
    ):
        with pytest.raises(ScheduleError, match=message.replace("[", r"\[").replace("]", r"\]")):
            plan_schedules(config=EnvironmentConfig(name="prod", schedule_overrides=(override,)), compiled=list(compiled.values()))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (ScheduleOverride(pipeline="fan-out-parnet", schedule="daily", enabled=True), "names no pipeline module (did you mean 'fan-out-parent'?)"),
        (ScheduleOverride(pipeline="fan-out-parent", schedule="dialy", enabled=True), "names no schedule of fan-out-parent (did you mean 'daily'?)"),
        (
            ScheduleOverride(pipeline="train-evaluate-register", schedule="weekly-retrain", parameter_values={"MseThreshhold": 5}),
            "field parameter_values.MseThreshhold: the pipeline declares no such parameter (did you mean 'MseThreshold'?)",
        ),
    ],
    ids=["pipeline", "schedule", "parameter"],
)
def test_a_misspelt_override_suggests_the_nearest_name(compiled: dict, override: ScheduleOverride, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        plan_schedules(config=EnvironmentConfig(name="prod", schedule_overrides=(override,)), compiled=list(compiled.values()))
    assert message in str(caught.value)


def test_a_bad_value_names_where_it_was_written(compiled: dict) -> None:
    """A module's SCHEDULES or the environment's override in cdk.json: the message says which."""
    declared = _with_schedule(compiled, expression="cron(0 2 * * ?)")
    with pytest.raises(ScheduleError, match=r"has 5 fields; .* \(declared in pipeline_defs/pipelines/train_evaluate_register.py SCHEDULES\)$"):
        plan_schedules(config=EnvironmentConfig(name="prod"), compiled=declared)
    override = ScheduleOverride(pipeline="train-evaluate-register", schedule="nightly", expression="cron(0 2 * * ?)")
    with pytest.raises(ScheduleError, match=r"\(set in context 'environments.prod.schedules.train-evaluate-register.nightly.expression'\)$"):
        plan_schedules(config=EnvironmentConfig(name="prod", schedule_overrides=(override,)), compiled=_with_schedule(compiled))


def test_an_override_value_is_checked_like_a_declared_one(compiled: dict) -> None:
    override = ScheduleOverride(pipeline="train-evaluate-register", schedule="weekly-retrain", parameter_values={"MseThreshold": "low"})
    with pytest.raises(ScheduleError, match="weekly-retrain', field parameter_values.MseThreshold: 'low' is not a valid Float value"):
        plan_schedules(config=EnvironmentConfig(name="prod", schedule_overrides=(override,)), compiled=list(compiled.values()))


def test_duplicate_schedule_names(compiled: dict) -> None:
    item = dataclasses.replace(compiled["train-evaluate-register"], schedules=(Schedule(name="a", expression="rate(1 day)"),) * 2)
    with pytest.raises(ScheduleError, match="schedule 'a', field name: declared more than once"):
        plan_schedules(config=EnvironmentConfig(name="prod"), compiled=[item])
