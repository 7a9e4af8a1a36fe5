"""The upsert function's Lambda entry point: the first log line, the SageMaker client it makes (its
retry bound and user agent), and a malformed event turned into a reason."""

from __future__ import annotations

import io
import json
import logging
import zipfile
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



def test_definitions_and_job_files_in_s3_are_read_and_written_with_a_bounded_retrying_s3_client(clients: list, caplog: pytest.LogCaptureFixture) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in ("cdk-assets", "smp-sandbox-artifacts"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="cdk-assets", Key="definition.json", Body=DEFINITION.replace('"x"', '"${Reason}"').encode())
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as files:
        files.writestr(f"{NAME}/code/run.py", "print(1)")
    s3.put_object(Bucket="cdk-assets", Key="jobs.zip", Body=archive.getvalue())
    clients.clear()
    properties = {
        **_event()["ResourceProperties"],
        "Definition": {"S3Bucket": "cdk-assets", "S3Key": "definition.json", "Substitutions": {"Reason": "stop"}},
        "JobFiles": {"S3Bucket": "cdk-assets", "S3Key": "jobs.zip", "Bucket": "smp-sandbox-artifacts"},
    }
    with caplog.at_level(logging.INFO, logger="pipeline_upsert"):
        handler.on_event(_event(ResourceProperties=properties), None)
    assert [service for service, _ in clients] == ["sagemaker", "s3", "s3"]  # one reads the definition, one deploys the files
    for _, client in clients[1:]:
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 6} and "smp-pipeline-upsert" in client.meta.config.user_agent_extra
    assert s3.get_object(Bucket="smp-sandbox-artifacts", Key=f"{NAME}/code/run.py")["Body"].read() == b"print(1)"
    described = json.loads(clients[0][1].describe_pipeline(PipelineName=NAME)["PipelineDefinition"])
    assert described["Steps"][0]["Arguments"] == {"ErrorMessage": "stop"}
    record = [r for r in _records(caplog) if r.action == "job-files"][0]
    assert (record.getMessage(), record.pipeline, record.files) == ("job-files", NAME, 1)
