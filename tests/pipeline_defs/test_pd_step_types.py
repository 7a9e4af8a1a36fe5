"""Every step type of SDK 3.27: compiled offline and deterministically under its guardrails, or refused.

The modules in ``step_modules/`` (one per step type or feature) compile with the network blocked
(``step_compiled``); here each is checked for the guardrail fields its API supports, and each of
those fields removed from the compiled definition fails synth naming the step and the field.
"""

from __future__ import annotations

import copy
import json

import pytest

from conftest import STEP_MODULES, _compile_offline
from pipeline_defs import validation
from pipeline_defs.contract import iter_steps
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.validation.step_checks import REFUSED_STEP_TYPES, STEP_POLICIES

VPC = {"SecurityGroupIds": ["${JobSecurityGroupId}"], "Subnets": ["${SubnetId0}", "${SubnetId1}"]}
COST_TAG = {"Key": "CostCenter", "Value": "ml-platform"}


def _steps(definition):
    return {step["Name"]: step for step, _ in iter_steps(definition["Steps"])}


def _validate(result, definition, ctx):
    """What the compiler checks, for a definition changed after its compile."""
    from pipeline_defs.compiler.stages import validate_in_context

    validate_in_context(
        definition,
        definition_text=json.dumps(definition),
        pipeline_name=result.pipeline_name,
        module_file=result.source_module,
        exemptions=result.guardrail_exemptions,
        schedules=result.schedules,
        ctx=ctx,
    )


def _remove(arguments: dict, path: str) -> None:
    """Delete the dotted ``path`` (``[i]`` for list items) from ``arguments``."""
    *parents, last = path.replace("[", ".[").split(".")
    node = arguments
    for part in parents:
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    del node[last]


def test_every_sdk_step_type_has_one_policy_and_is_compiled_or_refused(definitions, step_definitions):
    from sagemaker.mlops.workflow.steps import StepTypeEnum

    kinds = {kind.value for kind in StepTypeEnum}
    assert len(kinds) == 22 and set(STEP_POLICIES) == kinds
    compiled = {step["Type"] for d in (*definitions.values(), *step_definitions.values()) for step, _ in iter_steps(d["Steps"])}
    assert compiled | set(REFUSED_STEP_TYPES) == kinds
    assert not compiled & set(REFUSED_STEP_TYPES)


def test_every_step_module_compiles_the_same_on_another_day(step_compiled, sandbox_context, monkeypatch):
    import time

    real_time, real_time_ns = time.time, time.time_ns
    monkeypatch.setattr(time, "time", lambda: real_time() + 400 * 86400)
    monkeypatch.setattr(time, "time_ns", lambda: real_time_ns() + 400 * 86400 * 10**9)
    again = _compile_offline(sandbox_context, sorted(STEP_MODULES.glob("*.py")))
    assert sorted(again) == sorted(step_compiled)
    for name, result in step_compiled.items():
        assert again[name].definition == result.definition, name
        assert dict(again[name].staged_files) == dict(result.staged_files), name


def test_tuning_carries_what_a_training_job_carries(step_compiled, step_definitions):
    arguments = _steps(step_definitions["tuning"])["Tune"]["Arguments"]
    job = arguments["TrainingJobDefinition"]
    assert job["VpcConfig"] == VPC
    assert job["EnableNetworkIsolation"] is True and job["EnableInterContainerTrafficEncryption"] is True
    assert job["ResourceConfig"]["VolumeKmsKeyId"] == "${KmsKeyArn}"
    assert job["ResourceConfig"]["InstanceType"] == {"Get": "Parameters.TrainingInstanceType"}
    assert job["OutputDataConfig"]["KmsKeyId"] == "${KmsKeyArn}"
    assert COST_TAG in arguments["Tags"]
    assert arguments["HyperParameterTuningJobConfig"]["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 2}


def test_tuning_stages_its_code_under_the_pipeline_as_a_deterministic_tarball(step_compiled, step_definitions):
    import io
    import tarfile

    result = step_compiled["tuning"]
    job = _steps(step_definitions["tuning"])["Tune"]["Arguments"]["TrainingJobDefinition"]
    submit = job["StaticHyperParameters"]["sagemaker_submit_directory"]
    key = submit.removeprefix("s3://${ArtifactBucket}/")
    assert key.startswith("sandbox-tuning/Tune/tuning-") and key.endswith("/sourcedir/sourcedir.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(result.staged_files[key])) as archive:
        members = archive.getmembers()
    assert [m.name for m in members] == ["inference.py", "train.py"]
    assert {(m.mtime, m.uid, m.gid, m.uname) for m in members} == {(0, 0, 0, "")}
    drivers = [c for c in job["InputDataConfig"] if c["ChannelName"] == "sm_drivers"][0]
    prefix = drivers["DataSource"]["S3DataSource"]["S3Uri"].removeprefix("s3://${ArtifactBucket}/")
    assert prefix.startswith(key.split("/sourcedir/")[0]) and any(k.startswith(prefix + "/") for k in result.staged_files)


def test_check_steps_run_as_guarded_processing_jobs_named_by_the_platform(step_definitions):
    steps = _steps(step_definitions["checks"])
    for name, check_type in (("DataQuality", "DATA_QUALITY"), ("DataBias", "DATA_BIAS")):
        step = steps[name]
        arguments = step["Arguments"]
        assert step["CheckType"] == check_type
        assert arguments["ProcessingJobName"] == f"sandbox-checks-{name}"
        assert arguments["NetworkConfig"] == {"EnableInterContainerTrafficEncryption": True, "EnableNetworkIsolation": True, "VpcConfig": VPC}
        assert arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == "${KmsKeyArn}"
        assert arguments["ProcessingOutputConfig"]["KmsKeyId"] == "${KmsKeyArn}"
        assert COST_TAG in arguments["Tags"]
    assert steps["DataBias"]["DependsOn"] == ["DataQuality"]


def test_clarify_stages_its_analysis_configs_under_the_pipeline(step_compiled):
    keys = sorted(step_compiled["checks"].staged_files)
    assert all(key.startswith("sandbox-checks/checks/bias-config/") for key in keys), keys
    assert "sandbox-checks/checks/bias-config/analysis_config.json" in keys


def test_endpoint_steps_carry_key_tags_and_platform_names(step_definitions):
    steps = _steps(step_definitions["endpoint"])
    config = steps["EndpointConfig"]["Arguments"]
    assert config["KmsKeyId"] == "${KmsKeyArn}" and COST_TAG in config["Tags"]
    assert config["ProductionVariants"][0]["ModelName"] == {"Get": "Parameters.ModelName"}
    endpoint = steps["Endpoint"]["Arguments"]
    assert endpoint["EndpointConfigName"] == {"Get": "Steps.EndpointConfig.EndpointConfigName"}
    assert endpoint["EndpointName"] == "sandbox-endpoint-Endpoint" and COST_TAG in endpoint["Tags"]
    component = steps["Component"]["Arguments"]
    assert component["Specification"]["ModelName"] == {"Get": "Parameters.ModelName"} and COST_TAG in component["Tags"]


def test_emr_steps_run_on_existing_compute_given_as_parameters(step_definitions):
    steps = _steps(step_definitions["emr"])
    assert steps["Aggregate"]["Arguments"]["ClusterId"] == {"Get": "Parameters.EmrClusterId"}
    features = steps["Features"]["Arguments"]
    assert features["ApplicationId"] == {"Get": "Parameters.EmrServerlessApplicationId"}
    assert features["JobConfig"]["tags"]["CostCenter"] == "ml-platform"
    logs = features["JobConfig"]["configurationOverrides"]["monitoringConfiguration"]["s3MonitoringConfiguration"]
    assert logs["encryptionKeyArn"] == "${KmsKeyArn}"


def test_for_each_body_steps_are_guarded_like_any_job(step_definitions):
    fan_out = step_definitions["for-each"]["Steps"][0]
    assert fan_out["Arguments"]["MaxConcurrency"] == 4
    (body,) = fan_out["Arguments"]["ForEachBody"]
    assert body["Arguments"]["AppSpecification"]["ContainerArguments"] == ["--region", {"Get": "ForEach.CurrentItem"}]
    assert body["Arguments"]["NetworkConfig"]["VpcConfig"] == VPC and COST_TAG in body["Arguments"]["Tags"]


GUARDRAIL_FIELDS = [
    ("tuning", "Tune", f"TrainingJobDefinition.{field}")
    for field in (
        "VpcConfig",
        "ResourceConfig.VolumeKmsKeyId",
        "OutputDataConfig.KmsKeyId",
        "EnableNetworkIsolation",
        "EnableInterContainerTrafficEncryption",
    )
] + [("tuning", "Tune", "Tags")] + [
    ("checks", step, field)
    for step in ("DataQuality", "DataBias")
    for field in (
        "NetworkConfig.VpcConfig",
        "ProcessingResources.ClusterConfig.VolumeKmsKeyId",
        "ProcessingOutputConfig.KmsKeyId",
        "NetworkConfig.EnableNetworkIsolation",
        "NetworkConfig.EnableInterContainerTrafficEncryption",
        "Tags",
    )
] + [
    ("endpoint", "EndpointConfig", "KmsKeyId"),
    ("endpoint", "EndpointConfig", "Tags"),
    ("endpoint", "Endpoint", "Tags"),
    ("endpoint", "Component", "Tags"),
    ("endpoint", "Component", "Specification.ModelName"),
    ("emr", "Features", "JobConfig.tags"),
    ("emr", "Features", "JobConfig.configurationOverrides.monitoringConfiguration.s3MonitoringConfiguration.encryptionKeyArn"),
    ("for-each", "Summarise", "NetworkConfig.VpcConfig"),
    ("for-each", "Summarise", "ProcessingResources.ClusterConfig.VolumeKmsKeyId"),
    ("for-each", "Summarise", "Tags"),
]


@pytest.mark.parametrize(("module", "step", "field"), GUARDRAIL_FIELDS)
def test_removing_a_guardrail_field_fails_synth_naming_step_and_field(step_compiled, step_definitions, sandbox_context, module, step, field):
    result = step_compiled[module]
    _validate(result, step_definitions[module], sandbox_context)  # as compiled: passes
    definition = copy.deepcopy(step_definitions[module])
    _remove(_steps(definition)[step]["Arguments"], field)
    with pytest.raises(PipelineDefinitionError) as raised:
        _validate(result, definition, sandbox_context)
    error = raised.value
    assert (error.pipeline, error.step, error.field) == (result.pipeline_name, step, field)
    assert error.module_file == f"tests/pipeline_defs/step_modules/{module.replace('-', '_')}.py"


@pytest.mark.parametrize(
    ("module", "change", "field", "needle"),
    [
        ("tuning", lambda d: d["Parameters"][0].update(DefaultValue="ml.p4d.24xlarge"), "TrainingJobDefinition.ResourceConfig.InstanceType", "'ml.p4d.24xlarge' (default of parameter TrainingInstanceType)"),
        ("endpoint", lambda d: d["Steps"][0]["Arguments"]["ProductionVariants"][0].update(InstanceType="ml.p3.2xlarge"), "ProductionVariants[0].InstanceType", "'ml.p3.2xlarge' is not in the environment's allowlist"),
        ("endpoint", lambda d: d["Steps"][1]["Arguments"].update(EndpointName="adhoc-endpoint"), "EndpointName", "must start with 'sandbox-'"),
        ("endpoint", lambda d: d["Steps"][0]["Arguments"].update(EndpointConfigName={"Std:Join": {"On": "-", "Values": ["adhoc", {"Get": "Execution.PipelineExecutionId"}]}}), "EndpointConfigName", "must start with 'sandbox-'"),
        ("endpoint", lambda d: d["Steps"][0]["Arguments"].update(KmsKeyId="arn:aws:kms:us-east-1:111111111111:key/other"), "KmsKeyId", "is not the platform's key"),
        ("lineage-cleanup", lambda d: d["Steps"][1]["Arguments"]["Actions"][0].update(ActionName="scoring"), "Actions[0].ActionName", "must start with 'sandbox-'"),
        ("lineage-cleanup", lambda d: d["Steps"][1]["Arguments"]["Associations"][0]["Source"].update(Name="scoring"), "Associations[0].Source.Name", "lineage action and context names"),
    ],
)
def test_instance_types_names_and_keys_outside_the_platform_fail(step_compiled, step_definitions, sandbox_context, module, change, field, needle):
    definition = copy.deepcopy(step_definitions[module])
    change(definition)
    with pytest.raises(PipelineDefinitionError) as raised:
        _validate(step_compiled[module], definition, sandbox_context)
    assert raised.value.field == field and needle in raised.value.reason


def test_mermaid_draws_a_for_each_body_as_each_edges(step_definitions):
    from pipeline_defs.mermaid import definition_to_mermaid

    text = definition_to_mermaid(step_definitions["for-each"])
    assert 's0["PerRegion<br/><i>ForEach</i>"]' in text and 's1["Summarise<br/><i>Processing</i>"]' in text
    assert "  s0 -->|each| s1\n" in text


def _fail(name, message, **extra):
    return {"Name": name, "Type": "Fail", "Arguments": {"ErrorMessage": message}, **extra}


def _for_each(body, **arguments):
    return {"Name": "PerItem", "Type": "ForEach", "Arguments": {"IterableItems": ["a", "b"], "MaxConcurrency": 2, "ForEachBody": body, **arguments}}


def _lambda(name, **arguments):
    return {"Name": name, "Type": "Lambda", "FunctionArn": "${FanOutFunctionArn}", "Arguments": arguments}


@pytest.mark.parametrize(
    ("steps", "step", "field", "needle"),
    [
        ([_fail("Outside", {"Get": "ForEach.CurrentItem"})], "Outside", "Arguments", "only valid in a ForEach body"),
        ([_for_each([_lambda("Body")]), _fail("Body-1", "x")], "Body-1", "Name", "collides with the children of ForEach body step 'Body'"),
        (
            [_for_each([_lambda("Body")], Selector={"Pick": "MaxBy", "Field": {"Get": "IterationOutput.Other.OutputParameters['x']"}}), _lambda("Other")],
            "PerItem",
            "Arguments.Selector",
            "must name a step of this ForEach body",
        ),
        ([_for_each([_lambda("Body")], MaxConcurrency=51)], "PerItem", "Arguments/MaxConcurrency", "51 is greater than the maximum of 50"),
    ],
)
def test_for_each_references_and_names_are_checked(steps, step, field, needle):
    definition = {"Version": "2020-12-01", "Metadata": {}, "Parameters": [], "Steps": steps}
    with pytest.raises(PipelineDefinitionError) as raised:
        validation.validate_definition(
            definition, definition_text=json.dumps(definition), pipeline_name="sandbox-p", module_file="p.py", cost_tag_key="CostCenter"
        )
    assert (raised.value.step, raised.value.field) == (step, field) and needle in raised.value.reason


def test_a_for_each_body_may_read_its_item_and_the_selector_its_iterations():
    body = _lambda("Body", item={"Get": "ForEach.CurrentItem.region"})
    selector = {"Pick": "MaxBy", "Field": {"Get": "IterationOutput.Body.OutputParameters['score']"}}
    after = _fail("After", {"Get": "Steps.PerItem.Selected.OutputParameters['score']"})
    definition = {"Version": "2020-12-01", "Metadata": {}, "Parameters": [], "Steps": [_for_each([body], Selector=selector), after]}
    validation.validate_definition(
        definition, definition_text=json.dumps(definition), pipeline_name="sandbox-p", module_file="p.py", cost_tag_key="CostCenter"
    )
