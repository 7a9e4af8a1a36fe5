"""The pipeline-wide synth checks, on small hand-written definitions: names inside the execution
role's scope, only the platform's own subnets, security groups and key, what a Cleanup step may
delete, and exemptions that name real steps and are needed."""

from __future__ import annotations

import pytest

from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.schedules import Guardrail, GuardrailExemption
from pipeline_defs.validation.guardrails import (
    REMOTE_FUNCTION_BOOTSTRAP,
    PlatformValues,
    check_experiment_names,
    check_guardrails,
    check_job_names,
    is_function_step,
)
from pipeline_defs.validation.step_checks import REFUSED_STEP_TYPES, STEP_POLICIES

PREFIX = "smp-sandbox"
KEY = "arn:aws:kms:us-east-1:123456789012:key/platform"
PLATFORM = PlatformValues(subnet_ids=("subnet-a", "subnet-b"), security_group_ids=("sg-1",), kms_key=KEY, own_prefix="s3://bucket/p/")
VPC = {"Subnets": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-1"]}
TAGS = [{"Key": "CostCenter", "Value": "ml-platform"}]
EXECUTION_ID = {"Get": "Execution.PipelineExecutionId"}


def _definition(*steps: dict) -> dict:
    return {"Version": "2020-12-01", "Parameters": [], "Steps": list(steps)}


def _exemption(guardrail: Guardrail, *steps: str) -> GuardrailExemption:
    return GuardrailExemption(guardrail=guardrail, reason="r", owner="ml-platform", expires="2099-12-31", steps=steps)


def _check(*steps: dict, exemptions=(), platform: PlatformValues | None = PLATFORM) -> None:
    check_guardrails(
        _definition(*steps), PipelineDefinitionError, exemptions=exemptions, cost_tag_key="CostCenter", allowed_instance_types=(), platform=platform
    )


def _refusal(call) -> PipelineDefinitionError:
    with pytest.raises(PipelineDefinitionError) as raised:
        call()
    return raised.value


def _join(*values, on="-"):
    return {"Std:Join": {"On": on, "Values": list(values)}}


def _training(name: str = "Train", *, isolated: bool = True, entrypoint: list | None = None, **changes) -> dict:
    arguments = {
        "TrainingJobName": f"{PREFIX}-p-{name}",
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeKmsKeyId": KEY},
        "VpcConfig": VPC,
        "OutputDataConfig": {"KmsKeyId": KEY},
        "EnableNetworkIsolation": isolated,
        "EnableInterContainerTrafficEncryption": True,
        "Tags": TAGS,
    } | changes
    if entrypoint is not None:
        arguments["AlgorithmSpecification"] = {"ContainerEntrypoint": entrypoint}
    return {"Name": name, "Type": "Training", "Arguments": arguments}


def _lambda(name: str = "Notify", arguments: dict | None = None) -> dict:
    return {"Name": name, "Type": "Lambda", "Arguments": arguments or {}}


# Job names ----------------------------------------------------------------------------------------

JOB_NAME_REFUSAL = "must start with 'smp-sandbox-' (the execution role may only create those); use ctx.job_name(step)"

NAMED_STEPS = [
    ("Training", "TrainingJobName"),
    ("Processing", "ProcessingJobName"),
    ("QualityCheck", "ProcessingJobName"),
    ("ClarifyCheck", "ProcessingJobName"),
    ("Transform", "TransformJobName"),
    ("Model", "ModelName"),
    ("RegisterModel", "ModelPackageGroupName"),
    ("EndpointConfig", "EndpointConfigName"),
    ("Endpoint", "EndpointName"),
    ("InferenceComponent", "InferenceComponentName"),
]


def _names(*steps: dict) -> None:
    check_job_names(_definition(*steps), PipelineDefinitionError, prefix=PREFIX)


@pytest.mark.parametrize(("kind", "field"), NAMED_STEPS)
def test_a_job_named_inside_the_prefix_passes(kind, field):
    _names({"Name": "S", "Type": kind, "Arguments": {field: f"{PREFIX}-p-S"}})
    _names({"Name": "S", "Type": kind, "Arguments": {field: _join(f"{PREFIX}-p-S", EXECUTION_ID)}})


@pytest.mark.parametrize(("kind", "field"), NAMED_STEPS)
@pytest.mark.parametrize("name", [None, "abalone-train", "smp-sandboxed-train", "smp-prod-train", _join("smp-sandbox", EXECUTION_ID, on="")])
def test_a_job_named_outside_the_prefix_fails_naming_step_field_and_name(kind, field, name):
    arguments = {} if name is None else {field: name}
    error = _refusal(lambda: _names({"Name": "S", "Type": kind, "Arguments": arguments}))
    assert (error.step, error.field) == ("S", field)
    assert error.reason == f"{field} is {name!r}: job, model and model package group names {JOB_NAME_REFUSAL}"


@pytest.mark.parametrize(
    "name",
    [
        {"Get": "Parameters.JobName"},
        {"Std:Join": {"On": 1, "Values": [f"{PREFIX}-x"]}},
        {"Std:Join": {"On": "-", "Values": f"{PREFIX}-x"}},
        {"Std:Join": {"On": "-", "Values": []}},
        {"Std:Join": {"On": "-", "Values": [EXECUTION_ID, f"{PREFIX}-x"]}},
        {"Std:Join": [f"{PREFIX}-x"]},
    ],
)
def test_a_name_whose_start_synth_cannot_read_fails(name):
    error = _refusal(lambda: _names(_training(TrainingJobName=name)))
    assert error.field == "TrainingJobName"


def test_a_join_of_one_value_is_that_value_and_of_more_ends_with_the_separator():
    _names(_training(TrainingJobName=_join(f"{PREFIX}-train")))
    _names(_training(TrainingJobName=_join(PREFIX, EXECUTION_ID)))
    with pytest.raises(PipelineDefinitionError):
        _names(_training(TrainingJobName=_join(PREFIX)))
    with pytest.raises(PipelineDefinitionError):
        _names(_training(TrainingJobName=_join(PREFIX, EXECUTION_ID, on="_")))


def test_nested_steps_and_every_step_after_an_unnamed_type_are_checked():
    bad = _training("Inner", TrainingJobName="abalone")
    for_each = {"Name": "Each", "Type": "ForEach", "Arguments": {"ForEachBody": [bad]}}
    error = _refusal(lambda: _names(_lambda(), {"Name": "Odd", "Type": "Mystery"}, for_each))
    assert (error.step, error.field) == ("Inner", "TrainingJobName")
    _names(_lambda(), {"Name": "Odd"}, _training())


LINEAGE_REFUSAL = "must start with 'smp-sandbox-' (the execution role may only create and associate those); use ctx.job_name(...)"


def _lineage(**arguments) -> dict:
    return {"Name": "Record", "Type": "Lineage", "Arguments": arguments}


def test_lineage_actions_contexts_and_their_associations_inside_the_prefix_pass():
    _names(
        _lineage(
            Actions=[{"ActionName": f"{PREFIX}-deploy"}],
            Contexts=[{"ContextName": f"{PREFIX}-endpoint"}, {"ContextName": f"{PREFIX}-model"}],
            Associations=[
                {"Source": {"Type": "Action", "Name": f"{PREFIX}-deploy"}, "Destination": {"Type": "Context", "Name": f"{PREFIX}-model"}},
                # Artifacts are named by their source URI's hash, and a reference by ARN has no name.
                {"Source": {"Type": "Artifact", "Name": "s3://bucket/data"}, "Destination": {"Type": "Action", "Arn": "arn:x"}},
            ],
        ),
        _lineage(),
    )


@pytest.mark.parametrize(
    ("arguments", "field", "name"),
    [
        ({"Actions": [{"ActionName": "deploy"}]}, "Actions[0].ActionName", "deploy"),
        ({"Actions": [{"ActionName": f"{PREFIX}-a"}, {"ActionName": "smp-sandboxed-b"}]}, "Actions[1].ActionName", "smp-sandboxed-b"),
        ({"Actions": [{"Type": "Deploy"}]}, "Actions[0].ActionName", None),
        ({"Contexts": [{"ContextName": f"{PREFIX}-a"}, {"ContextName": "endpoint"}]}, "Contexts[1].ContextName", "endpoint"),
        # A name built at run time cannot be shown inside the prefix.
        ({"Contexts": [{"ContextName": _join(f"{PREFIX}-a", EXECUTION_ID)}]}, "Contexts[0].ContextName", _join(f"{PREFIX}-a", EXECUTION_ID)),
        (
            {"Associations": [{"Source": {"Type": "Action", "Name": f"{PREFIX}-a"}, "Destination": {"Type": "Artifact", "Name": "x"}},
                              {"Source": {"Type": "Artifact", "Name": "y"}, "Destination": {"Type": "Context", "Name": "other"}}]},
            "Associations[1].Destination.Name",
            "other",
        ),
        ({"Associations": [{"Source": {"Type": "Action", "Name": "deploy"}}]}, "Associations[0].Source.Name", "deploy"),
    ],
)
def test_a_lineage_name_outside_the_prefix_fails_naming_its_field(arguments, field, name):
    error = _refusal(lambda: _names(_lineage(**arguments)))
    assert (error.step, error.field) == ("Record", field)
    assert error.reason == f"{field} is {name!r}: lineage action and context names {LINEAGE_REFUSAL}"


def test_steps_after_a_lineage_step_are_checked():
    error = _refusal(lambda: _names(_lineage(), _training(TrainingJobName="abalone")))
    assert (error.step, error.field) == ("Train", "TrainingJobName")


# Experiment and trial names ------------------------------------------------------------------------

def _experiment(config: dict, *, pipeline_name: str = f"{PREFIX}-p") -> None:
    definition = _definition() | {"PipelineExperimentConfig": config}
    check_experiment_names(definition, PipelineDefinitionError, prefix=PREFIX, pipeline_name=pipeline_name)


def test_a_pipeline_without_an_experiment_config_records_none():
    check_experiment_names(_definition(), PipelineDefinitionError, prefix=PREFIX, pipeline_name="other-p")
    _experiment(None, pipeline_name="other-p")


def test_experiment_and_trial_names_inside_the_prefix_pass():
    _experiment({"ExperimentName": {"Get": "Execution.PipelineName"}, "TrialName": _join(PREFIX, EXECUTION_ID)})
    _experiment({"ExperimentName": _join(f"{PREFIX}-", {"Get": "Execution.PipelineName"}, on=""), "TrialName": f"{PREFIX}-t"})


def test_an_experiment_outside_the_prefix_fails_saying_how_new_pipeline_names_them():
    error = _refusal(lambda: _experiment({"ExperimentName": "abalone", "TrialName": f"{PREFIX}-t"}))
    assert (error.step, error.field) == (None, "PipelineExperimentConfig.ExperimentName")
    assert error.reason == (
        "PipelineExperimentConfig.ExperimentName is 'abalone': experiment and trial names must start with 'smp-sandbox-' "
        "(the execution role may only create those); building.new_pipeline names the experiment after the pipeline "
        "and each trial Join('-', ['smp-sandbox', execution id])"
    )


def test_an_absent_experiment_name_is_the_pipelines():
    _experiment({"TrialName": f"{PREFIX}-t"}, pipeline_name=f"{PREFIX}-p")
    error = _refusal(lambda: _experiment({"TrialName": f"{PREFIX}-t"}, pipeline_name="other-p"))
    assert error.field == "PipelineExperimentConfig.ExperimentName" and "ExperimentName is None:" in error.reason


def test_an_absent_trial_name_is_the_bare_execution_id():
    error = _refusal(lambda: _experiment({"ExperimentName": f"{PREFIX}-e"}, pipeline_name=f"{PREFIX}-p"))
    assert error.field == "PipelineExperimentConfig.TrialName" and "TrialName is None:" in error.reason


def test_the_pipeline_name_variable_stands_for_the_pipelines_name_in_either_field():
    config = {"ExperimentName": f"{PREFIX}-e", "TrialName": {"Get": "Execution.PipelineName"}}
    _experiment(config, pipeline_name=f"{PREFIX}-p")
    error = _refusal(lambda: _experiment(config, pipeline_name="other-p"))
    assert error.field == "PipelineExperimentConfig.TrialName"
    assert error.reason.startswith("PipelineExperimentConfig.TrialName is {'Get': 'Execution.PipelineName'}: ")


# Platform values ----------------------------------------------------------------------------------

def test_the_platforms_own_subnets_security_groups_and_key_pass():
    _check(_training(), platform=PLATFORM)
    _check(_training(VpcConfig={"Subnets": ["subnet-b"], "SecurityGroupIds": ["sg-1"]}), platform=PLATFORM)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"VpcConfig": {"Subnets": ["subnet-a", "subnet-x", "subnet-b", "subnet-y"], "SecurityGroupIds": ["sg-1"]}}, "Subnets",
         "Subnets ['subnet-x', 'subnet-y'] are not the platform's own ['subnet-a', 'subnet-b']"),
        ({"VpcConfig": {"Subnets": ["subnet-a"], "SecurityGroupIds": ["sg-1", "sg-2"]}}, "SecurityGroupIds",
         "SecurityGroupIds ['sg-2'] are not the platform's own ['sg-1']"),
        ({"OutputDataConfig": {"KmsKeyId": "alias/aws/s3"}}, "KmsKeyId", f"KmsKeyId 'alias/aws/s3' is not the platform's key {KEY!r}"),
        ({"ResourceConfig": {"InstanceType": "ml.m5.large", "VolumeKmsKeyId": "other"}}, "VolumeKmsKeyId", f"VolumeKmsKeyId 'other' is not the platform's key {KEY!r}"),
        ({"Extra": [{"Nested": {"encryptionKeyArn": "other"}}]}, "encryptionKeyArn", f"encryptionKeyArn 'other' is not the platform's key {KEY!r}"),
    ],
)
def test_a_subnet_security_group_or_key_of_someone_else_fails(changes, field, message):
    error = _refusal(lambda: _check(_training(**changes), platform=PLATFORM))
    assert (error.step, error.field, error.reason) == ("Train", field, message)


def test_values_given_at_run_time_are_not_compared():
    parameter = {"Get": "Parameters.Key"}
    _check(_training(VpcConfig={"Subnets": parameter, "SecurityGroupIds": ["sg-1"]}, OutputDataConfig={"KmsKeyId": parameter}), platform=PLATFORM)


def test_platform_values_are_checked_on_steps_with_only_a_cost_tag_and_not_on_steps_without_guardrails():
    endpoint = {"Name": "Endpoint", "Type": "Endpoint", "Arguments": {"EndpointName": "e", "KmsKeyId": "other", "Tags": TAGS}}
    error = _refusal(lambda: _check(endpoint, platform=PLATFORM))
    assert (error.step, error.field) == ("Endpoint", "KmsKeyId")
    # A Lambda step's arguments are the function's input, not a job's settings.
    _check(_lambda(arguments={"Subnets": ["subnet-x"], "KmsKeyId": "other"}), platform=PLATFORM)


def test_without_platform_values_only_the_guardrails_are_checked():
    _check(_training(VpcConfig={"Subnets": ["subnet-x"], "SecurityGroupIds": ["sg-9"]}), platform=None)


# Step types ---------------------------------------------------------------------------------------

def test_an_unknown_step_type_fails_listing_the_known_ones():
    error = _refusal(lambda: _check({"Name": "Odd", "Type": "Mystery", "Arguments": {}}))
    assert (error.step, error.field) == ("Odd", "Type")
    assert error.reason == f"unknown step type 'Mystery' (known: {sorted(STEP_POLICIES)})"


@pytest.mark.parametrize("kind", sorted(REFUSED_STEP_TYPES))
def test_a_refused_step_type_fails_with_its_reason_before_any_other_check(kind):
    step = {"Name": "Refused", "Type": kind, "Arguments": {"Subnets": ["subnet-x"], "KmsKeyId": "other"}}
    error = _refusal(lambda: _check(step, platform=PLATFORM))
    assert (error.step, error.field) == ("Refused", "Type")
    assert error.reason == f"{kind} steps cannot be compiled here: {REFUSED_STEP_TYPES[kind]}"


def test_steps_inside_condition_branches_are_checked():
    condition = {"Name": "Check", "Type": "Condition", "Arguments": {"IfSteps": [_training()], "ElseSteps": [_training("Other", VpcConfig={})]}}
    error = _refusal(lambda: _check(condition))
    assert (error.step, error.field) == ("Other", "VpcConfig")


# Cleanup ------------------------------------------------------------------------------------------

def _cleanup(*sources: dict) -> dict:
    return {"Name": "Cleanup", "Type": "Cleanup", "Arguments": {"Resources": {"S3": list(sources)}}}


def _source(step: str, *uris) -> dict:
    return {"StepName": step, "S3Uris": list(uris)}


def test_a_cleanup_of_what_a_step_outside_a_vpc_wrote_under_the_pipelines_prefix_passes():
    _check(
        _lambda("Write"),
        _cleanup(
            _source("Write", "s3://bucket/p/scratch/x", {"Get": "Steps.Write.OutputPath"}, _join("s3:/", "bucket", "p", EXECUTION_ID, on="/")),
            # A step that is not there, or not a job, runs in no VPC.
            _source("Elsewhere", "s3://bucket/p/other"),
        ),
    )
    _check(_lambda("Write"), _cleanup(_source("Write", "s3://elsewhere/x")), platform=None)
    _check(_cleanup())


@pytest.mark.parametrize(
    "job",
    [
        _training("Job"),
        {"Name": "Job", "Type": "Processing", "Arguments": {"NetworkConfig": {"VpcConfig": VPC}}},
        {"Name": "Job", "Type": "Tuning", "Arguments": {"TrainingJobDefinitions": [{}, {"VpcConfig": VPC}]}},
    ],
)
def test_a_cleanup_of_a_step_running_in_a_vpc_fails(job):
    exemptions = (_exemption(Guardrail.VPC), _exemption(Guardrail.VOLUME_KMS_KEY), _exemption(Guardrail.OUTPUT_KMS_KEY),
                  _exemption(Guardrail.NETWORK_ISOLATION, "Job"), _exemption(Guardrail.INTER_CONTAINER_ENCRYPTION), _exemption(Guardrail.COST_TAG))
    cleanup = _cleanup(_source("Other"), _source("Job", "s3://bucket/p/x"))
    with pytest.raises(PipelineDefinitionError) as raised:
        check_guardrails(_definition(job, _lambda("Other"), cleanup), PipelineDefinitionError, exemptions=exemptions, cost_tag_key="CostCenter", allowed_instance_types=(), platform=None)
    error = raised.value
    assert (error.step, error.field) == ("Cleanup", "Resources.S3[1].StepName")
    assert error.reason == (
        "SageMaker cannot clean up the outputs of step 'Job': it runs in a VPC, as every job step here does; "
        "delete them in a Lambda step, or let an S3 lifecycle rule expire them"
    )


def test_a_step_with_an_empty_vpc_runs_in_none():
    job = {"Name": "Job", "Type": "Model", "Arguments": {"VpcConfig": {}}}
    exemptions = (_exemption(Guardrail.VPC), _exemption(Guardrail.NETWORK_ISOLATION, "Job"), _exemption(Guardrail.COST_TAG))
    check_guardrails(_definition(job, _cleanup(_source("Job"))), PipelineDefinitionError, exemptions=exemptions, cost_tag_key="CostCenter", allowed_instance_types=(), platform=None)


@pytest.mark.parametrize(
    "uri",
    [
        "s3://bucket/other/x",
        "s3://bucket/p",
        "s3://bucket/pipeline-two/x",
        {"Get": "Steps.Other.OutputPath"},
        {"Get": "Steps.WriteMore.OutputPath"},
        {"Get": ["Steps.Write.OutputPath"]},
        _join("s3:/", "bucket", "p", EXECUTION_ID, on="-"),
        _join("s3:/", "bucket", "q", EXECUTION_ID, on="/"),
        _join("s3:/", "bucket", EXECUTION_ID, "p", on="/"),
        _join("s3:/", "bucket", on="/"),
        {"Std:Join": {"On": "/"}},
        {"Std:Join": "s3://bucket/p/x"},
        None,
    ],
)
def test_a_cleanup_of_anything_but_the_pipelines_own_prefix_or_the_sources_outputs_fails(uri):
    error = _refusal(lambda: _check(_lambda("Write"), _cleanup(_source("Write", "s3://bucket/p/a", uri))))
    assert (error.step, error.field) == ("Cleanup", "Resources.S3[0].S3Uris[1]")
    assert error.reason == (
        f"{uri!r} is not under the pipeline's own prefix 's3://bucket/p/' nor an output of step 'Write': "
        "a Cleanup step deletes only what the pipeline wrote"
    )


def test_each_cleanup_source_is_checked():
    error = _refusal(lambda: _check(_lambda("Write"), _cleanup(_source("Write", "s3://bucket/p/a"), _source("Write", "s3://x/y"))))
    assert error.field == "Resources.S3[1].S3Uris[0]"


# Exemptions ---------------------------------------------------------------------------------------

def test_an_exemption_naming_a_step_the_pipeline_lacks_fails_with_the_nearest_name():
    exemption = _exemption(Guardrail.NETWORK_ISOLATION, "Train", "Trian", "Gone")
    error = _refusal(lambda: _check(_training(isolated=False), _lambda("Score"), exemptions=(exemption,)))
    assert (error.step, error.field) == (None, "GUARDRAIL_EXEMPTIONS")
    assert error.reason == (
        "GUARDRAIL_EXEMPTIONS: the network-isolation exemption for steps ['Train', 'Trian', 'Gone'] names 'Trian', "
        "which is not a step of this pipeline (did you mean 'Train'?); its steps are ['Score', 'Train']"
    )


def test_an_exemption_naming_a_nested_step_names_a_step():
    branch = {"Name": "Check", "Type": "Condition", "Arguments": {"IfSteps": [_training(isolated=False)]}}
    _check(branch, exemptions=(_exemption(Guardrail.NETWORK_ISOLATION, "Train"),))


def test_an_exemption_no_step_needs_fails_naming_it():
    exemptions = (_exemption(Guardrail.NETWORK_ISOLATION, "Train"), _exemption(Guardrail.COST_TAG, "Train"))
    error = _refusal(lambda: _check(_training(isolated=False), exemptions=exemptions))
    assert (error.step, error.field) == (None, "GUARDRAIL_EXEMPTIONS")
    assert error.reason == (
        "GUARDRAIL_EXEMPTIONS: the cost-tag exemption for steps ['Train'] is needed by no step: every step it covers "
        "carries the cost-tag guardrail (or none applies to it); remove the exemption"
    )


FUNCTION_ENTRYPOINT = ["/bin/bash", "-c", f"python -m {REMOTE_FUNCTION_BOOTSTRAP}.run"]


def test_a_pipeline_wide_isolation_exemption_is_kept_only_for_step_functions():
    exemption = _exemption(Guardrail.NETWORK_ISOLATION)
    _check(_training(isolated=False), _training("Fn", isolated=False, entrypoint=FUNCTION_ENTRYPOINT), exemptions=(exemption,))
    error = _refusal(lambda: _check(_training(isolated=False), exemptions=(exemption,)))
    assert error.field == "GUARDRAIL_EXEMPTIONS"
    assert error.reason == (
        "GUARDRAIL_EXEMPTIONS: the network-isolation exemption for the whole pipeline turns network isolation off for "
        "every job, yet no step is a @step function (the jobs that cannot run isolated): remove it, or limit it to the "
        "jobs that need it with steps=(...)"
    )


def test_a_pipeline_wide_exemption_of_another_guardrail_needs_no_step_function():
    _check(_training(VpcConfig={}), exemptions=(_exemption(Guardrail.VPC),), platform=None)


def test_a_function_step_is_a_training_job_started_by_the_sdks_bootstrap():
    assert is_function_step(_training(entrypoint=FUNCTION_ENTRYPOINT))
    assert is_function_step(_training(entrypoint=["python", REMOTE_FUNCTION_BOOTSTRAP]))
    assert not is_function_step(_training(entrypoint=["python", "train.py"]))
    assert not is_function_step(_training())
    assert not is_function_step({"Name": "T", "Type": "Training"})
    processing = {"Name": "P", "Type": "Processing", "Arguments": {"AlgorithmSpecification": {"ContainerEntrypoint": FUNCTION_ENTRYPOINT}}}
    assert not is_function_step(processing)


def test_a_definition_without_steps_has_nothing_to_check():
    """The schema refuses it; these checks only have nothing to read."""
    check_guardrails({}, PipelineDefinitionError, exemptions=(), cost_tag_key="CostCenter", allowed_instance_types=(), platform=PLATFORM)
    check_job_names({}, PipelineDefinitionError, prefix=PREFIX)
    error = _refusal(lambda: check_guardrails(
        {}, PipelineDefinitionError, exemptions=(_exemption(Guardrail.VPC, "Train"),), cost_tag_key="CostCenter", allowed_instance_types=(), platform=None
    ))
    assert error.reason.startswith("GUARDRAIL_EXEMPTIONS: the vpc exemption for steps ['Train'] names 'Train', which is not a step of this pipeline; its steps are []")
    error = _refusal(lambda: check_guardrails(
        {}, PipelineDefinitionError, exemptions=(_exemption(Guardrail.VPC),), cost_tag_key="CostCenter", allowed_instance_types=(), platform=None
    ))
    assert error.reason.startswith("GUARDRAIL_EXEMPTIONS: the vpc exemption for the whole pipeline is needed by no step")
