"""The pipeline upsert custom resource handler: lifecycle against moto, faults through botocore."""

from __future__ import annotations

import json
from typing import Any, Iterator

import boto3
import botocore.awsrequest
import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber
from moto import mock_aws

from stacks.pipelines.definition_parts import split_definition
from support.lambdas import load_handler

handler = load_handler("pipeline_upsert")

REGION = "eu-west-1"
STACK_ID = f"arn:aws:cloudformation:{REGION}:123456789012:stack/smp-sandbox-pipelines/0f0e0d0c-1111-2222-3333-444455556666"
ROLE_ARN = "arn:aws:iam::123456789012:role/smp-sandbox-sagemaker-execution"
WRITES = {"CreatePipeline", "UpdatePipeline", "DeletePipeline", "AddTags", "DeleteTags"}


def _definition(instance_type: str = "ml.m5.xlarge") -> str:
    return json.dumps(
        {
            "Version": "2020-12-01",
            "Metadata": {},
            "Parameters": [{"Name": "InputData", "Type": "String", "DefaultValue": "s3://bucket/in"}],
            "Steps": [
                {"Name": "Preprocess", "Type": "Processing", "Arguments": {"ProcessingResources": {"ClusterConfig": {"InstanceType": instance_type, "InstanceCount": 1, "VolumeSizeInGB": 30}}}},
                {"Name": "Train", "Type": "Training", "DependsOn": ["Preprocess"], "Arguments": {"ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}}},
            ],
        }
    )


def _properties(name: str = "smp-sandbox-abalone", **overrides: Any) -> dict[str, Any]:
    properties = {
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:provider",
        "PipelineName": name,
        "RoleArn": ROLE_ARN,
        "Definition": split_definition(definition=_definition()),
        "Description": "abalone train, evaluate, register",
        "DisplayName": name,
        "Tags": [{"Key": "CostCenter", "Value": "ml-platform"}, {"Key": "Environment", "Value": "sandbox"}],
        "MaxParallelExecutionSteps": "4",
    }
    properties.update(overrides)
    return properties


def _event(request_type: str, properties: dict, physical_id: str | None = None, old: dict | None = None, request_id: str = "5d6f3a2e-0000-4b1c-9d8e-123456789abc") -> dict:
    event = {
        "RequestType": request_type,
        "ServiceToken": properties["ServiceToken"],
        "ResponseURL": "https://example.invalid/response",
        "StackId": STACK_ID,
        "RequestId": request_id,
        "LogicalResourceId": "AbalonePipeline",
        "ResourceType": "Custom::SageMakerPipeline",
        "ResourceProperties": properties,
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if old is not None:
        event["OldResourceProperties"] = old
    return event


class CallLog:
    """Records every API operation a client sends (through botocore's own event hooks)."""

    def __init__(self, client: Any) -> None:
        self.operations: list[str] = []
        client.meta.events.register("before-call.sagemaker", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)

    def writes(self) -> list[str]:
        return [op for op in self.operations if op in WRITES]


@pytest.fixture
def sagemaker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield boto3.client("sagemaker", region_name=REGION, config=handler.CLIENT_CONFIG)


def _tags(client: Any, name: str) -> dict[str, str]:
    arn = client.describe_pipeline(PipelineName=name)["PipelineArn"]
    return {t["Key"]: t["Value"] for t in client.list_tags(ResourceArn=arn)["Tags"]}


def test_create_writes_the_assembled_definition_tags_and_settings(sagemaker: Any) -> None:
    log = CallLog(sagemaker)
    result = handler.handle(event=_event("Create", _properties()), client=sagemaker)
    assert log.writes() == ["CreatePipeline"]
    assert result["PhysicalResourceId"] == "smp-sandbox-abalone"
    described = sagemaker.describe_pipeline(PipelineName="smp-sandbox-abalone")
    assert described["PipelineDefinition"] == handler.canonical_json(json.loads(_definition()))
    assert described["RoleArn"] == ROLE_ARN
    assert described["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 4}
    assert result["Data"]["PipelineArn"] == described["PipelineArn"]
    assert len(result["Data"]["DefinitionSha256"]) == 64
    assert _tags(sagemaker, "smp-sandbox-abalone") == {"CostCenter": "ml-platform", "Environment": "sandbox", "smp:managed-by": "smp-sandbox-pipelines"}


def test_assembled_definition_equals_the_canonical_source_byte_for_byte() -> None:
    parts = split_definition(definition=_definition())
    assert handler.assemble_definition(parts=json.loads(json.dumps(parts))) == handler.canonical_json(json.loads(_definition()))
    assert list(parts["Steps"]) == ["Preprocess", "Train"]


def test_unchanged_update_makes_no_write_call(sagemaker: Any) -> None:
    handler.handle(event=_event("Create", _properties()), client=sagemaker)
    log = CallLog(sagemaker)
    result = handler.handle(event=_event("Update", _properties(), physical_id="smp-sandbox-abalone", old=_properties()), client=sagemaker)
    assert log.writes() == []
    assert result["PhysicalResourceId"] == "smp-sandbox-abalone"


def test_update_of_one_step_and_tags(sagemaker: Any) -> None:
    handler.handle(event=_event("Create", _properties()), client=sagemaker)
    changed = _properties(
        Definition=split_definition(definition=_definition(instance_type="ml.m5.2xlarge")),
        Tags=[{"Key": "CostCenter", "Value": "ml-platform"}, {"Key": "Team", "Value": "forecasting"}],
    )
    log = CallLog(sagemaker)
    handler.handle(event=_event("Update", changed, physical_id="smp-sandbox-abalone", old=_properties()), client=sagemaker)
    assert log.writes() == ["UpdatePipeline", "DeleteTags", "AddTags"]
    definition = json.loads(sagemaker.describe_pipeline(PipelineName="smp-sandbox-abalone")["PipelineDefinition"])
    assert definition["Steps"][0]["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.m5.2xlarge"
    assert _tags(sagemaker, "smp-sandbox-abalone") == {"CostCenter": "ml-platform", "Team": "forecasting", "smp:managed-by": "smp-sandbox-pipelines"}


def test_rename_creates_the_new_pipeline_then_delete_removes_the_old(sagemaker: Any) -> None:
    old = _properties()
    handler.handle(event=_event("Create", old), client=sagemaker)
    renamed = _properties(name="smp-sandbox-abalone-v2")
    result = handler.handle(event=_event("Update", renamed, physical_id="smp-sandbox-abalone", old=old), client=sagemaker)
    assert result["PhysicalResourceId"] == "smp-sandbox-abalone-v2"
    # CloudFormation then deletes the old physical id, with the old properties.
    handler.handle(event=_event("Delete", old, physical_id="smp-sandbox-abalone"), client=sagemaker)
    names = [p["PipelineName"] for p in sagemaker.list_pipelines()["PipelineSummaries"]]
    assert names == ["smp-sandbox-abalone-v2"]


def test_delete_missing_retained_and_never_created(sagemaker: Any) -> None:
    log = CallLog(sagemaker)
    handler.handle(event=_event("Delete", _properties(), physical_id="smp-sandbox-abalone"), client=sagemaker)
    assert log.writes() == []  # found gone: success

    handler.handle(event=_event("Create", _properties()), client=sagemaker)
    retained = _properties(RetainOnDelete="true")
    log = CallLog(sagemaker)
    handler.handle(event=_event("Delete", retained, physical_id="smp-sandbox-abalone"), client=sagemaker)
    assert log.writes() == []
    assert sagemaker.describe_pipeline(PipelineName="smp-sandbox-abalone")["PipelineName"] == "smp-sandbox-abalone"

    # After a failed Create the physical id is the request id, not a pipeline: nothing is touched.
    log = CallLog(sagemaker)
    handler.handle(event=_event("Delete", _properties(), physical_id="5d6f3a2e-0000-4b1c-9d8e-123456789abc"), client=sagemaker)
    assert log.operations == []


def test_delete_uses_a_valid_client_request_token() -> None:
    client = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stub:
        stub.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": []}, {"PipelineName": "smp-sandbox-abalone", "SortBy": "CreationTime", "SortOrder": "Descending"})
        stub.add_response("delete_pipeline", {"PipelineArn": "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/smp-sandbox-abalone"}, {"PipelineName": "smp-sandbox-abalone", "ClientRequestToken": stub_any()})
        handler.handle(event=_event("Delete", _properties(), physical_id="smp-sandbox-abalone"), client=client)
        stub.assert_no_pending_responses()
    token = handler._token(_event("Delete", _properties()), "delete")
    assert 32 <= len(token) <= 128
    assert token == handler._token(_event("Delete", _properties()), "delete")


def test_delete_stops_running_executions_and_waits_while_they_stop() -> None:
    client = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    running = f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/smp-sandbox-abalone/execution/run1"
    listing = {"PipelineName": "smp-sandbox-abalone", "SortBy": "CreationTime", "SortOrder": "Descending"}
    slept: list[float] = []
    with Stubber(client) as stub:
        stub.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": [{"PipelineExecutionArn": running, "PipelineExecutionStatus": "Executing"}, {"PipelineExecutionArn": running + "-old", "PipelineExecutionStatus": "Succeeded"}]}, listing)
        stub.add_response("stop_pipeline_execution", {"PipelineExecutionArn": running}, {"PipelineExecutionArn": running, "ClientRequestToken": stub_any()})
        stub.add_client_error("delete_pipeline", service_error_code="ConflictException", service_message="Pipeline has running executions", http_status_code=400)
        stub.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": [{"PipelineExecutionArn": running, "PipelineExecutionStatus": "Stopping"}]}, listing)
        stub.add_response("delete_pipeline", {"PipelineArn": "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/smp-sandbox-abalone"}, {"PipelineName": "smp-sandbox-abalone", "ClientRequestToken": stub_any()})
        handler.delete(client=client, event=_event("Delete", _properties(), physical_id="smp-sandbox-abalone"), sleep=slept.append)
        stub.assert_no_pending_responses()
    assert slept == [handler.DELETE_RETRY_SECONDS]


def test_delete_gives_up_after_bounded_attempts() -> None:
    client = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": []})
            stub.add_client_error("delete_pipeline", service_error_code="ConflictException", service_message="still stopping", http_status_code=400)
        with pytest.raises(Exception, match="ConflictException"):
            handler.delete(client=client, event=_event("Delete", _properties(), physical_id="smp-sandbox-abalone"), sleep=lambda s: None, attempts=3)


def stub_any() -> Any:
    from botocore.stub import ANY

    return ANY


def test_create_adopts_a_pipeline_this_stack_owns(sagemaker: Any) -> None:
    sagemaker.create_pipeline(
        PipelineName="smp-sandbox-abalone", PipelineDefinition=_definition("ml.c5.xlarge"), RoleArn=ROLE_ARN, ClientRequestToken="t" * 40,
        Tags=[{"Key": "smp:managed-by", "Value": "smp-sandbox-pipelines"}],
    )
    log = CallLog(sagemaker)
    result = handler.handle(event=_event("Create", _properties()), client=sagemaker)
    assert "CreatePipeline" not in log.writes() and "UpdatePipeline" in log.writes()
    assert result["PhysicalResourceId"] == "smp-sandbox-abalone"


def test_create_refuses_a_pipeline_owned_by_someone_else(sagemaker: Any) -> None:
    sagemaker.create_pipeline(
        PipelineName="smp-sandbox-abalone", PipelineDefinition=_definition(), RoleArn=ROLE_ARN, ClientRequestToken="t" * 40,
        Tags=[{"Key": "smp:managed-by", "Value": "team-b-stack"}],
    )
    log = CallLog(sagemaker)
    with pytest.raises(RuntimeError, match="pipeline smp-sandbox-abalone already exists and is managed by team-b-stack"):
        handler.respond(event=_event("Create", _properties()), client=sagemaker)
    assert log.writes() == []


@pytest.mark.parametrize(
    ("event_change", "message"),
    [
        (lambda e: e.update(RequestType="Replace"), "RequestType is 'Replace'"),
        (lambda e: e["ResourceProperties"].pop("RoleArn"), "property 'RoleArn' is missing"),
        (lambda e: e["ResourceProperties"]["Definition"].update(Head="{not json"), "property 'Definition' is not JSON"),
        (lambda e: e["ResourceProperties"]["Definition"].update(StepOrder=["Train"]), "does not list exactly the steps"),
        (lambda e: e["ResourceProperties"].update(PipelineName="bad_name"), "property 'PipelineName' is 'bad_name'"),
        (lambda e: e["ResourceProperties"].update(MaxParallelExecutionSteps="many"), "'MaxParallelExecutionSteps' is 'many'"),
        (lambda e: e["ResourceProperties"].update(Tags="CostCenter"), "property 'Tags' must be a list"),
        (lambda e: e.pop("ResourceProperties"), "ResourceProperties is missing"),
    ],
)
def test_malformed_events_fail_with_a_clear_reason(sagemaker: Any, event_change: Any, message: str) -> None:
    event = _event("Create", _properties())
    event_change(event)
    log = CallLog(sagemaker)
    with pytest.raises(RuntimeError, match="malformed custom resource event") as caught:
        handler.respond(event=event, client=sagemaker)
    assert message in str(caught.value)
    assert log.operations == []


def _stubbed_client() -> tuple[Any, Stubber]:
    client = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    return client, Stubber(client)


def test_access_denied_reaches_cloudformation_with_the_pipeline_name() -> None:
    client, stub = _stubbed_client()
    stub.add_client_error("describe_pipeline", service_error_code="AccessDeniedException", service_message="User is not authorized to perform: sagemaker:DescribePipeline", http_status_code=400)
    with stub, pytest.raises(RuntimeError) as caught:
        handler.respond(event=_event("Create", _properties()), client=client)
    assert str(caught.value) == (
        "pipeline smp-sandbox-abalone: SageMaker DescribePipeline failed with AccessDeniedException: "
        "User is not authorized to perform: sagemaker:DescribePipeline"
    )


def test_validation_error_from_sagemaker_keeps_the_service_message() -> None:
    client, stub = _stubbed_client()
    stub.add_client_error("describe_pipeline", service_error_code="ResourceNotFound", service_message="Pipeline not found", http_status_code=400)
    stub.add_client_error("create_pipeline", service_error_code="ValidationException", service_message="Step Train references unknown step Prep", http_status_code=400)
    with stub, pytest.raises(RuntimeError, match="pipeline smp-sandbox-abalone: SageMaker CreatePipeline failed with ValidationException: Step Train references unknown step Prep"):
        handler.respond(event=_event("Create", _properties()), client=client)


def _http_reply(status: int, payload: dict) -> botocore.awsrequest.AWSResponse:
    body = json.dumps(payload).encode()
    return botocore.awsrequest.AWSResponse("https://api.sagemaker.eu-west-1.amazonaws.com/", status, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def test_throttling_and_5xx_are_retried_until_success(monkeypatch: pytest.MonkeyPatch) -> None:
    """Faults at the HTTP layer, so botocore's own retry configuration is what recovers.

    botocore calls every before-send handler, so this fake answers every request itself (no moto).
    """
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    client = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y", config=handler.CLIENT_CONFIG)
    arn = f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/smp-sandbox-abalone"
    replies = {
        "SageMaker.DescribePipeline": [_http_reply(400, {"__type": "ResourceNotFound", "message": "Pipeline does not exist"})],
        "SageMaker.CreatePipeline": [
            _http_reply(400, {"__type": "ThrottlingException", "message": "Rate exceeded"}),
            _http_reply(503, {"__type": "ServiceUnavailable", "message": "try again"}),
            _http_reply(200, {"PipelineArn": arn}),
        ],
    }
    sent: list[str] = []

    def answer(request: Any, **_: Any) -> Any:
        target = request.headers["X-Amz-Target"].decode()
        sent.append(target)
        return replies[target].pop(0)

    client.meta.events.register_first("before-send.sagemaker", answer)
    result = handler.respond(event=_event("Create", _properties()), client=client)
    assert result["Data"]["PipelineArn"] == arn
    assert sent == ["SageMaker.DescribePipeline"] + ["SageMaker.CreatePipeline"] * 3


def test_timeouts_give_up_after_bounded_attempts(sagemaker: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)
    attempts: list[int] = []

    def time_out(request: Any, **_: Any) -> Any:
        attempts.append(1)
        raise ReadTimeoutError(endpoint_url=request.url)

    sagemaker.meta.events.register_first("before-send.sagemaker.DescribePipeline", time_out)
    with pytest.raises(RuntimeError, match="pipeline smp-sandbox-abalone: could not reach SageMaker: Read timeout"):
        handler.respond(event=_event("Create", _properties()), client=sagemaker)
    assert len(attempts) == 6
    assert sum(slept) <= 5 * 20  # standard mode caps each backoff at 20 s
