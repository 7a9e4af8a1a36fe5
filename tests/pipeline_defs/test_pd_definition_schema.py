"""The published schema as the checks use it: its scope, each known gap's amendment on a small
hand-built instance (needed, sufficient, and no wider than what the SDK writes), and the messages
of :func:`check_schema`.

The evidence that the SDK writes each gap is in ``test_pd_validation.py``; these tests pin what
each amendment allows and refuses, without compiling anything.
"""

from __future__ import annotations

import copy
import functools

import jsonschema
import pytest

from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.validation import schema
from pipeline_defs.validation.known_gaps import KNOWN_GAPS
from pipeline_defs.validation.schema import SCHEMA_NOTE, STEP_SCHEMA_DEFINITIONS, check_schema, schema_errors, schema_in_scope, schema_with_gaps

FAIL = functools.partial(PipelineDefinitionError, pipeline="sandbox-p", module_file="p.py")
ALL_GAPS = frozenset(gap.gap_id for gap in KNOWN_GAPS)


def _valid(gap_ids, instance, definition_name=None) -> bool:
    amended = schema_with_gaps(gap_ids)
    if definition_name is not None:
        if definition_name not in amended["definitions"]:
            return False
        amended = {"$ref": f"#/definitions/{definition_name}", "definitions": amended["definitions"]}
    return jsonschema.Draft7Validator(amended).is_valid(instance)


def _needs(gap_id, instance, definition_name=None):
    """The gap is needed (refused without it) and sufficient (passes with every gap)."""
    assert not _valid(ALL_GAPS - {gap_id}, instance, definition_name), f"passes without {gap_id}"
    assert _valid(ALL_GAPS, instance, definition_name), "refused with every gap"


def _top(**fields):
    return {"Version": "2020-12-01", "Metadata": {}, "Parameters": [], "Steps": [], **fields}


def _step(kind, name="S", **fields):
    return {"Name": name, "Type": kind, "Arguments": {}, **fields}


_GET = {"Get": "Execution.PipelineExecutionId"}
_JOIN = {"Std:Join": {"On": "-", "Values": ["a", _GET]}}
_JSON_GET = {"Std:JsonGet": {"Path": "metrics.mse", "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"}}}
_REPORT = {"PropertyFileName": "Report", "OutputName": "evaluation", "FilePath": "evaluation.json"}


# Scope


def test_the_schema_in_scope_leaves_the_arguments_an_api_defines_to_botocore():
    definitions = schema_in_scope()["definitions"]
    for name in ("TrainingStep", "ProcessingStep", "TransformStep", "TuningStep", "CreateModelStep", "RegisterModelStep", "QualityCheckStep", "ClarifyCheckStep", "EMRStep", "EndpointStep", "EndpointConfigStep", "AutoMLStep"):
        assert definitions[name]["properties"]["Arguments"] == {"type": "object"}, name
    for name in ("ConditionStep", "FailStep"):
        assert definitions[name]["properties"]["Arguments"]["type"] == "object"
        assert definitions[name]["properties"]["Arguments"] != {"type": "object"}, name


def test_the_schema_in_scope_is_a_copy():
    schema_in_scope()["definitions"]["FailStep"]["properties"]["Arguments"] = {"type": "object"}
    assert schema_in_scope()["definitions"]["FailStep"]["properties"]["Arguments"]["properties"] == {"ErrorMessage": {"$ref": "#/definitions/StringArgumentValue"}}


def test_no_gap_amends_the_schema_unless_named():
    assert schema_with_gaps(set()) == schema_in_scope()
    assert schema_with_gaps({"mlflow-config"})["properties"]["MlflowConfig"] == {"type": ["object", "null"]}
    assert "PipelineExperimentConfig" not in schema_with_gaps({"mlflow-config"})["properties"]


# Each gap: needed, sufficient, and what it still refuses


def test_pipeline_experiment_config():
    _needs("pipeline-experiment-config", _top(PipelineExperimentConfig={"ExperimentName": {"Get": "Execution.PipelineName"}, "TrialName": _GET}))
    _needs("pipeline-experiment-config", _top(PipelineExperimentConfig=None))
    _needs("pipeline-experiment-config", _top(PipelineExperimentConfig={"ExperimentName": "e", "TrialName": _JOIN}))
    for config in ({"Experiment": "e"}, {"ExperimentName": 5}, {"TrialName": ["t"]}, "e"):
        assert not _valid(ALL_GAPS, _top(PipelineExperimentConfig=config)), config


def test_mlflow_config():
    _needs("mlflow-config", _top(MlflowConfig=None))
    _needs("mlflow-config", _top(MlflowConfig={"MlflowResourceArn": "arn"}))
    assert not _valid(ALL_GAPS, _top(MlflowConfig="arn"))


def test_property_files_on_processing_steps():
    _needs("property-files", _step("Processing", PropertyFiles=[_REPORT]), "ProcessingStep")
    _needs("property-files", _step("Processing", PropertyFiles=[]), "ProcessingStep")
    refused = [
        {"OutputName": "o", "FilePath": "f"},
        {"PropertyFileName": "r", "FilePath": "f"},
        {"PropertyFileName": "r", "OutputName": "o"},
        _REPORT | {"Extra": "x"},
        _REPORT | {"PropertyFileName": 1},
        _REPORT | {"OutputName": 1},
        _REPORT | {"FilePath": 1},
        "Report",
    ]
    for item in refused:
        assert not _valid(ALL_GAPS, _step("Processing", PropertyFiles=[item]), "ProcessingStep"), item
    assert not _valid(ALL_GAPS, _step("Processing", PropertyFiles=_REPORT), "ProcessingStep")
    assert not _valid(ALL_GAPS, _step("Training", PropertyFiles=[_REPORT]), "TrainingStep")


@pytest.mark.parametrize(
    ("value", "definition_name"),
    [
        (_JOIN, "StringArgumentValue"),
        ({"Std:Join": {"Values": ["a"]}}, "StringArgumentValue"),
        (_JSON_GET, "StringArgumentValue"),
        (_JSON_GET, "IntegerArgumentValue"),
        (_JSON_GET, "FloatArgumentValue"),
        (_JSON_GET, "BooleanArgumentValue"),
        (_JOIN, "IntegerArgumentValue"),
        (_JOIN, "FloatArgumentValue"),
        (_JOIN, "BooleanArgumentValue"),
        ({"Std:JsonGet": {"Path": "a", "S3Uri": "s3://b/k"}}, "FloatArgumentValue"),
        ({"Std:JsonGet": {"Path": "a"}}, "FloatArgumentValue"),
    ],
)
def test_join_and_json_get_stand_as_argument_values(value, definition_name):
    _needs("std-functions-as-values", value, definition_name)


def test_std_functions_in_a_condition_and_a_fail_message():
    condition = _step("Condition", Arguments={"Conditions": [{"Type": "LessThan", "LeftValue": _JSON_GET, "RightValue": 6.0}]})
    _needs("std-functions-as-values", condition, "ConditionStep")
    _needs("std-functions-as-values", _step("Fail", Arguments={"ErrorMessage": _JOIN}), "FailStep")


@pytest.mark.parametrize(
    "value",
    [
        {"Std:Join": {"On": "-"}},
        {"Std:Join": {"On": 1, "Values": ["a"]}},
        {"Std:Join": {"On": "-", "Values": "a"}},
        {"Std:Join": {"On": "-", "Values": [["a"]]}},
        {"Std:Join": {"On": "-", "Values": ["a"], "Extra": 1}},
        {"Std:Join": {"Values": ["a"]}, "Extra": 1},
        {"Std:Join": ["a"]},
        {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.E.PropertyFiles.R"}}},
        {"Std:JsonGet": {"Path": 1}},
        {"Std:JsonGet": {"Path": "a", "PropertyFile": "Steps.E.PropertyFiles.R"}},
        {"Std:JsonGet": {"Path": "a", "PropertyFile": {"Get": "Steps.E.PropertyFiles.R", "Extra": 1}}},
        {"Std:JsonGet": {"Path": "a", "Extra": 1}},
        {"Std:JsonGet": {"Path": "a"}, "Extra": 1},
        {"Std:JsonGet": "a"},
        {"Std:Other": {"Values": ["a"]}},
        {},
    ],
)
def test_what_join_and_json_get_still_refuse(value):
    assert not _valid(ALL_GAPS, value, "StringArgumentValue")


@pytest.mark.parametrize(("kind", "name"), [("Lambda", "LambdaStep"), ("Model", "CreateModelStep")])
def test_lambda_and_model_steps_in_condition_branches(kind, name):
    child = _step(kind, "Child", FunctionArn="arn:aws:lambda:us-east-1:123456789012:function:f") if kind == "Lambda" else _step(kind, "Child")
    conditions = [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}]
    for branch in ("IfSteps", "ElseSteps"):
        _needs("branch-lambda-and-model-steps", _step("Condition", Arguments={"Conditions": conditions, branch: [child]}), "ConditionStep")
    assert not _valid(ALL_GAPS, _step("Condition", Arguments={"Conditions": conditions, "IfSteps": [_step("Tuning", "Child")]}), "ConditionStep")


def test_retry_policy_exception_types_are_a_list():
    policy = {"ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR", "Step.THROTTLING"], "IntervalSeconds": 1, "BackoffRate": 2.0, "MaxAttempts": 3}
    _needs("retry-policy-exception-types", _step("Processing", RetryPolicies=[policy]), "ProcessingStep")
    _needs("retry-policy-exception-types", _step("Processing", RetryPolicies=[{"ExceptionType": ["Step.SERVICE_FAULT"]}]), "ProcessingStep")
    for exception_type in ([], "SageMaker.JOB_INTERNAL_ERROR", ["Step.UNKNOWN"]):
        assert not _valid(ALL_GAPS, _step("Processing", RetryPolicies=[policy | {"ExceptionType": exception_type}]), "ProcessingStep"), exception_type


@pytest.mark.parametrize(
    ("kind", "name", "fields"),
    [
        ("QualityCheck", "QualityCheckStep", {"FailOnViolation": True}),
        ("QualityCheck", "QualityCheckStep", {"FailOnViolation": _GET}),
        ("QualityCheck", "QualityCheckStep", {"ModelPackageGroupName": None}),
        ("QualityCheck", "QualityCheckStep", {"SuppliedBaselineConstraints": None}),
        ("QualityCheck", "QualityCheckStep", {"SuppliedBaselineStatistics": None}),
        ("ClarifyCheck", "ClarifyCheckStep", {"FailOnViolation": False}),
        ("ClarifyCheck", "ClarifyCheckStep", {"ModelName": None}),
        ("ClarifyCheck", "ClarifyCheckStep", {"ModelPackageGroupName": None, "SuppliedBaselineConstraints": None}),
    ],
)
def test_check_steps_write_fail_on_violation_and_null_optional_fields(kind, name, fields):
    check_type = "DATA_QUALITY" if kind == "QualityCheck" else "DATA_BIAS"
    _needs("check-step-fields", _step(kind, CheckType=check_type, **fields), name)


@pytest.mark.parametrize(
    ("kind", "name", "fields"),
    [
        ("QualityCheck", "QualityCheckStep", {"FailOnViolation": "yes"}),
        ("QualityCheck", "QualityCheckStep", {"ModelPackageGroupName": 5}),
        ("QualityCheck", "QualityCheckStep", {"SuppliedBaselineStatistics": 5}),
        ("QualityCheck", "QualityCheckStep", {"ModelName": None}),
        ("ClarifyCheck", "ClarifyCheckStep", {"FailOnViolation": "yes"}),
        ("ClarifyCheck", "ClarifyCheckStep", {"ModelName": 5}),
        ("ClarifyCheck", "ClarifyCheckStep", {"SuppliedBaselineStatistics": None}),
    ],
)
def test_what_check_steps_still_refuse(kind, name, fields):
    check_type = "DATA_QUALITY" if kind == "QualityCheck" else "DATA_BIAS"
    assert _valid(ALL_GAPS, _step(kind, CheckType=check_type), name)
    assert not _valid(ALL_GAPS, _step(kind, CheckType=check_type, **fields), name)


def test_an_endpoint_config_step_has_its_own_type():
    _needs("endpoint-config-step-type", _step("EndpointConfig"), "EndpointConfigStep")
    assert not _valid(ALL_GAPS, _step("Endpoint"), "EndpointConfigStep")


_FOR_EACH = {"IterableItems": ["us-east-1", "eu-west-1"], "MaxConcurrency": 2, "ForEachBody": []}


@pytest.mark.parametrize(
    "arguments",
    [
        _FOR_EACH,
        _FOR_EACH | {"IterableItems": {"Get": "Parameters.Regions"}},
        _FOR_EACH | {"IterableItems": ["x"] * 100, "MaxConcurrency": 50},
        _FOR_EACH | {"IterableItems": ["x"], "MaxConcurrency": 1},
        _FOR_EACH | {"Selector": {"Pick": "MaxBy", "Field": {"Get": "IterationOutput.Body.Score"}}},
        _FOR_EACH | {"Selector": {"Pick": "MinBy", "Field": {"Get": "IterationOutput.Body.Score"}}},
    ],
)
def test_for_each_steps(arguments):
    _needs("for-each-step", _step("ForEach", Arguments=arguments), "ForEachStep")


@pytest.mark.parametrize(
    "arguments",
    [
        _FOR_EACH | {"IterableItems": []},
        _FOR_EACH | {"IterableItems": ["x"] * 101},
        _FOR_EACH | {"IterableItems": "us-east-1"},
        _FOR_EACH | {"MaxConcurrency": 0},
        _FOR_EACH | {"MaxConcurrency": 51},
        _FOR_EACH | {"MaxConcurrency": 1.5},
        _FOR_EACH | {"ForEachBody": {}},
        _FOR_EACH | {"Extra": 1},
        {key: value for key, value in _FOR_EACH.items() if key != "IterableItems"},
        {key: value for key, value in _FOR_EACH.items() if key != "MaxConcurrency"},
        {key: value for key, value in _FOR_EACH.items() if key != "ForEachBody"},
        _FOR_EACH | {"Selector": {"Pick": "Max", "Field": {"Get": "IterationOutput.Body.Score"}}},
        _FOR_EACH | {"Selector": {"Pick": "MaxBy"}},
        _FOR_EACH | {"Selector": {"Field": {"Get": "IterationOutput.Body.Score"}}},
        _FOR_EACH | {"Selector": {"Pick": "MaxBy", "Field": "Score"}},
        _FOR_EACH | {"Selector": {"Pick": "MaxBy", "Field": {"Get": "IterationOutput.Body.Score"}, "Extra": 1}},
    ],
)
def test_what_for_each_steps_still_refuse(arguments):
    assert not _valid(ALL_GAPS, _step("ForEach", Arguments=arguments), "ForEachStep")


_CLEANUP = {"Resources": {"S3": [{"StepName": "Train", "S3Uris": ["s3://b/p/", {"Get": "Parameters.Scratch"}]}]}}


def test_cleanup_steps():
    _needs("cleanup-step", _step("Cleanup", Arguments=_CLEANUP), "CleanupStep")
    _needs("cleanup-step", _step("Cleanup", Arguments={"Resources": {"S3": [{"StepName": "Train"}]}}), "CleanupStep")
    _needs("cleanup-step", _step("Cleanup", Arguments={"Resources": {"S3": [{"StepName": "Train", "S3Uris": ["s3://b/p/"]}]}}), "CleanupStep")
    refused = [
        {},
        {"Resources": {}},
        {"Resources": {"S3": []}},
        {"Resources": {"S3": [{"S3Uris": ["s3://b/p/"]}]}},
        {"Resources": {"S3": [{"StepName": "Train", "S3Uris": []}]}},
        {"Resources": {"S3": {"StepName": "Train"}}},
        {"Resources": {"S3": [{"StepName": "Train", "S3Uris": "s3://b/p/"}]}},
        {"Resources": {"S3": [{"StepName": "Train", "S3Uris": [5]}]}},
        {"Resources": {"S3": [{"StepName": "bad name"}]}},
        {"Resources": {"S3": [{"StepName": "Train", "Extra": 1}]}},
        {"Resources": {"S3": [{"StepName": "Train"}], "Ec2": []}},
        _CLEANUP | {"Extra": 1},
    ]
    for arguments in refused:
        assert not _valid(ALL_GAPS, _step("Cleanup", Arguments=arguments), "CleanupStep"), arguments


_ASSOCIATION = {"Source": {"Name": "smp-a", "Type": "Action"}, "Destination": {"Arn": "arn:aws:sagemaker:us-east-1:123456789012:context/c"}, "AssociationType": "ContributedTo"}


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"Actions": [{"ActionName": "a"}], "Artifacts": [{}], "Contexts": [{}]},
        {"Associations": [_ASSOCIATION]},
        {"Associations": [_ASSOCIATION | {"Source": {"Name": _JOIN, "Type": "Context"}}]},
        {"Associations": [_ASSOCIATION | {"Destination": {"Name": "smp-x", "Type": "Artifact"}}]},
        {"Associations": [{key: value for key, value in _ASSOCIATION.items() if key != "AssociationType"}]},
    ],
)
def test_lineage_steps(arguments):
    _needs("lineage-step", _step("Lineage", Arguments=arguments), "LineageStep")


@pytest.mark.parametrize(
    "arguments",
    [
        {"Actions": {"ActionName": "a"}},
        {"Actions": ["a"]},
        {"Artifacts": ["a"]},
        {"Contexts": ["a"]},
        {"Artifacts": {"ArtifactType": "a"}},
        {"Contexts": {"ContextName": "c"}},
        {"Associations": [_ASSOCIATION | {"Source": {}}]},
        {"Associations": [_ASSOCIATION | {"Source": {"Name": "smp-a", "Type": "Model"}}]},
        {"Associations": [_ASSOCIATION | {"Source": {"Name": "smp-a"}}]},
        {"Associations": [_ASSOCIATION | {"Source": {"Type": "Action"}}]},
        {"Associations": [_ASSOCIATION | {"Source": {"Arn": "arn", "Name": "smp-a", "Type": "Action"}}]},
        {"Associations": [_ASSOCIATION | {"Destination": {"Arn": 5}}]},
        {"Associations": [_ASSOCIATION | {"AssociationType": 5}]},
        {"Associations": [{key: value for key, value in _ASSOCIATION.items() if key != "Source"}]},
        {"Associations": [{key: value for key, value in _ASSOCIATION.items() if key != "Destination"}]},
        {"Associations": [_ASSOCIATION | {"Extra": 1}]},
        {"Associations": _ASSOCIATION},
        {"Extra": []},
    ],
)
def test_what_lineage_steps_still_refuse(arguments):
    assert not _valid(ALL_GAPS, _step("Lineage", Arguments=arguments), "LineageStep")


_RETRY = [{"ExceptionType": ["Step.SERVICE_FAULT"], "MaxAttempts": 2}]
_CACHE = {"Enabled": True, "ExpireAfter": "P30D"}


def test_inference_component_steps_have_the_envelope_of_a_step_without_retry_or_cache():
    envelope = {"DependsOn": ["Endpoint"], "DisplayName": "Component", "Description": "one model on the endpoint"}
    _needs("inference-component-step", _step("InferenceComponent", Arguments={"InferenceComponentName": "c"}, **envelope), "InferenceComponentStep")
    for fields in ({"RetryPolicies": _RETRY}, {"CacheConfig": _CACHE}, {"Extra": 1}, {"Type": "Endpoint"}, {"Arguments": []}, {"DependsOn": ["bad name"]}, {"Description": 5}):
        assert not _valid(ALL_GAPS, _step("InferenceComponent") | fields, "InferenceComponentStep"), fields
    for missing in ("Name", "Type", "Arguments"):
        step = _step("InferenceComponent")
        del step[missing]
        assert not _valid(ALL_GAPS, step, "InferenceComponentStep"), missing


def test_emr_serverless_steps_may_retry_and_cache():
    _needs("emr-serverless-step", _step("EMRServerless", RetryPolicies=_RETRY, CacheConfig=_CACHE, DependsOn=["Prepare"]), "EMRServerlessStep")
    for fields in ({"RetryPolicies": [{"MaxAttempts": 2}]}, {"CacheConfig": {"Enabled": "yes"}}, {"Extra": 1}, {"Type": "EMR"}):
        assert not _valid(ALL_GAPS, _step("EMRServerless") | fields, "EMRServerlessStep"), fields


# Messages of check_schema


def _schema_error(definition) -> PipelineDefinitionError:
    with pytest.raises(PipelineDefinitionError) as raised:
        check_schema(definition, FAIL)
    assert raised.value.pipeline == "sandbox-p"
    return raised.value


def test_schema_errors_name_the_closest_field():
    assert schema_errors({"Name": "A", "Type": "Fail", "Arguments": {"ErrorMessage": 5}}, "FailStep") == [("Arguments/ErrorMessage", "5 is not of type 'string'")]
    assert schema_errors({"Name": "A", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}, "FailStep") == []
    assert schema_errors(_top(Version="2021"), None) == [("Version", "'2021' is not one of ['2020-12-01']")]


def test_schema_messages_are_cut_at_300_characters():
    ((field, message),) = schema_errors({"Name": "A", "Type": "Fail", "Arguments": {"ErrorMessage": ["x" * 400]}}, "FailStep")
    assert field == "Arguments/ErrorMessage" and len(message) == 300 and message.startswith("['xxx")


def test_schema_errors_of_the_schema_without_the_gaps():
    instance = _top(MlflowConfig=None)
    assert schema_errors(instance, None) == []
    ((field, message),) = schema_errors(instance, None, amended=False)
    assert field == "(root)" and "'MlflowConfig' was unexpected" in message


def test_a_top_level_error_names_the_field_and_says_the_schema_may_be_out_of_date():
    error = _schema_error(_top(Version="2021"))
    assert error.reason == f"schema: '2021' is not one of ['2020-12-01'] ({SCHEMA_NOTE})"
    assert (error.step, error.field) == (None, "Version")
    error = _schema_error(_top(Surprise=1))
    assert (error.step, error.field) == (None, "(root)") and "'Surprise' was unexpected" in error.reason


def test_a_step_error_names_the_step_and_field():
    error = _schema_error(_top(Steps=[{"Name": "A", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}, {"Name": "B", "Type": "Fail", "Arguments": {"ErrorMessage": 5}}]))
    assert error.reason == f"schema: 5 is not of type 'string' ({SCHEMA_NOTE})"
    assert (error.step, error.field) == ("B", "Arguments/ErrorMessage")


def test_an_unknown_step_type_lists_the_known_ones():
    error = _schema_error(_top(Steps=[{"Name": "A", "Type": "Notebook", "Arguments": {}}]))
    assert error.reason == f"unknown step type 'Notebook' (known: {sorted(STEP_SCHEMA_DEFINITIONS)})"
    assert (error.step, error.field) == ("A", "Type")


def _condition(*children, branch="IfSteps"):
    return {"Name": "Check", "Type": "Condition", "Arguments": {"Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}], branch: list(children)}}


def test_steps_in_condition_branches_are_checked_on_their_own():
    good = {"Name": "Inner", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}
    check_schema(_top(Steps=[_condition(good)]), FAIL)
    bad = {"Name": "Inner", "Type": "Fail", "Arguments": {"ErrorMessage": 5}}
    for branch in ("IfSteps", "ElseSteps"):
        error = _schema_error(_top(Steps=[_condition(good, bad, branch=branch)]))
        assert (error.step, error.field) == ("Inner", "Arguments/ErrorMessage")


def test_steps_in_a_for_each_body_are_checked_on_their_own():
    body = {"Name": "Body", "Type": "Fail", "Arguments": {"ErrorMessage": 5}}
    error = _schema_error(_top(Steps=[{"Name": "Each", "Type": "ForEach", "Arguments": _FOR_EACH | {"ForEachBody": [body]}}]))
    assert (error.step, error.field) == ("Body", "Arguments/ErrorMessage")


@pytest.mark.parametrize("branch", ["IfSteps", "ElseSteps"])
def test_a_condition_branch_holds_only_the_step_types_the_schema_lists(branch):
    allowed = ["Fail", "Lambda", "Model", "Processing", "RegisterModel", "Training", "Transform"]
    for kind in allowed:
        child = {"Name": "Inner", "Type": kind, "Arguments": {}} | ({"FunctionArn": "arn"} if kind == "Lambda" else {}) | ({"Arguments": {"ErrorMessage": "x"}} if kind == "Fail" else {})
        check_schema(_top(Steps=[_condition(child, branch=branch)]), FAIL)
    error = _schema_error(_top(Steps=[_condition({"Name": "Inner", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}, {"Name": "Tune", "Type": "Tuning", "Arguments": {}}, branch=branch)]))
    assert error.reason == f"step type 'Tuning' is not allowed in a condition branch (allowed: {allowed})"
    assert (error.step, error.field) == ("Tune", "Type")


def test_checking_the_schema_leaves_the_definition_as_it_was():
    definition = _top(Steps=[_condition({"Name": "Inner", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}})])
    before = copy.deepcopy(definition)
    check_schema(definition, FAIL)
    assert definition == before


def test_a_missing_schema_file_names_its_path_and_the_variable(monkeypatch, tmp_path):
    missing = tmp_path / "absent.schema.json"
    monkeypatch.setattr(schema, "SCHEMA_PATH", missing)
    with pytest.raises(PipelineDefinitionError) as raised:
        schema.published_schema.__wrapped__()
    assert str(raised.value) == f"pipeline definition schema not found at {missing}; set PIPELINE_DEFS_SCHEMA to its path"


def test_a_for_each_body_holds_any_step_type():
    body = [{"Name": "Tune", "Type": "Tuning", "Arguments": {}}, {"Name": "Notify", "Type": "Lambda", "FunctionArn": "arn", "Arguments": {}}]
    check_schema(_top(Steps=[{"Name": "Each", "Type": "ForEach", "Arguments": _FOR_EACH | {"ForEachBody": body}}]), FAIL)


@pytest.mark.parametrize(
    ("step", "name"),
    [
        ("InferenceComponent", "InferenceComponentStep"),
        (["InferenceComponent"], "InferenceComponentStep"),
        (_step("EMRServerless", RetryPolicies={"ExceptionType": ["Step.SERVICE_FAULT"]}), "EMRServerlessStep"),
        (_step("ForEach", Arguments=[_FOR_EACH]), "ForEachStep"),
        (_step("ForEach", Arguments=_FOR_EACH | {"Selector": "MaxBy"}), "ForEachStep"),
        (_step("Cleanup", Arguments={"Resources": [{"S3": []}]}), "CleanupStep"),
    ],
)
def test_an_added_step_definition_refuses_a_value_of_the_wrong_kind(step, name):
    assert not _valid(ALL_GAPS, step, name)
