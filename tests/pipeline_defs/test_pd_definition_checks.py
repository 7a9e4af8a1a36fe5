"""The definition checks on small hand-built definitions: size, placeholders, names, references,
cycles, and each option of :func:`validate_definition` reaching the check it configures.

Each refusal asserts the message, pipeline, step and field, next to the compliant neighbour that
passes; nothing here compiles a module, so every test is fast and runs on its own.
"""

from __future__ import annotations

import copy
import functools
import json

import pytest

from pipeline_defs import placeholders, validation
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.schedules import Guardrail, GuardrailExemption, Schedule
from pipeline_defs.validation.graph import STEP_NAME_MAX_LENGTH, check_cycles, check_names, check_references, references, step_name_problem
from pipeline_defs.validation.guardrails import PlatformValues

PIPELINE = "smp-sandbox-p"
MODULE = "pipeline_defs/pipelines/p.py"
FAIL = functools.partial(PipelineDefinitionError, pipeline=PIPELINE, module_file=MODULE)
PLATFORM = PlatformValues(subnet_ids=("${SubnetId0}",), security_group_ids=("${JobSecurityGroupId}",), kms_key="${KmsKeyArn}")


def _definition(steps, parameters=(), **top):
    return {"Version": "2020-12-01", "Metadata": {}, "Parameters": list(parameters), "Steps": list(steps), **top}


def _fail_step(name, message="x", depends_on=None):
    step = {"Name": name, "Type": "Fail", "Arguments": {"ErrorMessage": message}}
    if depends_on is not None:
        step["DependsOn"] = depends_on
    return step


def _training(name="Train", *, instance_type="ml.m5.large", **changes):
    """A training step carrying every guardrail, inside the platform's subnets and key."""
    arguments = {
        "AlgorithmSpecification": {"TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/t:1", "TrainingInputMode": "File"},
        "RoleArn": "arn:aws:iam::123456789012:role/${ExecutionRoleName}",
        "OutputDataConfig": {"S3OutputPath": "s3://${ArtifactBucket}/p/out", "KmsKeyId": "${KmsKeyArn}"},
        "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": 1, "VolumeSizeInGB": 30, "VolumeKmsKeyId": "${KmsKeyArn}"},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "VpcConfig": {"Subnets": ["${SubnetId0}"], "SecurityGroupIds": ["${JobSecurityGroupId}"]},
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
        "Tags": [{"Key": "CostCenter", "Value": "ml-platform"}],
    }
    return {"Name": name, "Type": "Training", "Arguments": arguments | changes}


def _validate(definition, *, text=None, **options):
    validation.validate_definition(
        definition,
        definition_text=json.dumps(definition) if text is None else text,
        pipeline_name=PIPELINE,
        module_file=MODULE,
        cost_tag_key="CostCenter",
        **options,
    )


def _refusal(definition, **options) -> PipelineDefinitionError:
    with pytest.raises(PipelineDefinitionError) as raised:
        _validate(definition, **options)
    error = raised.value
    assert (error.pipeline, error.module_file) == (PIPELINE, MODULE)
    return error


def _for_each(name, body, **arguments):
    return {"Name": name, "Type": "ForEach", "Arguments": {"IterableItems": ["a", "b"], "MaxConcurrency": 2, "ForEachBody": body, **arguments}}


def _condition(name, if_steps=(), else_steps=()):
    return {
        "Name": name,
        "Type": "Condition",
        "Arguments": {"Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}], "IfSteps": list(if_steps), "ElseSteps": list(else_steps)},
    }


# Size


def test_a_definition_at_the_size_limit_passes_and_one_character_more_fails():
    definition = _definition([_fail_step("A")])
    text = json.dumps(definition)
    padded = text + " " * (validation.MAX_DEFINITION_CHARACTERS - len(text))
    _validate(definition, text=padded)
    error = _refusal(definition, text=padded + " ")
    assert error.reason == "definition has 1048577 characters; the limit is 1048576"
    assert (error.step, error.field) == (None, None)


# Placeholders


def test_every_placeholder_the_stacks_resolve_passes():
    message = "".join(sorted(p.token for p in placeholders.ALL))
    _validate(_definition([_fail_step("A", message)]))


def test_an_unknown_placeholder_names_the_step_holding_it_and_the_known_ones():
    definition = _definition([_fail_step("A", "${KmsKeyArn}"), _fail_step("B", "s3://${Bucket}/x")])
    error = _refusal(definition)
    assert error.reason == f"placeholder ${{Bucket}} is not one the stacks resolve (known: {sorted(placeholders.NAMES)})"
    assert (error.step, error.field) == ("B", "Arguments")


def test_the_first_unknown_placeholder_is_the_one_reported():
    error = _refusal(_definition([_fail_step("A", "${First}"), _fail_step("B", "${Second}")]))
    assert "${First}" in error.reason and "${Second}" not in error.reason
    assert error.step == "A"


def test_an_unknown_placeholder_outside_the_steps_names_no_step():
    definition = _definition([_fail_step("A")], [{"Name": "Bucket", "Type": "String", "DefaultValue": "${Bucket}"}])
    error = _refusal(definition)
    assert error.reason.startswith("placeholder ${Bucket} is not one the stacks resolve (known: [")
    assert (error.step, error.field) == (None, None)


def test_an_unknown_placeholder_inside_a_condition_branch_names_the_branch_step():
    definition = _definition([_condition("Check", if_steps=[_fail_step("Inner", "${Nope}")])])
    error = _refusal(definition)
    assert (error.step, error.field) == ("Inner", "Arguments")


# Step names


@pytest.mark.parametrize(
    "name",
    ["A", "z", "0", "-", "_", "Az09-_", "a" * STEP_NAME_MAX_LENGTH, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz0123456789"],
)
def test_step_names_of_letters_digits_hyphens_and_underscores_up_to_64_characters_pass(name):
    assert step_name_problem(name) is None
    _validate(_definition([_fail_step(name)]))


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "must be a non-empty string"),
        (None, "must be a non-empty string"),
        (7, "must be a non-empty string"),
        ("a" * 65, "is too long: 65 characters, at most 64 are allowed"),
        ("bad name", "contains ' ': only letters, digits, hyphens and underscores are allowed"),
        ("a.b/c.d", "contains './': only letters, digits, hyphens and underscores are allowed"),
        ("Stép", "contains 'é': only letters, digits, hyphens and underscores are allowed"),
        ("name\n", "contains '\\n': only letters, digits, hyphens and underscores are allowed"),
    ],
)
def test_a_step_name_outside_the_rule_fails_saying_why(name, problem):
    assert step_name_problem(name) == problem
    with pytest.raises(PipelineDefinitionError) as raised:
        check_names(_definition([_fail_step(name)]), FAIL)
    assert raised.value.reason == f"step name {name!r} {problem}"
    assert (raised.value.step, raised.value.field) == (str(name), "Name")


def test_step_names_are_unique_across_condition_branches():
    check_names(_definition([_condition("Check", if_steps=[_fail_step("A")], else_steps=[_fail_step("B")])]), FAIL)
    with pytest.raises(PipelineDefinitionError) as raised:
        check_names(_definition([_condition("Check", if_steps=[_fail_step("A")], else_steps=[_fail_step("A")])]), FAIL)
    assert raised.value.reason == "duplicate step name 'A': step names must be unique in a pipeline, condition branches included"
    assert (raised.value.step, raised.value.field) == ("A", "Name")


def test_check_names_returns_every_parameter_name():
    definition = _definition([_fail_step("A")], [{"Name": "P", "Type": "String"}, {"Name": "Q", "Type": "Integer"}])
    assert check_names(definition, FAIL) == {"P", "Q"}


def test_parameter_names_are_unique():
    with pytest.raises(PipelineDefinitionError) as raised:
        check_names(_definition([_fail_step("A")], [{"Name": "P", "Type": "String"}, {"Name": "Q", "Type": "String"}, {"Name": "P", "Type": "Integer"}]), FAIL)
    assert raised.value.reason == "duplicate parameter name 'P'"
    assert (raised.value.step, raised.value.field) == (None, "Parameters/P")


# References


def _graph(steps, parameters=(), **top):
    definition = _definition(steps, parameters, **top)
    return check_references(definition, FAIL, parameter_names=check_names(definition, FAIL))


def _reference_error(steps, parameters=(), **top) -> PipelineDefinitionError:
    with pytest.raises(PipelineDefinitionError) as raised:
        _graph(steps, parameters, **top)
    return raised.value


def test_references_finds_every_get_target_nested_in_dicts_and_lists():
    value = {"a": [{"Get": "Parameters.P"}, {"b": {"Get": "Steps.S.X"}}], "c": {"Get": 3}, "d": "Get", "e": [["x", {"Get": "Execution.PipelineName"}]]}
    assert list(references(value)) == ["Parameters.P", "Steps.S.X", "Execution.PipelineName"]


def test_depends_on_and_step_references_make_the_dependency_graph():
    steps = [
        _fail_step("A"),
        _fail_step("B", depends_on=["A", {"StepName": "C"}, {"Step": "D"}]),
        _fail_step("C", {"Get": "Steps.D.Outputs[0].Value"}),
        _fail_step("D", {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.P"}, {"Get": "Execution.PipelineExecutionId"}]}}),
        _fail_step("E", depends_on=None),
    ]
    steps[4]["DependsOn"] = None
    graph = _graph(steps, [{"Name": "P", "Type": "String"}])
    assert graph == {"A": set(), "B": {"A", "C", "D"}, "C": {"D"}, "D": set(), "E": set()}


@pytest.mark.parametrize(
    ("dependency", "named"),
    [("Missing", "'Missing'"), ({"StepName": "Missing"}, "'Missing'"), ({"Step": "Missing"}, "'Missing'"), ({"Other": "A"}, "None")],
)
def test_depends_on_a_step_that_does_not_exist_fails(dependency, named):
    error = _reference_error([_fail_step("A"), _fail_step("B", depends_on=["A", dependency])])
    assert error.reason == f"DependsOn names a step that does not exist: {named}"
    assert (error.step, error.field) == ("B", "DependsOn")


def test_a_step_depending_on_itself_fails():
    error = _reference_error([_fail_step("A"), _fail_step("B", depends_on=["A", "B"])])
    assert error.reason == "step depends on itself"
    assert (error.step, error.field) == ("B", "DependsOn")


def test_a_get_of_a_declared_parameter_passes_and_of_an_undeclared_one_fails():
    _graph([_fail_step("A", {"Get": "Parameters.P"})], [{"Name": "P", "Type": "String"}])
    error = _reference_error([_fail_step("A", {"Get": "Parameters.Q"})], [{"Name": "P", "Type": "String"}])
    assert error.reason == "Get of undeclared parameter 'Q'"
    assert (error.step, error.field) == ("A", "Arguments")


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("Steps.Ghost.Properties", "reference to a step that does not exist: 'Steps.Ghost.Properties'"),
        ("Steps.A.Properties", "step references its own properties: 'Steps.A.Properties'"),
        ("Steps.A[0].Properties", "step references its own properties: 'Steps.A[0].Properties'"),
        ("Step.B.Properties", "Get of unknown kind 'Step.B.Properties'"),
        ("Bogus", "Get of unknown kind 'Bogus'"),
        ("ForEach.Item", "Get of unknown kind 'ForEach.Item' (only valid in a ForEach body)"),
        ("IterationOutput.Body.X", "Get of unknown kind 'IterationOutput.Body.X' (only valid in a ForEach selector)"),
    ],
)
def test_a_get_of_something_that_does_not_exist_fails(reference, message):
    _graph([_fail_step("A", {"Get": "Steps.B.Properties"}), _fail_step("B")])
    error = _reference_error([_fail_step("A", {"Get": reference}), _fail_step("B")])
    assert error.reason == message
    assert (error.step, error.field) == ("A", "Arguments")


def _processing_with_report(name, file_name="Report"):
    return {"Name": name, "Type": "Processing", "Arguments": {}, "PropertyFiles": [{"PropertyFileName": file_name, "OutputName": "o", "FilePath": "r.json"}]}


def _json_get(step, file_name="Report"):
    return {"Std:JsonGet": {"Path": "a", "PropertyFile": {"Get": f"Steps.{step}.PropertyFiles.{file_name}"}}}


def test_a_property_file_is_read_only_from_the_step_declaring_it():
    assert _graph([_processing_with_report("B"), _fail_step("A", _json_get("B"))])["A"] == {"B"}
    _graph([_processing_with_report("B"), _fail_step("A", {"Get": "Steps.B.PropertyFiles"})])
    for steps, step, name in (
        ([_processing_with_report("B", "Other"), _fail_step("A", _json_get("B"))], "B", "Report"),
        ([_processing_with_report("B"), _processing_with_report("C", "Other"), _fail_step("A", _json_get("C"))], "C", "Report"),
        ([_processing_with_report("B"), _fail_step("A", _json_get("B", "Missing"))], "B", "Missing"),
    ):
        error = _reference_error(steps)
        assert error.reason == f"property file {name!r} is not declared on step {step!r}"
        assert (error.step, error.field) == ("A", "Arguments")


def test_a_step_with_arguments_left_out_has_no_references():
    steps = [{"Name": "A", "Type": "Fail", "Arguments": None}, {"Name": "B", "Type": "Fail"}]
    assert _graph(steps) == {"A": set(), "B": set()}


def test_a_for_each_body_reads_its_item_and_the_for_each_selects_from_its_body():
    body = _fail_step("Body", {"Get": "ForEach.Item"})
    selector = {"Pick": "MaxBy", "Field": {"Get": "IterationOutput.Body.Score"}}
    graph = _graph([_for_each("Each", [body], Selector=selector)])
    assert graph == {"Each": set(), "Body": set()}


def test_a_for_each_selector_names_a_step_of_its_own_body():
    selector = {"Pick": "MaxBy", "Field": {"Get": "IterationOutput.Other[0].Score"}}
    error = _reference_error([_for_each("Each", [_fail_step("Body")], Selector=selector), _for_each("Second", [_fail_step("Other")])])
    assert error.reason == "'IterationOutput.Other[0].Score' must name a step of this ForEach body"
    assert (error.step, error.field) == ("Each", "Arguments.Selector")


def test_a_for_each_item_is_read_only_inside_a_for_each_body():
    for steps, step in (
        ([_condition("Check", if_steps=[_fail_step("Inner", {"Get": "ForEach.Item"})])], "Inner"),
        ([_for_each("Each", [_fail_step("Body")], IterableItems={"Get": "ForEach.Item"})], "Each"),
    ):
        error = _reference_error(steps)
        assert error.reason == "Get of unknown kind 'ForEach.Item' (only valid in a ForEach body)"
        assert error.step == step


def test_a_condition_step_is_not_charged_with_the_references_of_its_branches():
    """A branch step reading the condition's outcome depends on it; the condition does not depend on itself."""
    inner = _fail_step("Inner", {"Get": "Steps.Check.Outcome"})
    graph = _graph([_condition("Check", if_steps=[inner])])
    assert graph == {"Check": set(), "Inner": {"Check"}}
    check_cycles(graph, FAIL)


@pytest.mark.parametrize("name", ["Body-0", "Body-12"])
def test_no_step_takes_the_name_of_a_for_each_body_steps_children(name):
    error = _reference_error([_for_each("Each", [_fail_step("Body")]), _fail_step(name)])
    assert error.reason == f"step name {name!r} collides with the children of ForEach body step 'Body' (named Body-0, Body-1, ...)"
    assert (error.step, error.field) == (name, "Name")


def test_a_hyphenated_for_each_body_step_keeps_its_childrens_names():
    error = _reference_error([_for_each("Each", [_fail_step("Per-Region")]), _fail_step("Per-Region-3")])
    assert error.reason.startswith("step name 'Per-Region-3' collides with the children of ForEach body step 'Per-Region'")
    _graph([_for_each("Each", [_fail_step("Per-Region")]), _fail_step("Per-3")])


@pytest.mark.parametrize("name", ["Body-x", "Body-", "Body0", "Each-0", "Other-0", "Body-1-a"])
def test_names_beside_a_for_each_bodys_children_pass(name):
    _graph([_for_each("Each", [_fail_step("Body")]), _fail_step("Other"), _fail_step(name)])


def test_the_experiment_config_reads_only_declared_parameters():
    config = {"ExperimentName": {"Get": "Execution.PipelineName"}, "TrialName": {"Std:Join": {"On": "-", "Values": ["t", {"Get": "Parameters.P"}]}}}
    _graph([_fail_step("A")], [{"Name": "P", "Type": "String"}], PipelineExperimentConfig=config)
    error = _reference_error([_fail_step("A")], [{"Name": "Q", "Type": "String"}], PipelineExperimentConfig=config)
    assert error.reason == "Get of undeclared parameter 'Parameters.P'"
    assert (error.step, error.field) == (None, "PipelineExperimentConfig")


def test_experiment_config_parameter_names_keep_their_dots():
    config = {"TrialName": {"Get": "Parameters.P.Q"}}
    _graph([_fail_step("A")], [{"Name": "P.Q", "Type": "String"}], PipelineExperimentConfig=config)
    error = _reference_error([_fail_step("A")], [{"Name": "P", "Type": "String"}], PipelineExperimentConfig=config)
    assert error.reason == "Get of undeclared parameter 'Parameters.P.Q'"


# Cycles


def _cycle_error(graph) -> PipelineDefinitionError:
    with pytest.raises(PipelineDefinitionError) as raised:
        check_cycles(graph, FAIL)
    return raised.value


def test_a_diamond_and_a_chain_have_no_cycle():
    check_cycles({"A": set(), "B": {"A"}, "C": {"A"}, "D": {"B", "C"}}, FAIL)
    check_cycles({"D": {"C"}, "C": {"B"}, "B": {"A"}, "A": set()}, FAIL)
    check_cycles({"A": {"Outside"}}, FAIL)


def test_a_cycle_is_reported_as_the_path_that_closes_it():
    error = _cycle_error({"A": {"B"}, "B": {"C"}, "C": {"A"}})
    assert error.reason == "dependency cycle: A -> B -> C -> A"
    assert (error.step, error.field) == ("C", "DependsOn")


def test_a_cycle_reached_from_outside_lists_only_its_members():
    error = _cycle_error({"A": {"B"}, "B": {"C"}, "C": {"D"}, "D": {"B"}})
    assert error.reason == "dependency cycle: B -> C -> D -> B"
    assert error.step == "D"


def test_a_cycle_behind_a_visited_branch_is_found():
    error = _cycle_error({"A": {"B", "C"}, "B": set(), "C": {"D"}, "D": {"C"}})
    assert error.reason == "dependency cycle: C -> D -> C"


def test_many_steps_joining_and_forking_are_checked_each_once():
    """Twenty layers of two steps, each depending on both of the layer before: 2**20 paths, 40 steps."""
    graph = {"L0-a": set(), "L0-b": set()}
    for layer in range(1, 20):
        before = {f"L{layer - 1}-a", f"L{layer - 1}-b"}
        graph |= {f"L{layer}-a": set(before), f"L{layer}-b": set(before)}
    check_cycles(graph, FAIL)
    graph["L0-a"] = {"L19-b"}
    assert _cycle_error(graph).reason.startswith("dependency cycle: L0-a -> L19-b -> L18-a -> ")


def test_a_definition_without_steps_has_no_dependencies():
    assert check_references({"Version": "2020-12-01"}, FAIL, parameter_names=set()) == {}


def test_a_cycle_through_a_step_reference_fails_the_definition():
    definition = _definition([_fail_step("A", {"Get": "Steps.B.Properties"}), _fail_step("B", depends_on=["A"])])
    error = _refusal(definition)
    assert error.reason == "dependency cycle: A -> B -> A"
    assert (error.step, error.field) == ("B", "DependsOn")


# The options of validate_definition


def test_a_compliant_training_step_passes_every_check():
    _validate(_definition([_training(TrainingJobName="smp-sandbox-train")]), job_name_prefix="smp-sandbox", allowed_instance_types=("ml.m5.large",), platform=PLATFORM)


def test_names_are_checked_against_the_job_name_prefix_only_when_one_is_given():
    definition = _definition([_training(TrainingJobName="other-train")])
    _validate(definition)
    error = _refusal(definition, job_name_prefix="smp-sandbox")
    assert error.reason.startswith("TrainingJobName is 'other-train': job, model and model package group names must start with 'smp-sandbox-'")
    assert (error.step, error.field) == ("Train", "TrainingJobName")


def test_experiment_names_are_checked_against_the_job_name_prefix():
    config = {"ExperimentName": {"Get": "Execution.PipelineName"}, "TrialName": "other-trial"}
    definition = _definition([_training(TrainingJobName="smp-sandbox-train")], PipelineExperimentConfig=config)
    _validate(definition)
    error = _refusal(definition, job_name_prefix="smp-sandbox")
    assert error.field == "PipelineExperimentConfig.TrialName"
    assert "'other-trial'" in error.reason and "must start with 'smp-sandbox-'" in error.reason
    config["TrialName"] = "smp-sandbox-trial"
    _validate(definition, job_name_prefix="smp-sandbox")


def test_the_experiment_is_named_after_the_pipeline_the_definition_belongs_to():
    config = {"ExperimentName": {"Get": "Execution.PipelineName"}, "TrialName": "smp-sandbox-trial"}
    definition = _definition([_fail_step("A")], PipelineExperimentConfig=config)
    _validate(definition, job_name_prefix="smp-sandbox")
    error = _refusal(definition, job_name_prefix="smp-prod")
    assert error.field == "PipelineExperimentConfig.ExperimentName"


def test_the_instance_type_allowlist_reaches_the_guardrails():
    definition = _definition([_training(instance_type="ml.m5.xlarge")])
    _validate(definition, allowed_instance_types=("ml.m5.large", "ml.m5.xlarge"))
    error = _refusal(definition, allowed_instance_types=("ml.m5.large",))
    assert error.reason == "instance type 'ml.m5.xlarge' is not in the environment's allowlist ['ml.m5.large']"
    assert (error.step, error.field) == ("Train", "ResourceConfig.InstanceType")


def test_the_schedules_values_of_an_instance_type_parameter_reach_the_guardrails():
    definition = _definition([_training(instance_type={"Get": "Parameters.Instance"})], [{"Name": "Instance", "Type": "String", "DefaultValue": "ml.m5.large"}])
    nightly = Schedule(name="nightly", expression="cron(0 2 * * ? *)", parameter_values={"Instance": "ml.p3.2xlarge"})
    _validate(definition, allowed_instance_types=("ml.m5.large",))
    error = _refusal(definition, allowed_instance_types=("ml.m5.large",), schedules=(nightly,))
    assert error.reason == "instance type 'ml.p3.2xlarge' (parameter Instance in schedule 'nightly') is not in the environment's allowlist ['ml.m5.large']"
    assert (error.step, error.field) == ("Train", "ResourceConfig.InstanceType")


def test_the_platform_values_reach_the_guardrails():
    definition = _definition([_training()])
    _validate(definition, platform=PLATFORM)
    error = _refusal(definition, platform=PlatformValues(subnet_ids=("${SubnetId1}",), security_group_ids=("${JobSecurityGroupId}",), kms_key="${KmsKeyArn}"))
    assert error.reason == "Subnets ['${SubnetId0}'] are not the platform's own ['${SubnetId1}']"
    assert (error.step, error.field) == ("Train", "Subnets")


def test_exemptions_reach_the_guardrails():
    definition = _definition([_training(EnableNetworkIsolation=False)])
    error = _refusal(definition)
    assert error.reason.startswith("network isolation is off (guardrail network-isolation")
    assert (error.step, error.field) == ("Train", "EnableNetworkIsolation")
    exemption = GuardrailExemption(guardrail=Guardrail.NETWORK_ISOLATION, reason="r", owner="ml-platform", expires="2099-12-31", steps=("Train",))
    _validate(definition, exemptions=(exemption,))


def test_the_cost_tag_key_reaches_the_guardrails():
    definition = _definition([_training(Tags=[{"Key": "Team", "Value": "ml"}])])
    error = _refusal(definition)
    assert "CostCenter" in error.reason and error.step == "Train"


def test_validation_leaves_the_definition_as_it_was():
    definition = _definition([_condition("Check", if_steps=[_training()], else_steps=[_fail_step("No")]), _for_each("Each", [_fail_step("Body")])])
    before = copy.deepcopy(definition)
    _validate(definition, platform=PLATFORM)
    assert definition == before


def test_a_definition_without_parameters_or_metadata_passes():
    _validate({"Version": "2020-12-01", "Steps": [_training(), _fail_step("A", {"Get": "Execution.PipelineName"})]}, platform=PLATFORM)


def test_a_definition_without_steps_fails_at_the_schema():
    error = _refusal({"Version": "2020-12-01", "Parameters": [{"Name": "P", "Type": "String", "DefaultValue": "${KmsKeyArn}"}]})
    assert error.reason.startswith("schema: 'Steps' is a required property")
    assert (error.step, error.field) == (None, "(root)")
    error = _refusal({"Version": "2020-12-01", "Parameters": [{"Name": "P", "Type": "String", "DefaultValue": "${Bucket}"}]})
    assert error.reason.startswith("placeholder ${Bucket} is not one the stacks resolve")
    assert (error.step, error.field) == (None, None)


@pytest.mark.parametrize(
    ("steps", "step", "field", "reason"),
    [
        ([_fail_step("A"), _fail_step("A")], "A", "Name", "duplicate step name 'A': "),
        ([_fail_step("A", 5)], "A", "Arguments/ErrorMessage", "schema: 5 is not of type 'string'"),
        ([_training(Surprise=1)], "Train", "Arguments.Surprise", "is not a field here (allowed: "),
        ([_fail_step("A", depends_on=["B"])], "A", "DependsOn", "DependsOn names a step that does not exist: 'B'"),
    ],
)
def test_each_check_fails_the_definition_naming_pipeline_and_module(steps, step, field, reason):
    error = _refusal(_definition(steps))
    assert (error.step, error.field) == (step, field)
    assert error.reason.startswith(reason)
