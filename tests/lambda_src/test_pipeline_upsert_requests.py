"""The upsert function's event parsing: each field a handover, delete or upsert needs, the message a
missing or malformed one gives, and the values each request carries on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.pipelines.definition_parts import split_definition
from support.lambdas import load_handler, load_kit

request = load_handler("pipeline_upsert", module="request")
kit = load_kit()

STACK_ID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/smp-sandbox-pipelines/1"
DEFINITION = json.dumps({"Version": "2020-12-01", "Metadata": {}, "Parameters": [], "Steps": [{"Name": "Wait", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}]})


def _handover(**properties: Any) -> dict:
    return {
        "RequestType": "Create",
        "StackId": STACK_ID,
        "RequestId": "req-1",
        "ResourceType": "Custom::SageMakerPipelineHandover",
        "ResourceProperties": {"PipelineNamePrefix": "smp-sandbox-", "ResourcePrefix": "smp-sandbox", **properties},
    }


def _refusal(event: Any) -> str:
    with pytest.raises(kit.RequestError) as caught:
        request.parse_request(event=event)
    return str(caught.value)


def test_a_handover_carries_its_stack_request_and_prefixes() -> None:
    parsed = request.parse_request(event=_handover())
    assert parsed == request.HandoverRequest(stack_id=STACK_ID, request_id="req-1", pipeline_prefix="smp-sandbox-", resource_prefix="smp-sandbox")
    assert request.parse_request(event={**_handover(), "RequestType": "Update"}) == parsed


def test_deleting_the_handover_resource_changes_nothing() -> None:
    assert request.parse_request(event={**_handover(), "RequestType": "Delete"}) is None


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("StackId", "field 'StackId' is missing; allowed: the stack's ARN"),
        ("RequestId", "field 'RequestId' is missing; allowed: CloudFormation's request id"),
        ("ResourceProperties", "field 'ResourceProperties' is missing; allowed: a JSON object"),
    ],
)
def test_a_handover_without_an_event_field_is_refused_naming_it(drop: str, message: str) -> None:
    event = _handover()
    del event[drop]
    assert _refusal(event) == message


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("PipelineNamePrefix", "field 'ResourceProperties.PipelineNamePrefix' is missing; allowed: the environment's pipeline name prefix, e.g. 'smp-prod-'"),
        ("ResourcePrefix", "field 'ResourceProperties.ResourcePrefix' is missing; allowed: the environment's resource prefix, e.g. 'smp-prod'"),
    ],
)
def test_a_handover_without_a_prefix_is_refused_naming_it(key: str, message: str) -> None:
    event = _handover()
    del event["ResourceProperties"][key]
    assert _refusal(event) == message


def _upsert(request_type: str = "Create", **properties: Any) -> dict:
    base = {"PipelineName": "smp-sandbox-abalone", "RoleArn": "arn:aws:iam::123456789012:role/smp-sandbox-abalone-exec", "Definition": split_definition(definition=DEFINITION)}
    return {"RequestType": request_type, "StackId": STACK_ID, "RequestId": "req-2", "ResourceType": "Custom::SageMakerPipeline", "ResourceProperties": {**base, **properties}}


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("StackId", "field 'StackId' is missing; allowed: the stack's ARN"),
        ("RequestId", "field 'RequestId' is missing; allowed: CloudFormation's request id"),
        ("RequestType", "field 'RequestType' is missing; allowed: Create, Update or Delete"),
    ],
)
def test_an_upsert_without_an_event_field_is_refused_naming_it(drop: str, message: str) -> None:
    event = _upsert()
    del event[drop]
    assert _refusal(event) == message


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("StackId", "field 'StackId' is missing; allowed: the stack's ARN"),
        ("RequestId", "field 'RequestId' is missing; allowed: CloudFormation's request id"),
    ],
)
def test_a_delete_without_an_event_field_is_refused_naming_it(drop: str, message: str) -> None:
    event = {**_upsert("Delete"), "PhysicalResourceId": "smp-sandbox-abalone"}
    del event[drop]
    assert _refusal(event) == message


def test_an_unknown_request_type_is_refused_with_the_allowed_ones() -> None:
    assert _refusal(_upsert("Replace")) == "field 'RequestType' is 'Replace'; allowed: Create, Update or Delete"


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"RoleArn": None}, "field 'ResourceProperties.RoleArn' is missing; allowed: the ARN of the pipeline's execution role"),
        ({"PipelineName": "bad_name"}, "field 'ResourceProperties.PipelineName' is 'bad_name'; allowed: " + kit.PIPELINE_NAME_ALLOWED),
        ({"RetainOnDelete": "sometimes"}, "field 'ResourceProperties.RetainOnDelete' is 'sometimes'; allowed: true or false"),
        ({"MaxParallelExecutionSteps": "0"}, "field 'ResourceProperties.MaxParallelExecutionSteps' is '0'; allowed: an integer (at least 1), as a number or a decimal string"),
        ({"AdoptFrom": "smp-sandbox-pipelines"}, "field 'ResourceProperties.AdoptFrom' is 'smp-sandbox-pipelines'; allowed: a list of stack names"),
        ({"AdoptFrom": ["smp-sandbox-pipelines", ""]}, "field 'ResourceProperties.AdoptFrom' is ['smp-sandbox-pipelines', '']; allowed: a list of stack names"),
        ({"Definition": {"S3Bucket": "b"}}, "field 'ResourceProperties.Definition.S3Key' is missing; allowed: an object key"),
        ({"Definition": {"S3Key": "k", "S3Bucket": ""}}, "field 'ResourceProperties.Definition.S3Bucket' is ''; allowed: a bucket name"),
        ({"Definition": "{}"}, "field 'ResourceProperties.Definition' is '{}'; allowed: Head, StepOrder and Steps, or S3Bucket, S3Key and Substitutions"),
        ({"JobFiles": {"S3Bucket": "assets", "S3Key": "k.zip"}}, "field 'ResourceProperties.JobFiles.Bucket' is missing; allowed: the environment's artifact bucket"),
        ({"JobFiles": {"S3Bucket": "assets", "Bucket": "artifacts"}}, "field 'ResourceProperties.JobFiles.S3Key' is missing; allowed: the asset's object key"),
        ({"JobFiles": {"S3Key": "k.zip", "Bucket": "artifacts"}}, "field 'ResourceProperties.JobFiles.S3Bucket' is missing; allowed: the asset bucket"),
        ({"JobFiles": "s3://assets/k.zip"}, "field 'ResourceProperties.JobFiles' is 's3://assets/k.zip'; allowed: S3Bucket, S3Key and Bucket"),
    ],
)
def test_malformed_upsert_properties_are_refused_naming_the_field(properties: dict, message: str) -> None:
    assert _refusal(_upsert(**properties)) == message


def test_an_upsert_carries_every_setting() -> None:
    parsed = request.parse_request(
        event={
            **_upsert(
                "Update",
                Description="d",
                DisplayName="Abalone",
                Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": 1}],
                MaxParallelExecutionSteps="3",
                AdoptFrom=["smp-sandbox-pipelines"],
                JobFiles={"S3Bucket": "assets", "S3Key": "k.zip", "Bucket": "artifacts"},
            ),
            "PhysicalResourceId": "smp-sandbox-abalone",
        }
    )
    assert parsed.request_type == "Update" and parsed.stack_id == STACK_ID and parsed.request_id == "req-2" and parsed.physical_id == "smp-sandbox-abalone"
    assert parsed.pipeline == request.PipelineSettings(
        name="smp-sandbox-abalone",
        role_arn="arn:aws:iam::123456789012:role/smp-sandbox-abalone-exec",
        description="d",
        display_name="Abalone",
        tags=(("a", "1"), ("b", "2")),
        max_parallel_steps=3,
    )
    assert json.loads(parsed.definition) == json.loads(DEFINITION)
    assert parsed.job_files == request.JobFiles(source_bucket="assets", source_key="k.zip", destination_bucket="artifacts")
    assert parsed.adopt_from == ("smp-sandbox-pipelines",)


def test_upsert_defaults_when_optional_settings_are_absent() -> None:
    parsed = request.parse_request(event=_upsert())
    assert parsed.physical_id is None
    assert (parsed.pipeline.description, parsed.pipeline.display_name, parsed.pipeline.tags, parsed.pipeline.max_parallel_steps) == ("", "smp-sandbox-abalone", (), None)
    assert (parsed.job_files, parsed.adopt_from) == (None, ())


def test_the_display_name_is_cut_to_sagemakers_256_characters() -> None:
    assert request.parse_request(event=_upsert(DisplayName="d" * 300)).pipeline.display_name == "d" * 256
    assert request.parse_request(event=_upsert(DisplayName="")).pipeline.display_name == "smp-sandbox-abalone"


def test_a_definition_in_s3_carries_its_object_and_substitutions() -> None:
    parsed = request.parse_request(event=_upsert(Definition={"S3Bucket": "artifacts", "S3Key": "defs/p.json", "Substitutions": {"KmsKeyArn": "arn:k"}}))
    assert parsed.definition == request.DefinitionObject(bucket="artifacts", key="defs/p.json", substitutions={"KmsKeyArn": "arn:k"})
    parsed = request.parse_request(event=_upsert(Definition={"S3Bucket": "artifacts", "S3Key": "defs/p.json"}))
    assert parsed.definition.substitutions == {}


@pytest.mark.parametrize(
    ("properties", "retain", "name"),
    [
        ({"PipelineName": "smp-sandbox-abalone", "RetainOnDelete": "TRUE"}, True, "smp-sandbox-abalone"),
        ({"PipelineName": "smp-sandbox-abalone", "RetainOnDelete": True}, True, "smp-sandbox-abalone"),
        ({"PipelineName": "smp-sandbox-abalone", "RetainOnDelete": "false"}, False, "smp-sandbox-abalone"),
        ({"PipelineName": "smp-sandbox-abalone"}, False, "smp-sandbox-abalone"),
        ({"PipelineName": 5, "RetainOnDelete": "yes"}, False, None),
    ],
)
def test_a_delete_is_read_leniently(properties: dict, retain: bool, name: str | None) -> None:
    event = {"RequestType": "Delete", "StackId": STACK_ID, "RequestId": "req-3", "PhysicalResourceId": "smp-sandbox-abalone", "ResourceProperties": properties}
    assert request.parse_request(event=event) == request.DeleteRequest(stack_id=STACK_ID, request_id="req-3", physical_id="smp-sandbox-abalone", pipeline_name=name, retain=retain)


def test_a_delete_without_properties_or_physical_id_touches_nothing_named() -> None:
    event = {"RequestType": "Delete", "StackId": STACK_ID, "RequestId": "req-3", "ResourceProperties": "not an object"}
    assert request.parse_request(event=event) == request.DeleteRequest(stack_id=STACK_ID, request_id="req-3", physical_id="", pipeline_name=None, retain=False)
