"""The fan-out Lambda step: one child pipeline execution per item, idempotent, throttling retried."""

from __future__ import annotations

import json
import logging
from typing import Any, Iterator

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from support.faults import Throttler
from support.lambdas import load_handler, load_kit

fan_out = load_handler("fan_out")
kit = load_kit()

REGION = "eu-west-1"
CHILD = "smp-sandbox-parallel-shards"
PARENT = "smp-sandbox-fan-out-parent"


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
    return {"child_pipeline": CHILD, "items_json": json.dumps(items), "parent_execution_id": "exec-parent-1", "parent_pipeline": PARENT, **extra}


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


# Token values sent before the handler skeleton existed: the same inputs keep giving the same tokens.
ITEM_A_TOKEN = "9517f427877d0fb401d1e2666305a0706bc78fa555bdc0947a05204c4ab1f5f5"


def test_tokens_make_a_retried_invocation_start_nothing_new() -> None:
    request = fan_out.parse_request(event=_event([{"Shard": "a"}, {"Shard": "b"}]))
    first = [fan_out.request_token(parent_execution_id=request.parent_execution_id, child_pipeline=CHILD, index=i, item=request.items[i]) for i in range(2)]
    again = [fan_out.request_token(parent_execution_id="exec-parent-1", child_pipeline=CHILD, index=i, item=dict(request.items[i])) for i in range(2)]
    other_parent = fan_out.request_token(parent_execution_id="exec-parent-2", child_pipeline=CHILD, index=0, item=request.items[0])
    assert first == again and len(set(first)) == 2 and other_parent not in first
    assert first[0] == ITEM_A_TOKEN
    # Key order inside an item does not matter; the item's position does.
    assert fan_out.request_token(parent_execution_id="p", child_pipeline=CHILD, index=0, item={"A": 1, "B": 2}) == fan_out.request_token(
        parent_execution_id="p", child_pipeline=CHILD, index=0, item={"B": 2, "A": 1}
    )
    assert fan_out.request_token(parent_execution_id="p", child_pipeline=CHILD, index=0, item={"A": 1}) != fan_out.request_token(
        parent_execution_id="p", child_pipeline=CHILD, index=1, item={"A": 1}
    )


def test_a_retried_step_sends_the_same_tokens(sagemaker: Any) -> None:
    tokens: list[str] = []
    sagemaker.meta.events.register("provide-client-params.sagemaker.StartPipelineExecution", lambda params, **_: tokens.append(params["ClientRequestToken"]))
    event = _event([{"Shard": "a"}, {"Shard": "b"}], max_concurrency="1")
    fan_out.fan_out(client=sagemaker, request=fan_out.parse_request(event=event), deadline=float("inf"))
    fan_out.fan_out(client=sagemaker, request=fan_out.parse_request(event=json.loads(json.dumps(event))), deadline=float("inf"))
    assert tokens[:2] == tokens[2:] and tokens[0] == ITEM_A_TOKEN and tokens[0] != tokens[1]


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
        ({"items_json": "[]", "parent_execution_id": "p"}, "field 'child_pipeline' is missing; allowed: a SageMaker pipeline name"),
        ({"child_pipeline": 7, "items_json": "[]", "parent_execution_id": "p"}, "field 'child_pipeline' is a number 7"),
        ({"child_pipeline": "bad_name", "items_json": "[]", "parent_execution_id": "p"}, "field 'child_pipeline' is 'bad_name'"),
        ({"child_pipeline": CHILD, "parent_execution_id": "p"}, "field 'items_json' is missing"),
        ({"child_pipeline": CHILD, "items_json": "{not json", "parent_execution_id": "p"}, "field 'items_json' is not JSON"),
        ({"child_pipeline": CHILD, "items_json": '{"a": 1}', "parent_execution_id": "p"}, "field 'items_json' is an object {'a': 1}; allowed: a JSON list"),
        ({"child_pipeline": CHILD, "items_json": 5, "parent_execution_id": "p"}, "field 'items_json' is a number 5"),
        ({"child_pipeline": CHILD, "items_json": '[{}, "x"]', "parent_execution_id": "p"}, "field 'items_json[1]' is 'x'; allowed: an object of parameter name to value"),
        ({"child_pipeline": CHILD, "items_json": json.dumps([{}] * 10_001), "parent_execution_id": "p"}, "field 'items_json' has 10001 items"),
        ({"child_pipeline": CHILD, "items_json": "[]"}, "field 'parent_execution_id' is missing"),
        ({"child_pipeline": CHILD, "items_json": "[]", "parent_execution_id": ["p"]}, "field 'parent_execution_id' is a list ['p']"),
        ({"child_pipeline": CHILD, "items_json": "[]", "parent_execution_id": "p", "max_concurrency": "0"}, "field 'max_concurrency' is '0'; allowed: an integer (at least 1 and at most 64)"),
        ({"child_pipeline": CHILD, "items_json": "[]", "parent_execution_id": "p", "max_concurrency": "many"}, "field 'max_concurrency' is 'many'"),
        ({"child_pipeline": CHILD, "items_json": "[]", "parent_execution_id": "p"}, "field 'parent_pipeline' is missing; allowed: the parent's pipeline name"),
        ("not an event", "field 'event' is 'not an event'; allowed: a JSON object"),
    ],
)
def test_fan_out_rejects_bad_inputs_naming_the_field(event: Any, message: str) -> None:
    with pytest.raises(kit.RequestError) as caught:
        fan_out.parse_request(event=event)
    assert message in str(caught.value)


class RunningParent:
    """The moto client, but the parent's execution reads as running (moto completes executions at once)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def describe_pipeline_execution(self, **kwargs: Any) -> dict:
        return {**self._client.describe_pipeline_execution(**kwargs), "PipelineExecutionStatus": "Executing"}


def _running_parent(client: Any, *, children: str = CHILD) -> str:
    """A parent pipeline whose stack declared ``children``, with one execution; its execution id."""
    arn = client.create_pipeline(
        PipelineName=PARENT,
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": []}),
        RoleArn="arn:aws:iam::123456789012:role/smp-sandbox-fan-out-parent-exec",
        ClientRequestToken="p" * 40,
        Tags=[{"Key": fan_out.FAN_OUT_CHILDREN_TAG, "Value": children}] if children else [],
    )["PipelineArn"]
    execution = client.start_pipeline_execution(PipelineName=PARENT, ClientRequestToken="q" * 40)["PipelineExecutionArn"]
    assert execution.startswith(f"{arn}/execution/")
    return execution.rsplit("/", 1)[1]


def test_entry_point_parses_starts_and_logs_named_fields(monkeypatch: pytest.MonkeyPatch, sagemaker: Any, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(fan_out.boto3, "client", lambda service, config: RunningParent(sagemaker))
    parent_execution = _running_parent(sagemaker)
    with caplog.at_level(logging.INFO, logger="fan_out"):
        outputs = fan_out.on_event(_event([{"Shard": "a"}, {"Shard": "b"}], parent_execution_id=parent_execution), None)
    assert outputs["started_count"] == 2 and len(json.loads(outputs["started_executions"])) == 2
    (record,) = [r for r in caplog.records if r.name == "fan_out"]
    assert record.getMessage() == "fan-out"
    assert (record.child, record.parent, record.started, record.retries) == (CHILD, parent_execution, 2, 0)


PARENT_ARN = f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/{PARENT}"


def _stubbed_authorize(event: dict, *, children: str = CHILD, status: str = "Executing", child_parameters: tuple = ("Shard",)) -> Exception | None:
    """``authorize`` against exactly the calls it must make, in order; the error it raises, if any."""
    client = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    request = fan_out.parse_request(event=event)
    with Stubber(client) as stub:
        if request.child_pipeline != PARENT:
            stub.add_response("describe_pipeline", {"PipelineArn": PARENT_ARN}, {"PipelineName": PARENT})
            stub.add_response(
                "describe_pipeline_execution",
                {"PipelineExecutionStatus": status},
                {"PipelineExecutionArn": f"{PARENT_ARN}/execution/{request.parent_execution_id}"},
            )
            if status == "Executing":
                tags = [{"Key": fan_out.FAN_OUT_CHILDREN_TAG, "Value": children}] if children else []
                stub.add_response("list_tags", {"Tags": tags}, {"ResourceArn": PARENT_ARN})
                if request.child_pipeline in children.split():
                    definition = {"Version": "2020-12-01", "Parameters": [{"Name": n, "Type": "String"} for n in child_parameters], "Steps": []}
                    stub.add_response("describe_pipeline", {"PipelineDefinition": json.dumps(definition)}, {"PipelineName": request.child_pipeline})
        try:
            fan_out.authorize(client=client, request=request)
        except fan_out.RefusedChild as error:
            stub.assert_no_pending_responses()
            return error
        stub.assert_no_pending_responses()
    return None


def test_only_a_declared_child_with_declared_parameters_is_started() -> None:
    assert _stubbed_authorize(_event([{"Shard": "a"}, {"Shard": "b"}], parent_execution_id="e1")) is None
    cases = {
        "may not fan out to itself": _event([], parent_execution_id="e1", child_pipeline=PARENT),
        f"may start only ['{CHILD}'] (its CHILD_PIPELINES), not smp-sandbox-other": _event([], parent_execution_id="e1", child_pipeline="smp-sandbox-other"),
        f"items_json[1] sets ['Role'], which {CHILD} does not declare; declared: ['Shard']": _event([{"Shard": "a"}, {"Shard": "b", "Role": "x"}], parent_execution_id="e1"),
    }
    for message, event in cases.items():
        assert message in str(_stubbed_authorize(event)), message


def test_a_finished_or_foreign_execution_id_is_refused() -> None:
    error = _stubbed_authorize(_event([{"Shard": "a"}], parent_execution_id="e1"), status="Succeeded")
    assert "execution e1 of smp-sandbox-fan-out-parent is Succeeded, not running: no fan-out" in str(error)


def test_a_parent_whose_stack_declared_no_child_starts_nothing() -> None:
    error = _stubbed_authorize(_event([{"Shard": "a"}], parent_execution_id="e1"), children="")
    assert "may start only no child pipeline (its CHILD_PIPELINES), not smp-sandbox-parallel-shards" in str(error)


def test_the_handlers_tag_name_matches_the_plans() -> None:
    from planning.access import FAN_OUT_CHILDREN_TAG

    assert fan_out.FAN_OUT_CHILDREN_TAG == FAN_OUT_CHILDREN_TAG
