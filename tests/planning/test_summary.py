"""The synth summary table: steps, schedules with their next run, exemptions, per environment."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from types import SimpleNamespace

from pipeline_defs.contract import CompiledPipeline
from pipeline_defs.schedules import Guardrail, GuardrailExemption
from planning.summary import format_table, next_run_text, summary_rows

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)  # a Sunday


def _compiled(name: str, steps: list[dict], *, schedules=(), exemptions=()) -> CompiledPipeline:
    return CompiledPipeline(
        pipeline_name=name,
        module_pipeline_name=name.removeprefix("smp-sandbox-"),
        env_name="sandbox",
        definition=json.dumps({"Steps": steps}),
        staged_files={},
        manifest={},
        parameters=(),
        schedules=tuple(schedules),
        guardrail_exemptions=tuple(exemptions),
        region="us-east-1",
        region_is_pinned=False,
        source_module="pipeline_defs/pipelines/x.py",
        placeholders_used=(),
        build_id="test",
        signing_key_development_only=True,
    )


CONDITION = {
    "Name": "Check",
    "Type": "Condition",
    "Arguments": {"IfSteps": [{"Name": "Register", "Type": "RegisterModel"}], "ElseSteps": [{"Name": "Stop", "Type": "Fail"}]},
}


def _planned(pipeline: str, name: str, expression: str, *, timezone_name=None, enabled=True, deployed=True, parameter_values=None):
    return SimpleNamespace(
        pipeline_name=pipeline,
        schedule_name=name,
        expression=expression,
        timezone=timezone_name,
        enabled=enabled,
        deployed=deployed,
        parameter_values=parameter_values or {},
    )


def _config(*, max_job_runtime_hours: int = 24) -> SimpleNamespace:
    return SimpleNamespace(name="sandbox", max_job_runtime_hours=max_job_runtime_hours)


def test_rows_count_nested_steps_and_show_next_runs_in_their_time_zone() -> None:
    train = _compiled("smp-sandbox-train", [{"Name": "Prepare", "Type": "Processing"}, CONDITION])
    batch = _compiled(
        "smp-sandbox-batch",
        [{"Name": "Score", "Type": "Training"}],
        exemptions=[GuardrailExemption(guardrail=Guardrail.NETWORK_ISOLATION, reason="@step", owner="ml-platform", expires="2099-12-31", steps=("Score",))],
    )
    plan = SimpleNamespace(
        config=_config(),
        pipelines=(train, batch),
        schedules=(
            _planned("smp-sandbox-train", "weekly", "cron(0 3 ? * MON *)"),
            _planned("smp-sandbox-train", "hourly", "rate(1 hour)", enabled=False),
            _planned("smp-sandbox-batch", "nightly", "cron(30 1 * * ? *)", timezone_name="Europe/Paris"),
        ),
    )
    rows = summary_rows(plans=[plan], now=NOW)
    assert [(r.pipeline, r.steps, r.schedules, r.exemptions) for r in rows] == [
        ("smp-sandbox-batch", 1, "nightly cron(30 1 * * ? *) → 2026-11-23 01:30 Europe/Paris", "network-isolation (Score)"),
        ("smp-sandbox-train", 4, "weekly cron(0 3 ? * MON *) → 2026-11-23 03:00 UTC; hourly rate(1 hour) (disabled)", "-"),
    ]
    table = format_table(rows).splitlines()
    assert table[0].split() == [
        "environment", "pipeline", "steps", "schedules", "(next", "run)", "instance-hours", "(most", "per", "run;", "per", "month)",
        "guardrail", "exemptions",
    ]
    assert set(table[1]) == {"-", " "} and len(table) == 4


def test_schedules_that_are_not_deployed_say_so() -> None:
    plan = SimpleNamespace(
        config=_config(),
        pipelines=(_compiled("smp-sandbox-train", []),),
        schedules=(_planned("smp-sandbox-train", "weekly", "cron(0 3 ? * MON *)", deployed=False),),
    )
    assert summary_rows(plans=[plan], now=NOW)[0].schedules == "weekly cron(0 3 ? * MON *) (not deployed)"


def test_next_run_of_an_invalid_expression_names_the_problem() -> None:
    assert next_run_text(expression="cron(0 3 * * * *)", timezone_name=None, now=NOW).startswith("invalid: ")


def _training(name: str, *, instance_type, count=1, seconds=None) -> dict:
    arguments = {"ResourceConfig": {"InstanceType": instance_type, "InstanceCount": count}}
    if seconds is not None:
        arguments["StoppingCondition"] = {"MaxRuntimeInSeconds": seconds}
    return {"Name": name, "Type": "Training", "Arguments": arguments}


def test_instance_hours_per_run_and_per_month_under_each_schedules_own_parameters() -> None:
    steps = [_training("Train", instance_type={"Get": "Parameters.TrainingInstanceType"}, count=2, seconds=7200)]
    train = _compiled("smp-sandbox-train", steps)
    train = dataclasses.replace(
        train,
        definition=json.dumps({"Parameters": [{"Name": "TrainingInstanceType", "Type": "String", "DefaultValue": "ml.m5.large"}], "Steps": steps}),
    )
    plan = SimpleNamespace(
        config=_config(),
        pipelines=(train,),
        schedules=(
            # 365 runs a year, 30.4 a month, each 2 instances × 2 h on the schedule's instance type.
            _planned("smp-sandbox-train", "nightly", "cron(0 1 * * ? *)", parameter_values={"TrainingInstanceType": "ml.g4dn.xlarge"}),
            _planned("smp-sandbox-train", "weekly", "cron(0 3 ? * MON *)"),
            _planned("smp-sandbox-train", "off", "rate(1 hour)", enabled=False),
            _planned("smp-sandbox-train", "elsewhere", "rate(1 hour)", deployed=False),
        ),
    )
    (row,) = summary_rows(plans=[plan], now=NOW)
    # weekly: 53 Mondays in the 365 days after Sunday NOW (the last one day 365), 4.42 a month × 4 h = 17.7 h.
    assert row.instance_hours == "ml.m5 4 h/run; ml.g4dn 121.7 h/month, ml.m5 17.7 h/month"
    assert row.instance_hours in format_table([row])


def test_a_job_without_its_own_limit_counts_at_the_environments_cap_and_says_so() -> None:
    step = {"Name": "Prepare", "Type": "Processing", "Arguments": {"ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.c5.xlarge", "InstanceCount": 3}}}}
    plan = SimpleNamespace(config=_config(max_job_runtime_hours=5), pipelines=(_compiled("smp-sandbox-prep", [step]),), schedules=())
    assert summary_rows(plans=[plan], now=NOW)[0].instance_hours == "ml.c5 15 h/run; none (Prepare at the run-time cap)"
