"""The fan-out step's retries: the backoff doubles from 0.4 s up to a 20 s cap with 50-100% jitter,
only throttling and server errors are retried, the step gives up before its deadline, and every
attempt sends the same start request (so a retry can never start a second execution)."""

from __future__ import annotations

import json
import random
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from support.lambdas import load_handler

fan_out = load_handler("fan_out")

REGION = "eu-west-1"
CHILD = "smp-sandbox-parallel-shards"
CHILD_ARN = f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/{CHILD}"


class FixedJitter(random.Random):
    """A jitter source that always draws the same value: 1.0 gives the full delay, 0.0 half of it."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


class Clock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _request(items: list[dict]) -> Any:
    return fan_out.parse_request(event={"child_pipeline": CHILD, "items_json": json.dumps(items), "parent_execution_id": "exec-1", "parent_pipeline": "smp-sandbox-parent"})


def _start_params(request: Any, index: int) -> dict:
    item = request.items[index]
    return {
        "PipelineName": CHILD,
        "PipelineExecutionDisplayName": f"{CHILD}-item-{index}",
        "PipelineExecutionDescription": f"item {index} of parent execution exec-1",
        "PipelineParameters": [{"Name": k, "Value": str(v)} for k, v in sorted(item.items())],
        "ClientRequestToken": fan_out.request_token(parent_execution_id="exec-1", child_pipeline=CHILD, index=index, item=item),
    }


def _client() -> Any:
    return boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y", config=fan_out.CLIENT_CONFIG)


def _start(client: Any, request: Any, clock: Clock, *, jitter: float, deadline: float = float("inf")) -> Any:
    return fan_out.start_one(client=client, request=request, index=0, deadline=deadline, sleep=clock.sleep, clock=clock, jitter=FixedJitter(jitter))


@pytest.mark.parametrize(("jitter", "factor"), [(1.0, 1.0), (0.0, 0.5), (0.5, 0.75)])
def test_backoff_doubles_from_0_4_seconds_to_a_20_second_cap_scaled_by_jitter(jitter: float, factor: float) -> None:
    client, request, clock = _client(), _request([{"Shard": "a", "Size": 3}]), Clock()
    params = _start_params(request, 0)
    with Stubber(client) as stubber:
        for _ in range(12):
            stubber.add_client_error("start_pipeline_execution", service_error_code="ThrottlingException", http_status_code=400, expected_params=params)
        stubber.add_response("start_pipeline_execution", {"PipelineExecutionArn": f"{CHILD_ARN}/execution/x1"}, params)
        started = _start(client, request, clock, jitter=jitter)
        stubber.assert_no_pending_responses()
    assert started == fan_out.Started(index=0, execution_arn=f"{CHILD_ARN}/execution/x1", attempts=13)
    full = [0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 20.0, 20.0, 20.0, 20.0, 20.0, 20.0]
    assert clock.sleeps == pytest.approx([seconds * factor for seconds in full])


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 400),
        ("Throttling", 400),
        ("TooManyRequestsException", 429),
        ("RequestLimitExceeded", 400),
        ("ResourceLimitExceeded", 400),
        ("ServiceUnavailable", 503),
        ("InternalFailure", 500),
        ("InternalServerError", 500),
        ("SomethingNew", 500),
        ("SomethingNew", 502),
    ],
)
def test_throttling_limits_and_server_errors_are_retried(code: str, status: int) -> None:
    client, request, clock = _client(), _request([{"Shard": "a"}]), Clock()
    with Stubber(client) as stubber:
        stubber.add_client_error("start_pipeline_execution", service_error_code=code, http_status_code=status, expected_params=_start_params(request, 0))
        stubber.add_response("start_pipeline_execution", {"PipelineExecutionArn": f"{CHILD_ARN}/execution/x1"}, _start_params(request, 0))
        assert _start(client, request, clock, jitter=1.0).attempts == 2
    assert clock.sleeps == [0.4]


@pytest.mark.parametrize(("code", "status"), [("ValidationException", 400), ("ResourceNotFound", 404), ("AccessDeniedException", 400), ("ConflictException", 499)])
def test_client_errors_are_raised_at_the_first_attempt(code: str, status: int) -> None:
    client, request, clock = _client(), _request([{"Shard": "a"}]), Clock()
    with Stubber(client) as stubber:
        stubber.add_client_error("start_pipeline_execution", service_error_code=code, http_status_code=status, expected_params=_start_params(request, 0))
        with pytest.raises(ClientError, match=code):
            _start(client, request, clock, jitter=1.0)
    assert clock.sleeps == []


def test_connection_errors_and_server_errors_without_a_code_are_retried() -> None:
    assert fan_out._retryable(EndpointConnectionError(endpoint_url="https://api.sagemaker.eu-west-1.amazonaws.com"))
    assert fan_out._retryable(ClientError({"ResponseMetadata": {"HTTPStatusCode": 503}}, "StartPipelineExecution"))
    assert not fan_out._retryable(ClientError({}, "StartPipelineExecution"))
    assert not fan_out._retryable(ValueError("not an AWS error"))


def test_the_step_gives_up_when_the_next_attempt_would_start_at_the_deadline() -> None:
    client, request, clock = _client(), _request([{"Shard": "a"}]), Clock()
    with Stubber(client) as stubber:
        for _ in range(3):
            stubber.add_client_error("start_pipeline_execution", service_error_code="ThrottlingException", http_status_code=400, expected_params=_start_params(request, 0))
        # Through fan_out, which hands its clock and sleep to every start; item 0 draws its jitter from
        # Random(0): about 0.37 s then 0.70 s fit in the 1.4 s left, the third delay (about 1.14 s) does not.
        with pytest.raises(ClientError, match="ThrottlingException"):
            fan_out.fan_out(client=client, request=request, deadline=clock.now + 1.4, sleep=clock.sleep, clock=clock)
        stubber.assert_no_pending_responses()
    rng = random.Random(0)
    assert clock.sleeps == pytest.approx([0.4 * (0.5 + rng.random() / 2), 0.8 * (0.5 + rng.random() / 2)])


def test_no_attempt_starts_at_the_deadline_itself() -> None:
    client, request, clock = _client(), _request([{"Shard": "a"}]), Clock()
    delays = [min(20.0, 0.2 * 2**attempt) for attempt in (1, 2, 3)]  # full jitter: 0.4, 0.8, 1.6 s
    deadline = clock.now + delays[0] + delays[1] + delays[2]  # the third retry would start exactly then
    with Stubber(client) as stubber:
        for _ in range(3):
            stubber.add_client_error("start_pipeline_execution", service_error_code="ThrottlingException", http_status_code=400, expected_params=_start_params(request, 0))
        with pytest.raises(ClientError, match="ThrottlingException"):
            _start(client, request, clock, jitter=1.0, deadline=deadline)
        stubber.assert_no_pending_responses()
    assert clock.sleeps == delays[:2]


def test_the_description_is_cut_to_sagemakers_limit() -> None:
    client, clock = _client(), Clock()
    request = fan_out.parse_request(event={"child_pipeline": CHILD, "items_json": "[{}]", "parent_execution_id": "e" * 4000, "parent_pipeline": "smp-sandbox-parent"})
    with Stubber(client) as stubber:
        params = {
            "PipelineName": CHILD,
            "PipelineExecutionDisplayName": f"{CHILD}-item-0",
            "PipelineExecutionDescription": ("item 0 of parent execution " + "e" * 4000)[:3072],
            "PipelineParameters": [],
            "ClientRequestToken": fan_out.request_token(parent_execution_id="e" * 4000, child_pipeline=CHILD, index=0, item={}),
        }
        stubber.add_response("start_pipeline_execution", {"PipelineExecutionArn": f"{CHILD_ARN}/execution/x1"}, params)
        assert _start(client, request, clock, jitter=1.0).execution_arn == f"{CHILD_ARN}/execution/x1"


def test_a_display_name_keeps_the_item_number_within_82_characters() -> None:
    assert fan_out.display_name(child_pipeline="c" * 100, index=7) == "c" * 75 + "-item-7"
    assert fan_out.display_name(child_pipeline="c" * 74 + "-d" * 10, index=7) == "c" * 74 + "-item-7"
    assert fan_out.display_name(child_pipeline="short", index=12) == "short-item-12"
    assert fan_out.display_name(child_pipeline="a" * 74 + "X-bcd", index=7) == "a" * 74 + "X-item-7"


def _throttled_twice(index: int, jitter: random.Random | None) -> list[float]:
    client, request, clock = _client(), _request([{"Shard": "a"}, {"Shard": "b"}]), Clock()
    params = _start_params(request, index)
    with Stubber(client) as stubber:
        for _ in range(2):
            stubber.add_client_error("start_pipeline_execution", service_error_code="ThrottlingException", http_status_code=400, expected_params=params)
        stubber.add_response("start_pipeline_execution", {"PipelineExecutionArn": f"{CHILD_ARN}/execution/x1"}, params)
        fan_out.start_one(client=client, request=request, index=index, deadline=float("inf"), sleep=clock.sleep, clock=clock, jitter=jitter)
    return clock.sleeps


def test_each_item_backs_off_the_same_way_on_every_run_and_items_differ() -> None:
    """A retried step spreads its items' retries as the first run did, and no two items retry in step."""
    first, again, other = _throttled_twice(0, None), _throttled_twice(0, None), _throttled_twice(1, None)
    assert first == again
    assert first != other
    assert all(0.2 <= delay <= 0.4 for delay in first[:1]) and all(0.4 <= delay <= 0.8 for delay in first[1:])


def test_outputs_are_the_count_and_the_arns_in_item_order() -> None:
    started = [fan_out.Started(index=0, execution_arn="arn:a", attempts=1), fan_out.Started(index=1, execution_arn="arn:b", attempts=3)]
    assert fan_out.step_outputs(started=started) == {"started_count": 2, "started_executions": '["arn:a", "arn:b"]'}
    assert fan_out.step_outputs(started=[]) == {"started_count": 0, "started_executions": "[]"}
