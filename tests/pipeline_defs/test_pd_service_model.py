"""Job step arguments checked as the API request they are, against the pinned botocore model."""

from __future__ import annotations

import copy
import json

import botocore
import pytest

from pipeline_defs import validation
from pipeline_defs.contract import iter_steps
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.validation.schema import SCHEMA_NOTE, schema_in_scope
from pipeline_defs.validation.service_model import STEP_REQUESTS, service_model


def _validate(definition):
    validation.validate_definition(
        definition,
        definition_text=json.dumps(definition),
        pipeline_name="sandbox-p",
        module_file="pipeline_defs/pipelines/p.py",
        cost_tag_key="CostCenter",
    )


def _with_step(definitions, pipeline, name, change):
    definition = copy.deepcopy(definitions[pipeline])
    step = {s["Name"]: s for s, _ in iter_steps(definition["Steps"])}[name]
    change(step["Arguments"])
    return definition


def _error(definition) -> PipelineDefinitionError:
    with pytest.raises(PipelineDefinitionError) as raised:
        _validate(definition)
    return raised.value


@pytest.mark.parametrize("kind", sorted(STEP_REQUESTS))
def test_every_request_shape_exists_in_the_pinned_model(kind):
    request = STEP_REQUESTS[kind]
    model = service_model(request.service)
    if request.operation:
        assert model.operation_model(request.operation).input_shape is not None
    for reference in filter(None, request.members.values()):
        name, _, member = reference.strip("[]").partition(".")
        shape = model.shape_for(name)
        assert not member or member in shape.members


def test_the_schema_no_longer_checks_arguments_an_api_defines():
    definitions = schema_in_scope()["definitions"]
    assert definitions["TrainingStep"]["properties"]["Arguments"] == {"type": "object"}
    assert definitions["ConditionStep"]["properties"]["Arguments"] != {"type": "object"}


def test_fields_newer_than_the_published_schema_pass_as_the_api_defines_them(definitions):
    """What the removed schema gaps amended is now just part of the API request."""
    steps = {s["Name"]: s for s, _ in iter_steps(definitions["train-evaluate-register"]["Steps"])}
    assert steps["Train"]["Arguments"]["OutputDataConfig"]["CompressionType"] == "GZIP"
    assert steps["CreateModel"]["Arguments"]["PrimaryContainer"]["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    from pipeline_defs.validation.service_model import check_service_requests

    for definition in definitions.values():
        check_service_requests(definition, PipelineDefinitionError)


@pytest.mark.parametrize(
    ("change", "field", "needle"),
    [
        (lambda a: a["ProcessingResources"]["ClusterConfig"].update(InstanceCount="two"), "Arguments.ProcessingResources.ClusterConfig.InstanceCount", "expects int, got str 'two'"),
        (lambda a: a["AppSpecification"].pop("ImageUri"), "Arguments.AppSpecification.ImageUri", "is required"),
        (lambda a: a.update(Surprise=True), "Arguments.Surprise", "is not a field here (allowed: AppSpecification, "),
        (lambda a: a["ProcessingResources"]["ClusterConfig"].update(InstanceCount={"Std:Join": {"On": "", "Values": ["1"]}}), "Arguments.ProcessingResources.ClusterConfig.InstanceCount", "expects integer; Std:Join gives a string"),
        (lambda a: a["ProcessingResources"]["ClusterConfig"].update(InstanceCount={"Get": "Parameters.InputDataUrl"}), "Arguments.ProcessingResources.ClusterConfig.InstanceCount", "expects integer; Parameters.InputDataUrl is a String parameter"),
        (lambda a: a["ProcessingResources"]["ClusterConfig"].update(VolumeSizeInGB=0), "Arguments.ProcessingResources.ClusterConfig.VolumeSizeInGB", "below the minimum 1"),
    ],
)
def test_a_request_the_api_refuses_fails_naming_step_field_and_model(definitions, change, field, needle):
    error = _error(_with_step(definitions, "train-evaluate-register", "Preprocess", change))
    assert (error.pipeline, error.step, error.field) == ("sandbox-p", "Preprocess", field)
    assert needle in error.reason
    assert f"says the CreateProcessingJob request in the pinned sagemaker service model (botocore {botocore.__version__})" in error.reason
    assert "the SDK wrote it and this check has a gap" in error.reason


def test_pipeline_expressions_stand_where_values_are_expected(definitions):
    def change(arguments):
        cluster = arguments["ProcessingResources"]["ClusterConfig"]
        cluster["InstanceCount"] = {"Get": "Parameters.ProcessingInstanceCount"}
        cluster["VolumeSizeInGB"] = {"Std:JsonGet": {"Path": "size", "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}}}
        arguments["AppSpecification"]["ContainerArguments"] = ["--run", {"Get": "Execution.PipelineExecutionId"}, {"Std:Join": {"On": "/", "Values": ["a", "b"]}}]
        arguments["Environment"] = {"RUN": {"Get": "Execution.PipelineExecutionId"}}

    from pipeline_defs.validation.service_model import check_service_requests

    check_service_requests(_with_step(definitions, "train-evaluate-register", "Preprocess", change), PipelineDefinitionError)


def test_names_the_pipeline_service_sets_at_run_time_may_be_absent(definitions):
    from pipeline_defs.validation.service_model import check_service_requests

    definition = _with_step(definitions, "train-evaluate-register", "Preprocess", lambda a: a.pop("ProcessingJobName"))
    check_service_requests(definition, PipelineDefinitionError)


def test_a_schema_failure_says_the_schema_may_be_the_one_out_of_date():
    definition = {"Version": "2020-12-01", "Metadata": {}, "Parameters": [], "Steps": [{"Name": "A", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}, "Surprise": 1}]}
    error = _error(definition)
    assert SCHEMA_NOTE in error.reason and "known_gaps.py" in error.reason
