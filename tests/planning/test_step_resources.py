"""The step types and EMR resources a definition runs: what its execution role is granted."""

from __future__ import annotations

import json

import pytest

from pipeline_defs.contract import CompiledPipeline
from pipeline_defs.errors import PipelineDefinitionError
from planning.schedules import PlannedSchedule
from planning.step_resources import EMR_CLUSTER_FIELD, EMR_SERVERLESS_APPLICATION_FIELD, referenced_ids, step_types


def _compiled(steps: list[dict], parameters: list[dict] = ()) -> CompiledPipeline:
    return CompiledPipeline(
        pipeline_name="smp-sandbox-emr",
        module_pipeline_name="emr",
        env_name="sandbox",
        definition=json.dumps({"Parameters": list(parameters), "Steps": steps}),
        staged_files={},
        manifest={},
        parameters=(),
        schedules=(),
        guardrail_exemptions=(),
        region="us-east-1",
        region_is_pinned=False,
        source_module="pipeline_defs/pipelines/emr.py",
        placeholders_used=(),
        build_id="test",
        signing_key_development_only=True,
    )


def _schedule(name: str, values: dict[str, str]) -> PlannedSchedule:
    return PlannedSchedule(
        pipeline_name="smp-sandbox-emr", module_pipeline_name="emr", schedule_name=name, expression="rate(1 day)",
        timezone=None, enabled=True, deployed=True, parameter_values=values, skip_if_running=False,
    )


def _emr(name: str, cluster: object) -> dict:
    return {"Name": name, "Type": "EMR", "Arguments": {"ClusterId": cluster}}


def test_step_types_include_nested_steps() -> None:
    body = {"Name": "Work", "Type": "Processing", "Arguments": {}}
    fan_out = {"Name": "Each", "Type": "ForEach", "Arguments": {"ForEachBody": [body]}}
    check = {"Name": "Check", "Type": "Condition", "Arguments": {"IfSteps": [{"Name": "Tune", "Type": "Tuning"}], "ElseSteps": []}}
    assert step_types(_compiled([fan_out, check])) == ("Condition", "ForEach", "Processing", "Tuning")


def test_a_cluster_given_as_parameter_is_its_default_and_every_schedule_value() -> None:
    compiled = _compiled(
        [_emr("A", {"Get": "Parameters.Cluster"}), _emr("B", "j-LITERAL00000")],
        parameters=[{"Name": "Cluster", "Type": "String", "DefaultValue": "j-DEFAULT00000"}],
    )
    schedules = [_schedule("nightly", {"Cluster": "j-NIGHTLY00000"}), _schedule("other", {"Unrelated": "x"})]
    assert referenced_ids(compiled, step_field=EMR_CLUSTER_FIELD, schedules=schedules) == ("j-DEFAULT00000", "j-LITERAL00000", "j-NIGHTLY00000")
    assert referenced_ids(compiled, step_field=EMR_SERVERLESS_APPLICATION_FIELD, schedules=schedules) == ()


@pytest.mark.parametrize(
    "cluster",
    [{"Get": "Parameters.Cluster"}, {"Get": "Steps.Create.ClusterId"}, {"Std:Join": {"On": "", "Values": ["j-", "x"]}}, ""],
    ids=["parameter-without-default", "step-property", "join", "empty"],
)
def test_a_cluster_synth_cannot_see_stops_synth_naming_the_step(cluster: object) -> None:
    compiled = _compiled([_emr("Aggregate", cluster)], parameters=[{"Name": "Cluster", "Type": "String"}])
    with pytest.raises(PipelineDefinitionError) as raised:
        referenced_ids(compiled, step_field=EMR_CLUSTER_FIELD, schedules=[])
    assert raised.value.step == "Aggregate" and raised.value.field == "ClusterId"
    assert "literal or a pipeline parameter with a default" in str(raised.value)
