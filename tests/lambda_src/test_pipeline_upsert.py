"""The pipeline upsert custom resource handler: lifecycle against moto, faults through botocore, and the
handler's copies of the compiler's canonical JSON and placeholder syntax against the project's own."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Iterator

import boto3
import botocore.awsrequest
import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber
from moto import mock_aws

from pipeline_defs.contract import canonical_json as project_canonical_json
from pipeline_defs.placeholders import find_names
from stacks.pipelines.definition_parts import split_definition
from support.lambdas import load_handler

handler = load_handler("pipeline_upsert")
definition = load_handler("pipeline_upsert", module="definition")

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
    """Records every API operation a client sends, and its parameters (through botocore's own event hooks)."""

    def __init__(self, client: Any) -> None:
        self.operations: list[str] = []
        self.params: list[tuple[str, dict]] = []
        client.meta.events.register("before-call.sagemaker", self._record)
        client.meta.events.register("provide-client-params.sagemaker", self._record_params)

    def _record(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)

    def _record_params(self, params: dict, model: Any, **_: Any) -> None:
        self.params.append((model.name, dict(params)))

    def tokens(self, operation: str) -> list[str]:
        return [params["ClientRequestToken"] for name, params in self.params if name == operation]

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


# Token values sent before the handler skeleton existed, for this test's StackId and RequestId: the same
# inputs must keep giving the same tokens, or a deploy retried across the upgrade would act twice.
CREATE_TOKEN = "a7e4d714aa798df937908e539e653663fdaf68104d6aca137af6a1e1c49c8524"
DELETE_TOKEN = "b052d54b7c1ea5d20e6a939f51d46ac9025d443da5dae06609535cac909720d7"
STOP_RUN1_TOKEN = "07ed93565c6d7b487cf92c62f2c91f41e6a8137023dabad88ab4f6f2bd3d3523"


def test_create_token_is_stable_per_request_and_differs_across_requests() -> None:
    client, stub = _stubbed_client()
    log = CallLog(client)
    arn = f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/smp-sandbox-abalone"
    for _ in range(3):
        stub.add_client_error("describe_pipeline", service_error_code="ResourceNotFound", service_message="Pipeline not found", http_status_code=400)
        stub.add_response("create_pipeline", {"PipelineArn": arn})
    with stub:
        handler.handle(event=_event("Create", _properties()), client=client)
        handler.handle(event=_event("Create", _properties()), client=client)  # CloudFormation's retry of the same request
        handler.handle(event=_event("Create", _properties(), request_id="77777777-0000-4b1c-9d8e-123456789abc"), client=client)
    first, retried, other_request = log.tokens("CreatePipeline")
    assert first == retried == CREATE_TOKEN and other_request != CREATE_TOKEN


def _stub_owned(stub: Stubber) -> None:
    """The ownership check before a delete: the pipeline exists and this stack's tag says it owns it."""
    arn = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/smp-sandbox-abalone"
    stub.add_response("describe_pipeline", {"PipelineArn": arn, "PipelineName": "smp-sandbox-abalone"}, {"PipelineName": "smp-sandbox-abalone"})
    stub.add_response("list_tags", {"Tags": [{"Key": "smp:managed-by", "Value": "smp-sandbox-pipelines"}]}, {"ResourceArn": arn})


def test_delete_sends_the_same_token_as_before() -> None:
    client = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stub:
        _stub_owned(stub)
        stub.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": []}, {"PipelineName": "smp-sandbox-abalone", "SortBy": "CreationTime", "SortOrder": "Descending"})
        stub.add_response("delete_pipeline", {"PipelineArn": "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/smp-sandbox-abalone"}, {"PipelineName": "smp-sandbox-abalone", "ClientRequestToken": DELETE_TOKEN})
        handler.handle(event=_event("Delete", _properties(), physical_id="smp-sandbox-abalone"), client=client)
        stub.assert_no_pending_responses()


def test_delete_stops_running_executions_and_waits_while_they_stop() -> None:
    client = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    running = f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/smp-sandbox-abalone/execution/run1"
    listing = {"PipelineName": "smp-sandbox-abalone", "SortBy": "CreationTime", "SortOrder": "Descending"}
    slept: list[float] = []
    with Stubber(client) as stub:
        _stub_owned(stub)
        stub.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": [{"PipelineExecutionArn": running, "PipelineExecutionStatus": "Executing"}, {"PipelineExecutionArn": running + "-old", "PipelineExecutionStatus": "Succeeded"}]}, listing)
        stub.add_response("stop_pipeline_execution", {"PipelineExecutionArn": running}, {"PipelineExecutionArn": running, "ClientRequestToken": STOP_RUN1_TOKEN})
        stub.add_client_error("delete_pipeline", service_error_code="ConflictException", service_message="Pipeline has running executions", http_status_code=400)
        stub.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": [{"PipelineExecutionArn": running, "PipelineExecutionStatus": "Stopping"}]}, listing)
        # The retried delete is the same request: the same token.
        stub.add_response("delete_pipeline", {"PipelineArn": "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/smp-sandbox-abalone"}, {"PipelineName": "smp-sandbox-abalone", "ClientRequestToken": DELETE_TOKEN})
        request = handler.parse_request(event=_event("Delete", _properties(), physical_id="smp-sandbox-abalone"))
        handler.delete(client=client, request=request, sleep=slept.append)
        stub.assert_no_pending_responses()
    assert slept == [handler.DELETE_RETRY_SECONDS]


def test_delete_gives_up_after_bounded_attempts() -> None:
    client = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stub:
        _stub_owned(stub)
        for _ in range(3):
            stub.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": []})
            stub.add_client_error("delete_pipeline", service_error_code="ConflictException", service_message="still stopping", http_status_code=400)
        with pytest.raises(Exception, match="ConflictException"):
            request = handler.parse_request(event=_event("Delete", _properties(), physical_id="smp-sandbox-abalone"))
            handler.delete(client=client, request=request, sleep=lambda s: None, attempts=3)


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
        (lambda e: e.update(RequestType="Replace"), "field 'RequestType' is 'Replace'; allowed: Create, Update or Delete"),
        (lambda e: e.pop("RequestType"), "field 'RequestType' is missing"),
        (lambda e: e.pop("ResourceProperties"), "field 'ResourceProperties' is missing"),
        (lambda e: e.update(ResourceProperties=["x"]), "field 'ResourceProperties' is a list ['x']"),
        (lambda e: e.pop("StackId"), "field 'StackId' is missing"),
        (lambda e: e["ResourceProperties"].pop("RoleArn"), "field 'ResourceProperties.RoleArn' is missing"),
        (lambda e: e["ResourceProperties"].update(RoleArn=["arn"]), "field 'ResourceProperties.RoleArn' is a list ['arn']"),
        (lambda e: e["ResourceProperties"].pop("PipelineName"), "field 'ResourceProperties.PipelineName' is missing"),
        (lambda e: e["ResourceProperties"].update(PipelineName="bad_name"), "field 'ResourceProperties.PipelineName' is 'bad_name'; allowed: a SageMaker pipeline name"),
        (lambda e: e["ResourceProperties"].update(PipelineName=5), "field 'ResourceProperties.PipelineName' is a number 5"),
        (lambda e: e["ResourceProperties"].update(Definition="{}"), "field 'ResourceProperties.Definition' is '{}'"),
        (lambda e: e["ResourceProperties"]["Definition"].pop("Steps"), "field 'ResourceProperties.Definition.Steps' is missing"),
        (lambda e: e["ResourceProperties"]["Definition"].update(Head="{not json"), "field 'ResourceProperties.Definition' is not JSON"),
        (lambda e: e["ResourceProperties"]["Definition"].update(Head="[]"), "field 'ResourceProperties.Definition.Head' is not a JSON object"),
        (lambda e: e["ResourceProperties"]["Definition"].update(StepOrder=["Train"]), "field 'ResourceProperties.Definition.StepOrder' is ['Train']"),
        (lambda e: e["ResourceProperties"]["Definition"].update(StepOrder=["Train", "Train"]), "allowed: each of the steps ['Preprocess', 'Train'] exactly once"),
        (lambda e: e["ResourceProperties"].update(MaxParallelExecutionSteps="many"), "field 'ResourceProperties.MaxParallelExecutionSteps' is 'many'"),
        (lambda e: e["ResourceProperties"].update(MaxParallelExecutionSteps="0"), "field 'ResourceProperties.MaxParallelExecutionSteps' is '0'; allowed: an integer (at least 1)"),
        (lambda e: e["ResourceProperties"].update(Tags="CostCenter"), "field 'ResourceProperties.Tags' is 'CostCenter'; allowed: a list of {Key, Value} objects"),
        (lambda e: e["ResourceProperties"].update(Tags=[{"Key": "CostCenter"}]), "field 'ResourceProperties.Tags[0]' is an object"),
        (lambda e: e["ResourceProperties"].update(RetainOnDelete="maybe"), "field 'ResourceProperties.RetainOnDelete' is 'maybe'; allowed: true or false"),
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


def test_event_that_is_not_an_object_fails_with_a_clear_reason(sagemaker: Any) -> None:
    with pytest.raises(RuntimeError, match=r"^pipeline \?: malformed custom resource event: field 'event' is a list"):
        handler.respond(event=["Create"], client=sagemaker)


def test_delete_after_a_create_that_failed_validation_touches_nothing(sagemaker: Any) -> None:
    """The properties of a Delete may be ones that never passed: the delete must still succeed."""
    rejected = _properties(name="bad_name", RetainOnDelete="maybe", Tags="CostCenter")
    with pytest.raises(RuntimeError, match="malformed"):
        handler.respond(event=_event("Create", rejected), client=sagemaker)
    log = CallLog(sagemaker)
    result = handler.respond(event=_event("Delete", rejected, physical_id="5d6f3a2e-0000-4b1c-9d8e-123456789abc"), client=sagemaker)
    assert result == {"PhysicalResourceId": "5d6f3a2e-0000-4b1c-9d8e-123456789abc"}
    assert log.operations == []


def test_definition_from_s3_gets_its_placeholders_filled(sagemaker: Any) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="assets", CreateBucketConfiguration={"LocationConstraint": REGION})
    document = json.loads(_definition())
    document["Parameters"][0]["DefaultValue"] = "s3://${ArtifactBucket}/in"
    s3.put_object(Bucket="assets", Key="big.json", Body=json.dumps(document, indent=2).encode())
    parts = {"S3Bucket": "assets", "S3Key": "big.json", "Substitutions": {"ArtifactBucket": "smp-sandbox-artifacts"}}
    handler.handle(event=_event("Create", _properties(Definition=parts)), client=sagemaker, s3_client=s3)
    document["Parameters"][0]["DefaultValue"] = "s3://smp-sandbox-artifacts/in"
    assert sagemaker.describe_pipeline(PipelineName="smp-sandbox-abalone")["PipelineDefinition"] == project_canonical_json(document)

    log = CallLog(sagemaker)
    unfilled = {**parts, "Substitutions": {}}
    with pytest.raises(handler.RequestError) as caught:
        handler.handle(event=_event("Create", _properties(name="smp-sandbox-other", Definition=unfilled)), client=sagemaker, s3_client=s3)
    assert str(caught.value) == (
        "field 'ResourceProperties.Definition.Substitutions' has no value for placeholders ['ArtifactBucket'] of the definition in S3; "
        "allowed: a value for every ${Name} the definition uses"
    )
    assert log.writes() == []


def test_log_lines_are_named_fields(sagemaker: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="pipeline_upsert"):
        handler.handle(event=_event("Create", _properties()), client=sagemaker)
    (record,) = [r for r in caplog.records if r.name == "pipeline_upsert"]
    assert record.getMessage() == "create"
    assert (record.action, record.pipeline, len(record.definitionSha256)) == ("create", "smp-sandbox-abalone", 64)


# The handler ships alone, with its own copies of the compiler's serialization and placeholder syntax.

TRICKY_VALUES = [
    {"b": 1, "a": {"d": [3, {"z": 0, "y": None}], "c": "é"}, "A": [], "_": {}},
    {"emoji": "🚀😀", "cjk": "模型", "escapes": "quote \" backslash \\ slash / tab \t newline \n", "control": "\u0001\u001f\u0000"},
    {"separators": "\u2028\u2029", "bom": "\ufeff", "lone_surrogate": "\ud800", "html": "</script>&<>"},
    {"floats": [0.1, 1.0, -0.0, 1e-7, 1e16, 1.5e300, 2.5, 100.0, 3.141592653589793, 1 / 3], "ints": [0, -1, 2**53 + 1, 10**30]},
    {"non_finite": [float("nan"), float("inf"), float("-inf")]},
    {"keys": {"B": 1, "a": 2, "_": 3, "é": 4, "10": 5, "9": 6, "": 7, "Z": {"y": {"x": [{"w": 1, "v": 2}]}}}},
    [True, False, None, "", [], {}, 0, "0"],
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ExecutionRoleName}",
    {"Std:Join": {"On": ",", "Values": [{"Get": "Parameters.X"}, "${ArtifactBucket}"]}},
]

PLACEHOLDER_TEXTS = [
    "${AWS::AccountId}",
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ExecutionRoleName}",
    "${A}${B}${A}",
    "${}",
    "${!Literal}",
    "${a b}",
    "${a-b.c_d}",
    "${ünï}",
    "$${x}",
    "${x",
    "${{x}}",
    "${x}}",
    "${a${b}}",
    "${multi\nline}",
    '{"Value":"${SubnetId0}","Other":"${SubnetId1}"}',
    "no placeholders, $x or {x}",
]


def _outcome(function: Callable[[Any], Any], value: Any) -> tuple[str, Any]:
    try:
        return "value", function(value)
    except Exception as error:  # both copies must refuse the same inputs, too
        return "error", type(error).__name__


@pytest.mark.parametrize("value", TRICKY_VALUES, ids=range(len(TRICKY_VALUES)))
def test_canonical_json_copy_behaves_as_the_projects(value: Any) -> None:
    assert _outcome(definition.canonical_json, value) == _outcome(project_canonical_json, value)
    assert handler.canonical_json is definition.canonical_json


@pytest.mark.parametrize("text", PLACEHOLDER_TEXTS)
def test_placeholder_syntax_copy_behaves_as_the_projects(text: str) -> None:
    assert definition.placeholder_names(text) == find_names(text)


def test_the_handler_fills_exactly_the_placeholders_the_compiler_sees() -> None:
    for text in [t for t in PLACEHOLDER_TEXTS if t != "${x"]:  # an unclosed ${ would run into the JSON around it
        source = json.dumps({"Value": text})
        names = find_names(source)
        filled = json.loads(definition.definition_from_object(substitutions={name: "filled" for name in names}, text=source))["Value"]
        assert find_names(filled) == [], text
