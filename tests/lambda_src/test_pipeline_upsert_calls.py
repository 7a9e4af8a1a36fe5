"""The exact SageMaker calls the upsert function sends (botocore's Stubber fails on any other call or
parameter): which settings count as changed, what a handover retags, what a delete stops, each way
a Delete ends without deleting (no call at all where it must not touch SageMaker), and what each
action logs."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from stacks.pipelines.definition_parts import split_definition
from support.lambdas import load_handler

handler = load_handler("pipeline_upsert")

REGION = "eu-west-1"
STACK = "smp-sandbox-pipeline-abalone"
STACK_ID = f"arn:aws:cloudformation:{REGION}:123456789012:stack/{STACK}/1"
NAME = "smp-sandbox-abalone"
ARN = f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/{NAME}"
ROLE = "arn:aws:iam::123456789012:role/smp-sandbox-abalone-exec"
DEFINITION = {"Version": "2020-12-01", "Metadata": {}, "Parameters": [], "Steps": [{"Name": "Wait", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}]}
CANONICAL = json.dumps(DEFINITION, sort_keys=True, separators=(",", ":"))


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _update_event(**properties: Any) -> dict:
    settings = {"PipelineName": NAME, "RoleArn": ROLE, "Definition": split_definition(definition=json.dumps(DEFINITION)), "Tags": [{"Key": "Team", "Value": "ml"}], **properties}
    return {"RequestType": "Update", "StackId": STACK_ID, "RequestId": "req-1", "PhysicalResourceId": NAME, "ResourceType": "Custom::SageMakerPipeline", "ResourceProperties": settings}


def _live(**fields: Any) -> dict:
    """DescribePipeline of the pipeline as the spec above wants it, with ``fields`` changed (None removes one)."""
    live = {"PipelineArn": ARN, "PipelineName": NAME, "PipelineDefinition": json.dumps(DEFINITION, indent=2), "RoleArn": ROLE}
    live.update(fields)
    return {key: value for key, value in live.items() if value is not None}


def _expect_tags_in_place(stubber: Stubber) -> None:
    stubber.add_response("list_tags", {"Tags": [{"Key": "Team", "Value": "ml"}, {"Key": "smp:managed-by", "Value": STACK}]}, {"ResourceArn": ARN})


def _last(caplog: pytest.LogCaptureFixture, action: str) -> logging.LogRecord:
    return [record for record in caplog.records if record.name == "pipeline_upsert" and record.action == action][-1]


def test_a_pipeline_that_matches_is_left_alone(stubbed: tuple, caplog: pytest.LogCaptureFixture) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_pipeline", _live(), {"PipelineName": NAME})
    _expect_tags_in_place(stubber)
    with caplog.at_level(logging.INFO, logger="pipeline_upsert"):
        result = handler.handle(event=_update_event(), client=client)
    assert result == {"PhysicalResourceId": NAME, "Data": {"PipelineArn": ARN, "PipelineName": NAME, "DefinitionSha256": hashlib.sha256(CANONICAL.encode()).hexdigest()}}
    record = _last(caplog, "unchanged")
    assert (record.pipeline, record.changed) == (NAME, [])


def test_a_display_name_equal_to_the_wanted_one_is_no_change(stubbed: tuple, caplog: pytest.LogCaptureFixture) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_pipeline", _live(PipelineDisplayName="Abalone", PipelineDescription="d"), {"PipelineName": NAME})
    _expect_tags_in_place(stubber)
    with caplog.at_level(logging.INFO, logger="pipeline_upsert"):
        handler.handle(event=_update_event(DisplayName="Abalone", Description="d"), client=client)
    assert _last(caplog, "unchanged").changed == []


@pytest.mark.parametrize(
    ("live", "properties", "changed"),
    [
        ({"PipelineDefinition": json.dumps({**DEFINITION, "Parameters": [{"Name": "P", "Type": "String"}]})}, {}, ["definition"]),
        ({"PipelineDefinition": None}, {}, ["definition"]),
        ({"PipelineDefinition": "{not json"}, {}, ["definition"]),
        ({"RoleArn": "arn:aws:iam::123456789012:role/other"}, {}, ["role"]),
        ({"PipelineDescription": "old"}, {}, ["description"]),
        ({}, {"Description": "new"}, ["description"]),
        ({"PipelineDisplayName": "Old"}, {}, ["display name"]),
        ({}, {"DisplayName": "Abalone"}, ["display name"]),
        ({"ParallelismConfiguration": {"MaxParallelExecutionSteps": 2}}, {}, ["parallelism"]),
        ({}, {"MaxParallelExecutionSteps": 4}, ["parallelism"]),
        (
            {"PipelineDefinition": "{}", "RoleArn": "arn:aws:iam::123456789012:role/other", "PipelineDescription": "old", "PipelineDisplayName": "Old", "ParallelismConfiguration": {"MaxParallelExecutionSteps": 2}},
            {},
            ["definition", "role", "description", "display name", "parallelism"],
        ),
    ],
)
def test_each_setting_that_differs_is_named_and_written(stubbed: tuple, caplog: pytest.LogCaptureFixture, live: dict, properties: dict, changed: list[str]) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_pipeline", _live(**live), {"PipelineName": NAME})
    wanted = {"PipelineName": NAME, "PipelineDisplayName": properties.get("DisplayName", NAME), "PipelineDefinition": CANONICAL, "RoleArn": ROLE}
    if "Description" in properties:
        wanted["PipelineDescription"] = properties["Description"]
    if "MaxParallelExecutionSteps" in properties:
        wanted["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": properties["MaxParallelExecutionSteps"]}
    stubber.add_response("update_pipeline", {"PipelineArn": ARN, "PipelineVersionId": 7}, wanted)
    _expect_tags_in_place(stubber)
    with caplog.at_level(logging.INFO, logger="pipeline_upsert"):
        result = handler.handle(event=_update_event(**properties), client=client)
    assert result["Data"]["PipelineVersionId"] == "7"
    record = _last(caplog, "update")
    assert (record.pipeline, record.changed) == (NAME, changed)


def test_tags_are_brought_to_the_wanted_set_leaving_aws_tags(stubbed: tuple) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_pipeline", _live(), {"PipelineName": NAME})
    live_tags = [{"Key": "Team", "Value": "data"}, {"Key": "Old", "Value": "x"}, {"Key": "aws:cloudformation:stack-name", "Value": STACK}, {"Key": "smp:managed-by", "Value": STACK}]
    stubber.add_response("list_tags", {"Tags": live_tags[:2], "NextToken": "page-2"}, {"ResourceArn": ARN})
    stubber.add_response("list_tags", {"Tags": live_tags[2:]}, {"ResourceArn": ARN, "NextToken": "page-2"})
    stubber.add_response("delete_tags", {}, {"ResourceArn": ARN, "TagKeys": ["Old"]})
    stubber.add_response("add_tags", {"Tags": []}, {"ResourceArn": ARN, "Tags": [{"Key": "Team", "Value": "ml"}]})
    handler.handle(event=_update_event(), client=client)


def _handover_event() -> dict:
    return {
        "RequestType": "Create",
        "StackId": f"arn:aws:cloudformation:{REGION}:123456789012:stack/smp-sandbox-pipelines/1",
        "RequestId": "req-h",
        "ResourceType": "Custom::SageMakerPipelineHandover",
        "ResourceProperties": {"PipelineNamePrefix": "smp-sandbox-", "ResourcePrefix": "smp-sandbox"},
    }


def _summary(name: str) -> dict:
    return {"PipelineName": name, "PipelineArn": f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/{name}"}


def test_a_handover_retags_each_owned_pipeline_to_its_own_stack_and_logs_the_move(stubbed: tuple, caplog: pytest.LogCaptureFixture) -> None:
    client, stubber = stubbed
    owned, foreign, untagged = _summary("smp-sandbox-abalone"), _summary("smp-sandbox-other"), _summary("smp-sandbox-loose")
    stubber.add_response("list_pipelines", {"PipelineSummaries": [owned, foreign], "NextToken": "n"}, {"PipelineNamePrefix": "smp-sandbox-"})
    stubber.add_response("list_tags", {"Tags": [{"Key": "smp:managed-by", "Value": "smp-sandbox-pipelines"}, {"Key": "Pipeline", "Value": "abalone"}]}, {"ResourceArn": owned["PipelineArn"]})
    stubber.add_response("add_tags", {"Tags": []}, {"ResourceArn": owned["PipelineArn"], "Tags": [{"Key": "smp:managed-by", "Value": "smp-sandbox-pipeline-abalone"}]})
    stubber.add_response("list_tags", {"Tags": [{"Key": "smp:managed-by", "Value": "smp-sandbox-elsewhere"}, {"Key": "Pipeline", "Value": "other"}]}, {"ResourceArn": foreign["PipelineArn"]})
    stubber.add_response("list_pipelines", {"PipelineSummaries": [untagged]}, {"PipelineNamePrefix": "smp-sandbox-", "NextToken": "n"})
    stubber.add_response("list_tags", {"Tags": [{"Key": "smp:managed-by", "Value": "smp-sandbox-pipelines"}]}, {"ResourceArn": untagged["PipelineArn"]})
    with caplog.at_level(logging.INFO, logger="pipeline_upsert"):
        result = handler.handle(event=_handover_event(), client=client)
    assert result == {"PhysicalResourceId": "smp-sandbox-pipelines-handover", "Data": {"HandedOver": "1"}}
    record = _last(caplog, "hand-over")
    assert (record.getMessage(), record.pipeline, record.fromStack, record.toStack) == ("hand-over", "smp-sandbox-abalone", "smp-sandbox-pipelines", "smp-sandbox-pipeline-abalone")


def test_a_handover_page_without_summaries_moves_nothing(stubbed: tuple) -> None:
    client, stubber = stubbed
    stubber.add_response("list_pipelines", {}, {"PipelineNamePrefix": "smp-sandbox-"})
    assert handler.handle(event=_handover_event(), client=client)["Data"] == {"HandedOver": "0"}


def _delete_event() -> dict:
    return {
        "RequestType": "Delete",
        "StackId": STACK_ID,
        "RequestId": "req-d",
        "PhysicalResourceId": NAME,
        "ResourceType": "Custom::SageMakerPipeline",
        "ResourceProperties": {"PipelineName": NAME},
    }


def test_a_delete_stops_only_running_executions_with_their_own_tokens_then_deletes(stubbed: tuple, caplog: pytest.LogCaptureFixture) -> None:
    client, stubber = stubbed
    running, done = f"{ARN}/execution/run1", f"{ARN}/execution/old1"
    stubber.add_response("describe_pipeline", _live(), {"PipelineName": NAME})
    _expect_tags_in_place(stubber)
    listing = {"PipelineName": NAME, "SortBy": "CreationTime", "SortOrder": "Descending"}
    stubber.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": [{"PipelineExecutionArn": running, "PipelineExecutionStatus": "Executing"}], "NextToken": "n"}, listing)
    stop_token = handler.idempotency_token(stack_id=STACK_ID, request_id="req-d", purpose=f"stop/{running}")
    stubber.add_response("stop_pipeline_execution", {"PipelineExecutionArn": running}, {"PipelineExecutionArn": running, "ClientRequestToken": stop_token})
    stubber.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": [{"PipelineExecutionArn": done, "PipelineExecutionStatus": "Succeeded"}]}, {**listing, "NextToken": "n"})
    delete_token = handler.idempotency_token(stack_id=STACK_ID, request_id="req-d", purpose="delete")
    stubber.add_response("delete_pipeline", {"PipelineArn": ARN}, {"PipelineName": NAME, "ClientRequestToken": delete_token})
    with caplog.at_level(logging.INFO, logger="pipeline_upsert"):
        assert handler.handle(event=_delete_event(), client=client) == {"PhysicalResourceId": NAME}
    record = _last(caplog, "delete")
    assert (record.pipeline, record.stoppedExecutions) == (NAME, [running])


def test_a_delete_with_an_empty_execution_page_deletes_at_once(stubbed: tuple) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_pipeline", _live(), {"PipelineName": NAME})
    _expect_tags_in_place(stubber)
    stubber.add_response("list_pipeline_executions", {}, {"PipelineName": NAME, "SortBy": "CreationTime", "SortOrder": "Descending"})
    delete_token = handler.idempotency_token(stack_id=STACK_ID, request_id="req-d", purpose="delete")
    stubber.add_response("delete_pipeline", {"PipelineArn": ARN}, {"PipelineName": NAME, "ClientRequestToken": delete_token})
    assert handler.handle(event=_delete_event(), client=client) == {"PhysicalResourceId": NAME}


def _delete(client: Any, caplog: pytest.LogCaptureFixture, *, physical_id: str = NAME, **properties: Any) -> tuple[dict, logging.LogRecord]:
    event = {"RequestType": "Delete", "StackId": STACK_ID, "RequestId": "req-d", "PhysicalResourceId": physical_id, "ResourceProperties": {"PipelineName": NAME, **properties}}
    with caplog.at_level(logging.INFO, logger="pipeline_upsert"):
        result = handler.handle(event=event, client=client)
    return result, [record for record in caplog.records if record.name == "pipeline_upsert"][-1]


@pytest.mark.parametrize("physical_id", ["smp-sandbox-other", "SmpSandboxAbalone-1A2B3C", ""])
def test_a_physical_id_that_is_not_this_pipeline_is_left_alone_without_a_call(stubbed: tuple, caplog: pytest.LogCaptureFixture, physical_id: str) -> None:
    client, _ = stubbed
    result, record = _delete(client, caplog, physical_id=physical_id)
    assert result == {"PhysicalResourceId": physical_id}
    assert (record.getMessage(), record.physicalId, record.why) == ("skip-delete", physical_id, "not a pipeline this resource created")


def test_an_invalid_name_is_never_sent_to_sagemaker(stubbed: tuple, caplog: pytest.LogCaptureFixture) -> None:
    client, _ = stubbed
    event = {"RequestType": "Delete", "StackId": STACK_ID, "RequestId": "req-d", "PhysicalResourceId": "bad_name", "ResourceProperties": {"PipelineName": "bad_name"}}
    with caplog.at_level(logging.INFO, logger="pipeline_upsert"):
        assert handler.handle(event=event, client=client) == {"PhysicalResourceId": "bad_name"}
    assert caplog.records[-1].action == "skip-delete"


def test_a_retained_pipeline_is_left_without_a_call(stubbed: tuple, caplog: pytest.LogCaptureFixture) -> None:
    client, _ = stubbed
    result, record = _delete(client, caplog, RetainOnDelete="true")
    assert result == {"PhysicalResourceId": NAME}
    assert (record.getMessage(), record.pipeline) == ("retain", NAME)


def test_a_pipeline_already_gone_is_success(stubbed: tuple, caplog: pytest.LogCaptureFixture) -> None:
    client, stubber = stubbed
    stubber.add_client_error("describe_pipeline", service_error_code="ResourceNotFound", service_message="Pipeline does not exist", http_status_code=400, expected_params={"PipelineName": NAME})
    result, record = _delete(client, caplog)
    assert result == {"PhysicalResourceId": NAME}
    assert (record.getMessage(), record.pipeline) == ("already-deleted", NAME)


def test_a_pipeline_deleted_meanwhile_is_success(stubbed: tuple, caplog: pytest.LogCaptureFixture) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_pipeline", {"PipelineArn": ARN}, {"PipelineName": NAME})
    stubber.add_response("list_tags", {"Tags": []}, {"ResourceArn": ARN})
    stubber.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": []}, {"PipelineName": NAME, "SortBy": "CreationTime", "SortOrder": "Descending"})
    token = handler.idempotency_token(stack_id=STACK_ID, request_id="req-d", purpose="delete")
    stubber.add_client_error("delete_pipeline", service_error_code="ResourceNotFound", http_status_code=400, expected_params={"PipelineName": NAME, "ClientRequestToken": token})
    result, record = _delete(client, caplog)
    assert result == {"PhysicalResourceId": NAME}
    assert (record.getMessage(), record.pipeline) == ("already-deleted", NAME)


def test_a_pipeline_another_stack_manages_is_left_with_its_history(stubbed: tuple, caplog: pytest.LogCaptureFixture) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_pipeline", {"PipelineArn": ARN}, {"PipelineName": NAME})
    stubber.add_response("list_tags", {"Tags": [{"Key": "smp:managed-by", "Value": "smp-sandbox-pipelines"}]}, {"ResourceArn": ARN})
    result, record = _delete(client, caplog)
    assert result == {"PhysicalResourceId": NAME}
    assert (record.getMessage(), record.pipeline, record.why, record.owner) == ("skip-delete", NAME, "managed by another stack", "smp-sandbox-pipelines")


@pytest.mark.parametrize(
    ("code", "message"),
    [("ResourceNotFound", "Pipeline smp-sandbox-abalone not found"), ("ValidationException", "Pipeline smp-sandbox-abalone does not exist"), ("ValidationException", "Could not find pipeline")],
)
def test_a_pipeline_reported_missing_is_taken_as_gone(stubbed: tuple, caplog: pytest.LogCaptureFixture, code: str, message: str) -> None:
    client, stubber = stubbed
    stubber.add_client_error("describe_pipeline", service_error_code=code, service_message=message, http_status_code=400, expected_params={"PipelineName": NAME})
    result, record = _delete(client, caplog)
    assert (result, record.action) == ({"PhysicalResourceId": NAME}, "already-deleted")


@pytest.mark.parametrize(
    ("code", "message"),
    [("ValidationException", "Invalid pipeline name"), ("ValidationException", ""), ("AccessDeniedException", "Pipeline does not exist or you may not see it")],
)
def test_any_other_error_is_raised(stubbed: tuple, caplog: pytest.LogCaptureFixture, code: str, message: str) -> None:
    client, stubber = stubbed
    stubber.add_client_error("describe_pipeline", service_error_code=code, service_message=message, http_status_code=400, expected_params={"PipelineName": NAME})
    with pytest.raises(ClientError) as caught:
        _delete(client, caplog)
    assert caught.value.response["Error"]["Code"] == code


def _create_event(**properties: Any) -> dict:
    event = {**_update_event(**properties), "RequestType": "Create"}
    del event["PhysicalResourceId"]
    return event


def test_an_existing_pipeline_nobody_manages_is_refused_naming_the_tag(stubbed: tuple) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_pipeline", _live(), {"PipelineName": NAME})
    stubber.add_response("list_tags", {"Tags": []}, {"ResourceArn": ARN})
    with pytest.raises(RuntimeError) as caught:
        handler.handle(event=_create_event(), client=client)
    assert str(caught.value) == f"pipeline {NAME} already exists and is managed by nobody (no smp:managed-by tag), not {STACK}: refusing to take it over"


def test_a_pipeline_handed_over_is_adopted_retagged_and_logged(stubbed: tuple, caplog: pytest.LogCaptureFixture) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_pipeline", _live(), {"PipelineName": NAME})
    stubber.add_response("list_tags", {"Tags": [{"Key": "smp:managed-by", "Value": "smp-sandbox-pipelines"}]}, {"ResourceArn": ARN})
    stubber.add_response("list_tags", {"Tags": [{"Key": "smp:managed-by", "Value": "smp-sandbox-pipelines"}]}, {"ResourceArn": ARN})
    stubber.add_response("add_tags", {"Tags": []}, {"ResourceArn": ARN, "Tags": [{"Key": "Team", "Value": "ml"}, {"Key": "smp:managed-by", "Value": STACK}]})
    with caplog.at_level(logging.INFO, logger="pipeline_upsert"):
        assert handler.handle(event=_create_event(AdoptFrom=["smp-sandbox-pipelines"]), client=client)["PhysicalResourceId"] == NAME
    record = _last(caplog, "adopt")
    assert (record.getMessage(), record.pipeline, record.previousOwner) == ("adopt", NAME, "smp-sandbox-pipelines")


def test_a_create_always_checks_who_manages_an_existing_pipeline_whatever_physical_id_it_carries(stubbed: tuple) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_pipeline", _live(), {"PipelineName": NAME})
    stubber.add_response("list_tags", {"Tags": [{"Key": "smp:managed-by", "Value": "smp-sandbox-someone-else"}]}, {"ResourceArn": ARN})
    with pytest.raises(RuntimeError, match=f"managed by smp-sandbox-someone-else, not {STACK}: refusing to take it over"):
        handler.handle(event={**_create_event(), "PhysicalResourceId": NAME}, client=client)


@pytest.mark.parametrize(("physical", "answered"), [({"PhysicalResourceId": "smp-sandbox-pipelines-handover"}, "smp-sandbox-pipelines-handover"), ({}, "")])
def test_deleting_the_handover_resource_calls_nothing_and_keeps_its_id(stubbed: tuple, physical: dict, answered: str) -> None:
    client, _ = stubbed
    event = {**_handover_event(), "RequestType": "Delete", **physical}
    assert handler.handle(event=event, client=client) == {"PhysicalResourceId": answered}


def test_an_update_of_a_pipeline_deleted_outside_the_stack_creates_it_again(stubbed: tuple) -> None:
    client, stubber = stubbed
    stubber.add_client_error("describe_pipeline", service_error_code="ResourceNotFound", http_status_code=400, expected_params={"PipelineName": NAME})
    stubber.add_client_error("describe_pipeline", service_error_code="ResourceNotFound", http_status_code=400, expected_params={"PipelineName": NAME})
    token = handler.idempotency_token(stack_id=STACK_ID, request_id="req-1", purpose="create")
    created = {
        "PipelineName": NAME,
        "PipelineDisplayName": NAME,
        "PipelineDefinition": CANONICAL,
        "RoleArn": ROLE,
        "ClientRequestToken": token,
        "Tags": [{"Key": "Team", "Value": "ml"}, {"Key": "smp:managed-by", "Value": STACK}],
    }
    stubber.add_response("create_pipeline", {"PipelineArn": ARN}, created)
    assert handler.handle(event=_update_event(), client=client)["Data"]["PipelineArn"] == ARN
