"""The schema's known gaps (each shown necessary on SDK output) and the cross-reference checks."""

from __future__ import annotations

import copy
import re
import json

import jsonschema
import pytest

from pipeline_defs import validation
from pipeline_defs.contract import iter_steps
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.validation.known_gaps import KNOWN_GAPS
from pipeline_defs.validation.schema import SCHEMA_PATH, schema_in_scope, schema_with_gaps


def _valid(schema: dict, instance, definition_name: str | None) -> bool:
    if definition_name is not None and definition_name not in schema["definitions"]:
        return False  # a step type the schema has no definition for
    if definition_name is not None:
        schema = {"$ref": f"#/definitions/{definition_name}", "definitions": schema["definitions"]}
    return jsonschema.Draft7Validator(schema).is_valid(instance)


def _step(definitions, pipeline, name):
    return copy.deepcopy({s["Name"]: s for s, _ in iter_steps(definitions[pipeline]["Steps"])}[name])


def _top_level(definitions, pipeline, keep):
    definition = definitions[pipeline]
    return {k: v for k, v in definition.items() if k in keep} | {"Steps": []}


def _condition_only(definitions, pipeline, name, *, if_steps=()):
    step = _step(definitions, pipeline, name)
    step["Arguments"]["IfSteps"] = [_step(definitions, pipeline, s) for s in if_steps]
    step["Arguments"]["ElseSteps"] = []
    return step


def _without_body(step):
    """A ForEach step as the schema sees it: its body steps are checked on their own."""
    step["Arguments"]["ForEachBody"] = []
    return step


# What the SDK emitted for each gap, taken from the compiled example pipelines and step modules.
GAP_EVIDENCE = {
    "pipeline-experiment-config": lambda d: (_top_level(d, "train-evaluate-register", {"Version", "Parameters", "PipelineExperimentConfig"}), None),
    "mlflow-config": lambda d: (_top_level(d, "train-evaluate-register", {"Version", "MlflowConfig"}), None),
    "property-files": lambda d: (_step(d, "train-evaluate-register", "Evaluate"), "ProcessingStep"),
    "std-functions-as-values": lambda d: (_condition_only(d, "train-evaluate-register", "CheckMse"), "ConditionStep"),
    "branch-lambda-and-model-steps": lambda d: (_condition_only(d, "train-evaluate-register", "CheckMse", if_steps=["CreateModel"]), "ConditionStep"),
    "retry-policy-exception-types": lambda d: (_step(d, "retry-cache-flags", "Prepare"), "ProcessingStep"),
    "check-step-fields": lambda d: (_step(d, "checks", "DataQuality"), "QualityCheckStep"),
    "endpoint-config-step-type": lambda d: (_step(d, "endpoint", "EndpointConfig"), "EndpointConfigStep"),
    "for-each-step": lambda d: (_without_body(_step(d, "for-each", "PerRegion")), "ForEachStep"),
    "cleanup-step": lambda d: (_step(d, "lineage-cleanup", "DeleteScratch"), "CleanupStep"),
    "lineage-step": lambda d: (_step(d, "lineage-cleanup", "RecordLineage"), "LineageStep"),
    "inference-component-step": lambda d: (_step(d, "endpoint", "Component"), "InferenceComponentStep"),
    "emr-serverless-step": lambda d: (_step(d, "emr", "Features"), "EMRServerlessStep"),
}


def test_every_known_gap_has_evidence():
    assert sorted(GAP_EVIDENCE) == sorted(gap.gap_id for gap in KNOWN_GAPS)


@pytest.mark.parametrize("gap_id", sorted(GAP_EVIDENCE))
def test_known_gap_is_emitted_by_the_sdk_and_needed(gap_id, definitions, step_definitions):
    instance, definition_name = GAP_EVIDENCE[gap_id]({**definitions, **step_definitions})
    all_gaps = {gap.gap_id for gap in KNOWN_GAPS}
    assert not _valid(schema_in_scope(), instance, definition_name), "published schema accepts it"
    assert not _valid(schema_with_gaps(all_gaps - {gap_id}), instance, definition_name), "another gap already covers it"
    assert _valid(schema_with_gaps(all_gaps), instance, definition_name)


def _definition(steps, parameters=()):
    return {"Version": "2020-12-01", "Metadata": {}, "Parameters": list(parameters), "Steps": steps}


def _fail_step(name, message="x", depends_on=None):
    step = {"Name": name, "Type": "Fail", "Arguments": {"ErrorMessage": message}}
    if depends_on:
        step["DependsOn"] = depends_on
    return step


def _validate(definition):
    validation.validate_definition(
        definition,
        definition_text=json.dumps(definition),
        pipeline_name="sandbox-p",
        module_file="pipeline_defs/pipelines/p.py",
        cost_tag_key="CostCenter",
    )


def test_a_valid_hand_written_definition_passes():
    _validate(_definition([_fail_step("A"), _fail_step("B", depends_on=["A"])]))


@pytest.mark.parametrize(
    ("definition", "step", "field", "needle"),
    [
        (_definition([_fail_step("A", depends_on=["Missing"])]), "A", "DependsOn", "does not exist: 'Missing'"),
        (_definition([_fail_step("A", depends_on=["B"]), _fail_step("B", depends_on=["A"])]), "B", "DependsOn", "dependency cycle: A -> B -> A"),
        (_definition([_fail_step("A"), _fail_step("A")]), "A", "Name", "duplicate step name"),
        (_definition([_fail_step("A", {"Get": "Parameters.Nope"})]), "A", "Arguments", "undeclared parameter 'Nope'"),
        (_definition([_fail_step("A", {"Get": "Steps.Ghost.ProcessingOutputConfig"})]), "A", "Arguments", "step that does not exist"),
        (_definition([_fail_step("A", {"Std:JsonGet": {"Path": "a", "PropertyFile": {"Get": "Steps.B.PropertyFiles.Report"}}}), _fail_step("B")]), "A", "Arguments", "property file 'Report' is not declared"),
        (_definition([_fail_step("bad name")]), "bad name", "Name", "contains ' ': only letters, digits, hyphens and underscores are allowed"),
        (_definition([_fail_step("A", "${NotAPlaceholder}")]), "A", "Arguments", "${NotAPlaceholder}"),
        (_definition([{"Name": "A", "Type": "Fail", "Arguments": {"ErrorMessage": "x", "Extra": 1}, "Surprise": True}]), "A", "(root)", "schema"),
    ],
)
def test_cross_reference_and_schema_errors_name_pipeline_step_and_field(definition, step, field, needle):
    with pytest.raises(PipelineDefinitionError) as raised:
        _validate(definition)
    error = raised.value
    assert needle in str(error)
    assert error.pipeline == "sandbox-p" and error.module_file == "pipeline_defs/pipelines/p.py"
    assert error.step == step and error.field == field


def test_duplicate_parameter_names_fail():
    parameters = [{"Name": "P", "Type": "String"}, {"Name": "P", "Type": "String"}]
    with pytest.raises(PipelineDefinitionError, match="duplicate parameter name 'P'"):
        _validate(_definition([_fail_step("A")], parameters))


def test_definition_size_limit():
    definition = _definition([_fail_step("A", "x" * validation.MAX_DEFINITION_CHARACTERS)])
    with pytest.raises(PipelineDefinitionError, match="the limit is 1048576"):
        _validate(definition)


def test_the_schema_in_the_repository_is_awss_published_one():
    """The copy in pipeline_defs/schema matches the published schema the project was given."""
    from pathlib import Path

    published = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "pipeline-definition.schema.json"
    if not published.is_file():
        pytest.skip("the published schema is not beside this checkout")
    assert SCHEMA_PATH.read_bytes() == published.read_bytes()


def _unisolated_training(name: str) -> dict:
    """A training job carrying every guardrail but network isolation."""
    return {
        "Name": name,
        "Type": "Training",
        "Arguments": {
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeKmsKeyId": "${KmsKeyArn}"},
            "VpcConfig": {"Subnets": ["${SubnetId0}"], "SecurityGroupIds": ["${JobSecurityGroupId}"]},
            "OutputDataConfig": {"KmsKeyId": "${KmsKeyArn}"},
            "EnableNetworkIsolation": False,
            "EnableInterContainerTrafficEncryption": True,
            "Tags": [{"Key": "CostCenter", "Value": "ml-platform"}],
        },
    }


def _check_exempting(steps: list[dict], *exempted: str) -> None:
    from pipeline_defs.schedules import Guardrail, GuardrailExemption
    from pipeline_defs.validation.guardrails import check_guardrails

    exemption = GuardrailExemption(guardrail=Guardrail.NETWORK_ISOLATION, reason="r", owner="ml-platform", expires="2099-12-31", steps=exempted)
    check_guardrails(
        _definition(steps), PipelineDefinitionError, exemptions=(exemption,), cost_tag_key="CostCenter", allowed_instance_types=(), platform=None
    )


def test_an_exemption_a_foreach_body_step_needs_is_used():
    for_each = {"Name": "Each", "Type": "ForEach", "Arguments": {"ForEachBody": [_unisolated_training("Body")]}}
    _check_exempting([for_each], "Body")
    with pytest.raises(PipelineDefinitionError, match=r"names 'Bodi', which is not a step of this pipeline \(did you mean 'Body'\?\)"):
        _check_exempting([for_each], "Bodi")


def test_an_exemption_for_a_step_type_without_that_guardrail_is_needed_by_no_step():
    lambda_step = {"Name": "Notify", "Type": "Lambda", "Arguments": {}}
    _check_exempting([lambda_step, _unisolated_training("Train")], "Notify", "Train")
    with pytest.raises(PipelineDefinitionError, match=r"exemption for steps \['Notify'\] is needed by no step") as raised:
        _check_exempting([lambda_step], "Notify")
    assert raised.value.field == "GUARDRAIL_EXEMPTIONS"


def _register(status: object, *, default: str | None = None, schedule_value: str | None = None) -> None:
    from pipeline_defs.schedules import Schedule
    from pipeline_defs.validation.guardrails import check_guardrails

    definition = _definition([{"Name": "Register", "Type": "RegisterModel", "Arguments": {"ModelPackageGroupName": "g", "ModelApprovalStatus": status}}])
    if default is not None:
        definition["Parameters"] = [{"Name": "ApprovalStatus", "Type": "String", "DefaultValue": default}]
    schedules = () if schedule_value is None else (Schedule(name="nightly", expression="cron(0 2 * * ? *)", parameter_values={"ApprovalStatus": schedule_value}),)
    check_guardrails(definition, PipelineDefinitionError, exemptions=(), cost_tag_key="CostCenter", allowed_instance_types=(), platform=None, schedules=schedules)


def test_a_pipeline_never_approves_its_own_model_versions():
    parameter = {"Get": "Parameters.ApprovalStatus"}
    _register("PendingManualApproval")
    _register(None)
    _register(parameter, default="PendingManualApproval", schedule_value="Rejected")
    for status, kwargs, where in (
        ("Approved", {}, "'Approved':"),
        (parameter, {"default": "Approved"}, "(default of parameter ApprovalStatus)"),
        (parameter, {"default": "PendingManualApproval", "schedule_value": "Approved"}, "(parameter ApprovalStatus in schedule 'nightly')"),
    ):
        with pytest.raises(PipelineDefinitionError, match=re.escape(where)) as raised:
            _register(status, **kwargs)
        assert raised.value.step == "Register" and raised.value.field == "ModelApprovalStatus"


def _experiment(config, *, pipeline_name="smp-sandbox-p"):
    from pipeline_defs.validation.guardrails import check_experiment_names

    definition = _definition([_fail_step("A")]) | ({} if config is _ABSENT else {"PipelineExperimentConfig": config})
    check_experiment_names(definition, PipelineDefinitionError, prefix="smp-sandbox", pipeline_name=pipeline_name)


_ABSENT = object()
_EXECUTION_ID = {"Get": "Execution.PipelineExecutionId"}
_PIPELINE_NAME = {"Get": "Execution.PipelineName"}


def _join(*values, on="-"):
    return {"Std:Join": {"On": on, "Values": list(values)}}


def test_experiment_and_trial_names_within_the_environment_prefix_pass():
    _experiment(_ABSENT)
    _experiment(None)
    _experiment({"ExperimentName": _PIPELINE_NAME, "TrialName": _join("smp-sandbox", _EXECUTION_ID)})
    _experiment({"TrialName": _join("smp-sandbox-nightly", _EXECUTION_ID)})
    _experiment({"ExperimentName": "smp-sandbox-shared", "TrialName": "smp-sandbox-one-trial"})
    _experiment({"ExperimentName": _join("smp-sandbox-", _PIPELINE_NAME, on=""), "TrialName": _join("smp-sandbox-", _EXECUTION_ID, on="")})


@pytest.mark.parametrize(
    ("config", "pipeline_name", "field"),
    [
        # The SDK's default: the trial is the bare execution id.
        ({"ExperimentName": _PIPELINE_NAME, "TrialName": _EXECUTION_ID}, "smp-sandbox-p", "TrialName"),
        ({"ExperimentName": _PIPELINE_NAME}, "smp-sandbox-p", "TrialName"),
        ({"ExperimentName": _PIPELINE_NAME, "TrialName": _join("smp-prod", _EXECUTION_ID)}, "smp-sandbox-p", "TrialName"),
        # The prefix without its separator: "smp-sandboxed-…" belongs to another environment.
        ({"ExperimentName": _PIPELINE_NAME, "TrialName": _join("smp-sandbox", _EXECUTION_ID, on="")}, "smp-sandbox-p", "TrialName"),
        ({"ExperimentName": _PIPELINE_NAME, "TrialName": _join(_EXECUTION_ID, "smp-sandbox")}, "smp-sandbox-p", "TrialName"),
        ({"ExperimentName": _PIPELINE_NAME, "TrialName": _join("smp-sandbox")}, "smp-sandbox-p", "TrialName"),
        ({"ExperimentName": "abalone", "TrialName": "smp-sandbox-t"}, "smp-sandbox-p", "ExperimentName"),
        ({"ExperimentName": _PIPELINE_NAME, "TrialName": "smp-sandbox-t"}, "other-p", "ExperimentName"),
        ({"TrialName": "smp-sandbox-t"}, "other-p", "ExperimentName"),
    ],
)
def test_experiment_or_trial_outside_the_environment_prefix_fails(config, pipeline_name, field):
    with pytest.raises(PipelineDefinitionError) as raised:
        _experiment(config, pipeline_name=pipeline_name)
    assert raised.value.field == f"PipelineExperimentConfig.{field}"
    assert "must start with 'smp-sandbox-'" in str(raised.value)
    assert repr(config.get(field)) in str(raised.value)


def test_the_definition_check_refuses_a_trial_outside_the_prefix():
    definition = _definition([_fail_step("A")]) | {"PipelineExperimentConfig": {"ExperimentName": _PIPELINE_NAME, "TrialName": _EXECUTION_ID}}
    kwargs = dict(definition_text=json.dumps(definition), pipeline_name="smp-sandbox-p", module_file="p.py", cost_tag_key="CostCenter")
    validation.validate_definition(definition, **kwargs)  # no prefix given: names unchecked
    with pytest.raises(PipelineDefinitionError) as raised:
        validation.validate_definition(definition, job_name_prefix="smp-sandbox", **kwargs)
    assert raised.value.field == "PipelineExperimentConfig.TrialName" and raised.value.pipeline == "smp-sandbox-p"
