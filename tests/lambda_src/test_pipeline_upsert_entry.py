"""The upsert function's Lambda entry point: the first log line, the SageMaker client it makes (its
retry bound and user agent), and a malformed event turned into a reason."""

from __future__ import annotations

import json
import logging
from typing import Any, Iterator

import boto3
import pytest
from moto import mock_aws

from stacks.pipelines.definition_parts import split_definition
from support.lambdas import load_handler

handler = load_handler("pipeline_upsert")

REGION = "eu-west-1"
NAME = "smp-sandbox-entry"
DEFINITION = json.dumps({"Version": "2020-12-01", "Metadata": {}, "Parameters": [], "Steps": [{"Name": "Wait", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}]})


def _event(**overrides: Any) -> dict:
    event = {
        "RequestType": "Create",
        "StackId": f"arn:aws:cloudformation:{REGION}:123456789012:stack/smp-sandbox-pipeline-entry/1",
        "RequestId": "req-1",
        "LogicalResourceId": "Pipeline",
        "ResourceType": "Custom::SageMakerPipeline",
        "ResourceProperties": {"PipelineName": NAME, "RoleArn": "arn:aws:iam::123456789012:role/smp-sandbox-entry-exec", "Definition": split_definition(definition=DEFINITION)},
    }
    event.update(overrides)
    return event


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[list]:
    """Every client the handler makes, real ones against moto."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    made: list = []
    real_client = boto3.client

    def recording_client(service: str, **kwargs: Any) -> Any:
        client = real_client(service, **kwargs)
        made.append((service, client))
        return client

    with mock_aws():
        monkeypatch.setattr(handler.boto3, "client", recording_client)
        yield made


def _records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "pipeline_upsert"]


def test_on_event_logs_the_request_type_and_creates_with_a_bounded_retrying_sagemaker_client(clients: list, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="pipeline_upsert"):
        result = handler.on_event(_event(), None)
    assert result["PhysicalResourceId"] == NAME
    first = _records(caplog)[0]
    assert (first.getMessage(), first.action, first.requestType) == ("event", "event", "Create")
    [(service, client)] = clients
    assert service == "sagemaker"
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 6}
    assert "smp-pipeline-upsert" in client.meta.config.user_agent_extra
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (5, 30)
    assert client.describe_pipeline(PipelineName=NAME)["PipelineName"] == NAME


def test_an_event_that_is_no_object_is_logged_without_a_type_and_fails_with_a_reason(clients: list, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="pipeline_upsert"), pytest.raises(RuntimeError) as caught:
        handler.on_event(["Create"], None)
    assert str(caught.value) == "pipeline ?: malformed custom resource event: field 'event' is a list ['Create']; allowed: a JSON object"
    first = _records(caplog)[0]
    assert (first.action, first.requestType) == ("event", None)

