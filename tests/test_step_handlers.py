"""Lambda step handlers: data passing (typed outputs, JSON string) and fan-out to child pipelines."""

from __future__ import annotations

import json
from typing import Any, Iterator

import boto3
import pytest
from moto import mock_aws

from support.faults import Throttler
from support.lambdas import load_handler

data_passing = load_handler("data_passing")
fan_out = load_handler("fan_out")

REGION = "eu-west-1"
CHILD = "smp-sandbox-parallel-shards"


def test_data_passing_outputs_have_their_declared_types() -> None:
    outputs = data_passing.on_event({"dataset_uri": "s3://bucket/datasets/abalone/", "requested_samples": "5000"}, None)
    assert outputs["sample_count"] == 5000 and isinstance(outputs["sample_count"], int)
    assert outputs["use_gpu"] is False
    assert outputs["learning_rate"] == 0.1
    assert outputs["run_label"] == "abalone-5000"
    assert json.loads(outputs["settings_json"])["max_depth"] == 5


@pytest.mark.parametrize(
    ("event", "message"),
    [({"requested_samples": 1}, "dataset_uri"), ({"dataset_uri": "s3://b/k", "requested_samples": "many"}, "integer requested_samples"), ({"dataset_uri": "/local", "requested_samples": 1}, "s3:// URI")],
)
def test_data_passing_rejects_bad_inputs(event: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        data_passing.on_event(event, None)


@pytest.fixture
def sagemaker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("sagemaker", region_name=REGION, config=fan_out.CLIENT_CONFIG)
        client.create_pipeline(
            PipelineName=CHILD,
            PipelineDefinition=json.dumps({"Version": "2020-12-01", "Parameters": [{"Name": "Shard", "Type": "String"}], "Steps": []}),
            RoleArn="arn:aws:iam::123456789012:role/smp-sandbox-sagemaker-execution",
            ClientRequestToken="c" * 40,
        )
        yield client


def _executions(client: Any) -> list[dict]:
    found, kwargs = [], {"PipelineName": CHILD, "MaxResults": 100}
    while True:
        page = client.list_pipeline_executions(**kwargs)
        found += page["PipelineExecutionSummaries"]
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]


def _event(items: list, **extra: Any) -> dict:
    return {"child_pipeline": CHILD, "items_json": json.dumps(items), "parent_execution_id": "exec-parent-1", **extra}


def test_fan_out_starts_one_execution_per_item_with_its_parameters(sagemaker: Any) -> None:
    items = [{"Shard": f"part-{i}"} for i in range(5)]
    request = fan_out.parse_request(event=_event(items, max_concurrency="3"))
    started = fan_out.fan_out(client=sagemaker, request=request, deadline=float("inf"))
    outputs = fan_out.step_outputs(started=started)
    arns = json.loads(outputs["started_executions"])
    assert outputs["started_count"] == 5 and len(set(arns)) == 5
    executions = _executions(sagemaker)
    assert sorted(e["PipelineExecutionDisplayName"] for e in executions) == [f"{CHILD}-item-{i}" for i in range(5)]
    for index, arn in enumerate(arns):
        parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)["PipelineParameters"]
        assert parameters == [{"Name": "Shard", "Value": f"part-{index}"}]


def test_tokens_make_a_retried_invocation_start_nothing_new() -> None:
    request = fan_out.parse_request(event=_event([{"Shard": "a"}, {"Shard": "b"}]))
    first = [fan_out.request_token(parent_execution_id=request.parent_execution_id, child_pipeline=CHILD, index=i, item=request.items[i]) for i in range(2)]
    again = [fan_out.request_token(parent_execution_id="exec-parent-1", child_pipeline=CHILD, index=i, item=dict(request.items[i])) for i in range(2)]
    other_parent = fan_out.request_token(parent_execution_id="exec-parent-2", child_pipeline=CHILD, index=0, item=request.items[0])
    assert first == again and len(set(first)) == 2 and other_parent not in first
    assert all(32 <= len(token) <= 128 for token in first)


def test_display_names_stay_within_the_limit() -> None:
    long_child = "c" + "-x" * 60
    name = fan_out.display_name(child_pipeline=long_child, index=1234)
    assert len(name) <= 82 and name.endswith("-item-1234") and "--" not in name.replace("-item-", "")


def test_throttled_starts_are_retried_and_each_item_starts_once(sagemaker: Any) -> None:
    throttler = Throttler(sagemaker, operation="StartPipelineExecution", rate=0.3)
    items = [{"Shard": f"part-{i}"} for i in range(40)]
    sleeps: list[float] = []
    started = fan_out.fan_out(client=sagemaker, request=fan_out.parse_request(event=_event(items)), deadline=float("inf"), sleep=sleeps.append)
    assert throttler.throttled > 0 and len(sleeps) == throttler.throttled
    assert sorted(s.index for s in started) == list(range(40))
    parameters = sorted(
        sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=e["PipelineExecutionArn"])["PipelineParameters"][0]["Value"]
        for e in _executions(sagemaker)
    )
    assert parameters == sorted(f"part-{i}" for i in range(40))


def test_gives_up_when_the_deadline_comes_before_the_next_attempt(sagemaker: Any) -> None:
    Throttler(sagemaker, operation="StartPipelineExecution", rate=1.0)
    request = fan_out.parse_request(event=_event([{"Shard": "a"}]))
    with pytest.raises(Exception, match="ThrottlingException"):
        fan_out.fan_out(client=sagemaker, request=request, deadline=0.0, sleep=lambda s: None)


def test_errors_that_retrying_cannot_fix_are_raised_at_once(sagemaker: Any) -> None:
    request = fan_out.parse_request(event={**_event([{"Shard": "a"}]), "child_pipeline": "smp-sandbox-missing"})
    calls: list[float] = []
    with pytest.raises(Exception, match="missing"):
        fan_out.fan_out(client=sagemaker, request=request, deadline=float("inf"), sleep=calls.append)
    assert calls == []


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"items_json": "[]", "parent_execution_id": "p"}, "'child_pipeline' is None"),
        ({"child_pipeline": CHILD, "items_json": "{not json", "parent_execution_id": "p"}, "'items_json' is not JSON"),
        ({"child_pipeline": CHILD, "items_json": '{"a": 1}', "parent_execution_id": "p"}, "must be a JSON list"),
        ({"child_pipeline": CHILD, "items_json": '["x"]', "parent_execution_id": "p"}, "item 0 of 'items_json'"),
        ({"child_pipeline": CHILD, "items_json": "[]"}, "'parent_execution_id' is missing"),
        ({"child_pipeline": CHILD, "items_json": "[]", "parent_execution_id": "p", "max_concurrency": "0"}, "expected 1 to 64"),
    ],
)
def test_fan_out_rejects_bad_inputs(event: dict, message: str) -> None:
    with pytest.raises(fan_out.FanOutError, match=message.replace("[", r"\[").replace("{", r"\{")):
        fan_out.parse_request(event=event)
