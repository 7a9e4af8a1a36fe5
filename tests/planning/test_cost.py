"""Instance-hours from a definition: job steps by family, ForEach items, tuning jobs, the run-time cap."""

from __future__ import annotations

from datetime import datetime

from planning.cost import UNRESOLVED, InstanceHours, ScheduledRuns, execution_hours, hours_text, pipeline_cost

CAP = 24 * 3600


def _processing(name: str, instance_type: str = "ml.m5.large", *, count=1, seconds=None) -> dict:
    arguments = {"ProcessingResources": {"ClusterConfig": {"InstanceType": instance_type, "InstanceCount": count}}}
    if seconds is not None:
        arguments["StoppingCondition"] = {"MaxRuntimeInSeconds": seconds}
    return {"Name": name, "Type": "Processing", "Arguments": arguments}


def _for_each(items, body: list[dict]) -> dict:
    return {"Name": "PerItem", "Type": "ForEach", "Arguments": {"IterableItems": items, "MaxConcurrency": 2, "ForEachBody": body}}


def test_each_job_step_type_reads_its_own_resources_and_limit() -> None:
    tuning = {
        "Name": "Tune",
        "Type": "Tuning",
        "Arguments": {
            "HyperParameterTuningJobConfig": {"ResourceLimits": {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 2}},
            "TrainingJobDefinition": {"ResourceConfig": {"InstanceType": "ml.c5.xlarge", "InstanceCount": 1}, "StoppingCondition": {"MaxRuntimeInSeconds": 1800}},
        },
    }
    heterogeneous = {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "ResourceConfig": {"InstanceGroups": [{"InstanceType": "ml.p4d.24xlarge", "InstanceCount": 2}, {"InstanceType": "ml.c5.2xlarge", "InstanceCount": 1}]},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
    }
    transform = {"Name": "Score", "Type": "Transform", "Arguments": {"TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2}}}
    lambda_step = {"Name": "Notify", "Type": "Lambda", "Arguments": {}}
    hours, capped = execution_hours({"Steps": [tuning, heterogeneous, transform, lambda_step]}, cap_seconds=CAP)
    assert hours.by_family == {"ml.c5": 6 * 0.5 + 1, "ml.p4d": 2, "ml.m5": 2 * 24}
    assert capped == ("Score",)


def test_a_limit_above_the_cap_counts_at_the_cap_which_the_guardrail_enforces() -> None:
    hours, capped = execution_hours({"Steps": [_processing("Long", seconds=200 * 3600)]}, cap_seconds=CAP)
    assert (hours.by_family, capped) == ({"ml.m5": 24}, ())


def test_for_each_multiplies_by_known_items_and_is_per_item_otherwise() -> None:
    body = [_processing("Shard", count=2, seconds=3600)]
    parameters = [{"Name": "Regions", "Type": "String", "DefaultValue": '["emea", "amer", "apac"]'}]
    known = {"Parameters": parameters, "Steps": [_for_each({"Get": "Parameters.Regions"}, body)]}
    assert execution_hours(known, cap_seconds=CAP)[0] == InstanceHours(by_family={"ml.m5": 6})
    # A schedule passing five regions: five items.
    five = execution_hours(known, parameter_values={"Regions": '["a", "b", "c", "d", "e"]'}, cap_seconds=CAP)[0]
    assert five.by_family == {"ml.m5": 10}
    unknown = {"Steps": [_processing("List", seconds=3600), _for_each({"Get": "Steps.List.Properties.Items"}, body)]}
    hours = execution_hours(unknown, cap_seconds=CAP)[0]
    assert hours == InstanceHours(by_family={"ml.m5": 1}, per_item={"ml.m5": 2})
    assert hours.text(unit="/run") == "ml.m5 1 h/run + ml.m5 2 h/run per item"


def test_both_condition_branches_count_and_a_type_known_only_at_run_time_is_unresolved() -> None:
    gate = {
        "Name": "Gate",
        "Type": "Condition",
        "Arguments": {"IfSteps": [_processing("Big", "ml.g4dn.xlarge", seconds=3600)], "ElseSteps": [_processing("Small", seconds=1800)]},
    }
    runtime = _processing("Dynamic", seconds=3600)
    runtime["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceType"] = {"Get": "Steps.Pick.OutputParameters['type']"}
    hours, _ = execution_hours({"Steps": [gate, runtime]}, cap_seconds=CAP)
    assert hours.by_family == {"ml.g4dn": 1, "ml.m5": 0.5, UNRESOLVED: 1}


def test_per_month_sums_enabled_schedules_runs() -> None:
    definition = {"Parameters": [{"Name": "Count", "Type": "Integer", "DefaultValue": 1}], "Steps": [_processing("Job", count={"Get": "Parameters.Count"}, seconds=3600)]}
    schedules = [
        ScheduledRuns(expression="rate(6 hours)", parameter_values={"Count": "3"}, enabled=True),  # 1460 runs a year
        ScheduledRuns(expression="rate(1 hour)", parameter_values={}, enabled=False),
    ]
    cost = pipeline_cost(definition=definition, schedules=schedules, cap_seconds=CAP, now=datetime(2026, 1, 1))
    assert cost.per_execution.by_family == {"ml.m5": 1}
    assert cost.per_month.by_family == {"ml.m5": 1460 / 12 * 3}
    assert cost.text() == "ml.m5 1 h/run; ml.m5 365 h/month"


def test_hours_text_keeps_one_decimal_and_thousands() -> None:
    assert [hours_text(h) for h in (24, 0.5, 1460.04, 121.666)] == ["24", "0.5", "1,460", "121.7"]
