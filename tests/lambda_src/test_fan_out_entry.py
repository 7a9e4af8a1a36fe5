"""The fan-out step's entry point: the SageMaker client it makes (no botocore retries of its own), the
concurrency default from the function's environment, the deadline it leaves before the Lambda's
timeout, and pages without tags or parameters."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Iterator

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from support.lambdas import load_handler

fan_out = load_handler("fan_out")

REGION = "eu-west-1"
CHILD = "smp-sandbox-parallel-shards"
PARENT = "smp-sandbox-fan-out-parent"
PARENT_ARN = f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/{PARENT}"


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class Parent:
    """The moto client with the parent's execution running (moto completes executions at once), its
    starts slowed so concurrent calls overlap, and the most calls ever in flight at once."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._in_flight = 0
        self.peak = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def describe_pipeline_execution(self, **kwargs: Any) -> dict:
        return {**self._client.describe_pipeline_execution(**kwargs), "PipelineExecutionStatus": "Executing"}

    def start_pipeline_execution(self, **kwargs: Any) -> dict:
        with self._lock:
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
        try:
            time.sleep(0.05)
            return self._client.start_pipeline_execution(**kwargs)
        finally:
            with self._lock:
                self._in_flight -= 1


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    """The client ``on_event`` makes (wrapped as ``Parent``), the service and config it asked for, and the deadline it passed on."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("MAX_CONCURRENCY", raising=False)
    found: dict = {}
    with mock_aws():
        real = boto3.client("sagemaker", region_name=REGION)
        child = {"Version": "2020-12-01", "Parameters": [{"Name": "Shard", "Type": "String"}], "Steps": []}
        real.create_pipeline(PipelineName=CHILD, PipelineDefinition=json.dumps(child), RoleArn="arn:aws:iam::123456789012:role/smp-sandbox-child-exec", ClientRequestToken="c" * 40)
        real.create_pipeline(
            PipelineName=PARENT,
            PipelineDefinition=json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": []}),
            RoleArn="arn:aws:iam::123456789012:role/smp-sandbox-parent-exec",
            ClientRequestToken="p" * 40,
            Tags=[{"Key": fan_out.FAN_OUT_CHILDREN_TAG, "Value": CHILD}],
        )
        found["execution"] = real.start_pipeline_execution(PipelineName=PARENT, ClientRequestToken="q" * 40)["PipelineExecutionArn"].rsplit("/", 1)[1]

        real_client = boto3.client

        def client(service: str, *, config: Any) -> Any:
            found["service"], found["config"] = service, config
            found["client"] = Parent(real_client(service, region_name=REGION, config=config))
            return found["client"]

        real_fan_out = fan_out.fan_out

        def recording_fan_out(**kwargs: Any) -> Any:
            found["deadline"], found["called_at"] = kwargs["deadline"], time.monotonic()
            return real_fan_out(**kwargs)

        monkeypatch.setattr(fan_out.boto3, "client", client)
        monkeypatch.setattr(fan_out, "fan_out", recording_fan_out)
        yield found


def _event(made: dict, items: int, **extra: Any) -> dict:
    return {"child_pipeline": CHILD, "items_json": json.dumps([{"Shard": str(i)} for i in range(items)]), "parent_execution_id": made["execution"], "parent_pipeline": PARENT, **extra}


def test_the_client_is_sagemakers_with_one_attempt_per_call(made: dict) -> None:
    fan_out.on_event(_event(made, 1), None)
    config = made["client"].meta.config
    assert made["service"] == "sagemaker"
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert (config.connect_timeout, config.read_timeout, config.max_pool_connections) == (5, 20, 32)


@pytest.mark.parametrize(("remaining_ms", "budget"), [(600_000, 590.0), (5_000, 1.0), (None, 590.0)])
def test_the_deadline_leaves_ten_seconds_before_the_timeout_and_at_least_one(made: dict, remaining_ms: int | None, budget: float) -> None:
    before = time.monotonic()
    fan_out.on_event(_event(made, 1), None if remaining_ms is None else Context(remaining_ms))
    assert before + budget <= made["deadline"] <= made["called_at"] + budget


def test_the_concurrency_default_comes_from_the_functions_environment(made: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_CONCURRENCY", "2")
    outputs = fan_out.on_event(_event(made, 6), None)
    assert outputs["started_count"] == 6
    assert made["client"].peak == 2


def test_an_event_value_overrides_the_environments_concurrency(made: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_CONCURRENCY", "2")
    fan_out.on_event(_event(made, 3, max_concurrency="1"), None)
    assert made["client"].peak == 1


def _authorize(*, tags: dict, definition: dict, items: list[dict]) -> Exception | None:
    client = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    request = fan_out.parse_request(event={"child_pipeline": CHILD, "items_json": json.dumps(items), "parent_execution_id": "e1", "parent_pipeline": PARENT})
    with Stubber(client) as stub:
        stub.add_response("describe_pipeline", {"PipelineArn": PARENT_ARN}, {"PipelineName": PARENT})
        stub.add_response("describe_pipeline_execution", {"PipelineExecutionStatus": "Executing"}, {"PipelineExecutionArn": f"{PARENT_ARN}/execution/e1"})
        stub.add_response("list_tags", tags, {"ResourceArn": PARENT_ARN})
        if tags:
            stub.add_response("describe_pipeline", {"PipelineDefinition": json.dumps(definition)}, {"PipelineName": CHILD})
        try:
            fan_out.authorize(client=client, request=request)
        except fan_out.RefusedChild as error:
            return error
    return None


def test_a_tag_page_without_tags_allows_no_child() -> None:
    error = _authorize(tags={}, definition={}, items=[{}])
    assert str(error) == f"pipeline {PARENT} may start only no child pipeline (its CHILD_PIPELINES), not {CHILD}"


def test_a_child_without_parameters_takes_only_empty_items() -> None:
    tags = {"Tags": [{"Key": fan_out.FAN_OUT_CHILDREN_TAG, "Value": f"smp-sandbox-other {CHILD}"}]}
    assert _authorize(tags=tags, definition={"Version": "2020-12-01", "Steps": []}, items=[{}, {}]) is None
    error = _authorize(tags=tags, definition={"Version": "2020-12-01", "Steps": []}, items=[{}, {"Shard": "a"}])
    assert str(error) == f"items_json[1] sets ['Shard'], which {CHILD} does not declare; declared: []"
