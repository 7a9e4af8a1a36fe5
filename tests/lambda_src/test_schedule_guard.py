"""The schedule guard: start only when idle, once per scheduled firing however often it is delivered."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import boto3
import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from botocore.stub import Stubber
from moto import mock_aws

from planning.schedules import PlannedSchedule
from stacks.scheduling.schedules import PipelineSchedules
from support.lambdas import load_handler, load_kit

guard = load_handler("schedule_guard")
kit = load_kit()

PIPELINE = "smp-prod-parallel-shards"
EVENT = {"pipeline_name": PIPELINE, "schedule": "every-6-hours", "parameters": [{"Name": "InstanceCount", "Value": "3"}], "delivery_id": "event-1"}
# The token sent before the handler skeleton existed, for EVENT: the same delivery keeps its token.
EVENT_TOKEN = "7c3fd905ec154087149c1352b28c72259783ebfded768763c8dac876e7e3e662"
NOW = datetime(2026, 11, 22, 15, 0, 5, tzinfo=timezone.utc)
ARN = f"arn:aws:sagemaker:eu-west-1:111111111111:pipeline/{PIPELINE}/execution/"


@pytest.fixture
def sagemaker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("sagemaker", region_name="eu-west-1")
        client.create_pipeline(
            PipelineName=PIPELINE, PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}), RoleArn="arn:aws:iam::111111111111:role/r", ClientRequestToken="c" * 40
        )
        yield client


def _start_tokens(client: Any) -> list[str]:
    tokens: list[str] = []
    client.meta.events.register("provide-client-params.sagemaker.StartPipelineExecution", lambda params, **_: tokens.append(params["ClientRequestToken"]))
    return tokens


def test_starts_when_idle_idempotently_per_delivery(sagemaker: Any) -> None:
    tokens = _start_tokens(sagemaker)
    first = guard.guard(client=sagemaker, request=guard.parse_request(event=EVENT), now=datetime.now(timezone.utc))
    assert first["started"] is True
    got = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=first["execution"])["PipelineParameters"]
    assert got == [{"Name": "InstanceCount", "Value": "3"}]
    guard.guard(client=sagemaker, request=guard.parse_request(event=EVENT), now=datetime.now(timezone.utc))  # the same delivery again (moto's executions finish at once)
    guard.guard(client=sagemaker, request=guard.parse_request(event={**EVENT, "delivery_id": "event-2"}), now=datetime.now(timezone.utc))
    assert tokens[0] == tokens[1] == EVENT_TOKEN != tokens[2]


def _stubbed() -> Any:
    return boto3.client("sagemaker", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")


def _listing(next_token: str | None = None) -> dict[str, Any]:
    """The exact ListPipelineExecutions request: newest first, only the look-back window, largest pages."""
    request = {"PipelineName": PIPELINE, "CreatedAfter": NOW - timedelta(days=30), "SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 100}
    return request if next_token is None else {**request, "NextToken": next_token}


def _summaries(*entries: tuple[str, str, datetime]) -> list[dict[str, Any]]:
    return [{"PipelineExecutionArn": ARN + name, "PipelineExecutionStatus": status, "StartTime": started} for name, status, started in entries]


def _expect_start(stub: Stubber, *, delivery: str = "e-3") -> None:
    token = kit.idempotency_token(pipeline=PIPELINE, schedule="every-6-hours", delivery=delivery)
    stub.add_response(
        "start_pipeline_execution",
        {"PipelineExecutionArn": ARN + "new"},
        {"PipelineName": PIPELINE, "PipelineExecutionDisplayName": f"every-6-hours-{token[:12]}", "PipelineParameters": [], "ClientRequestToken": token},
    )


GUARDED = {"pipeline_name": PIPELINE, "schedule": "every-6-hours", "delivery_id": "e-3"}


def test_skips_while_an_execution_is_running() -> None:
    client = _stubbed()
    with Stubber(client) as stub:
        stub.add_response(
            "list_pipeline_executions",
            {"PipelineExecutionSummaries": _summaries(("abc123", "Executing", NOW - timedelta(hours=1))), "NextToken": "more"},
            _listing(),
        )
        result = guard.guard(client=client, request=guard.parse_request(event=GUARDED), now=NOW)
        stub.assert_no_pending_responses()  # no second page, and no StartPipelineExecution
    assert result == {"started": False, "running": ARN + "abc123"}


def test_a_stopping_execution_on_a_later_page_counts_as_running() -> None:
    client = _stubbed()
    with Stubber(client) as stub:
        stub.add_response(
            "list_pipeline_executions",
            {"PipelineExecutionSummaries": _summaries(("new1", "Succeeded", NOW - timedelta(hours=1)), ("new2", "Failed", NOW - timedelta(hours=7))), "NextToken": "page-2"},
            _listing(),
        )
        stub.add_response(
            "list_pipeline_executions", {"PipelineExecutionSummaries": _summaries(("old", "Stopping", NOW - timedelta(days=3)))}, _listing("page-2")
        )
        result = guard.guard(client=client, request=guard.parse_request(event=GUARDED), now=NOW)
        stub.assert_no_pending_responses()
    assert result == {"started": False, "running": ARN + "old"}


def test_paging_stops_at_the_first_execution_older_than_the_window() -> None:
    """Even if the service returned older executions, reading stops there: no further page is asked for."""
    client = _stubbed()
    with Stubber(client) as stub:
        stub.add_response(
            "list_pipeline_executions",
            {
                "PipelineExecutionSummaries": _summaries(
                    ("recent", "Succeeded", NOW - timedelta(days=29, hours=23)),
                    ("ancient", "Succeeded", NOW - timedelta(days=30, seconds=1)),
                    ("ancient-running", "Executing", NOW - timedelta(days=31)),
                ),
                "NextToken": "page-2",
            },
            _listing(),
        )
        _expect_start(stub)
        result = guard.guard(client=client, request=guard.parse_request(event=GUARDED), now=NOW)
        stub.assert_no_pending_responses()
    assert result == {"started": True, "execution": ARN + "new"}


def test_paging_is_bounded_and_says_how_far_it_looked(caplog: pytest.LogCaptureFixture) -> None:
    client = _stubbed()
    with Stubber(client) as stub:
        for page in range(guard.MAX_PAGES):
            started = NOW - timedelta(minutes=10 * (page + 1))
            stub.add_response(
                "list_pipeline_executions",
                {"PipelineExecutionSummaries": _summaries((f"done-{page}", "Succeeded", started)), "NextToken": f"page-{page + 1}"},
                _listing(f"page-{page}" if page else None),
            )
        _expect_start(stub)
        with caplog.at_level(logging.INFO, logger="schedule_guard"):
            result = guard.guard(client=client, request=guard.parse_request(event=GUARDED), now=NOW)
        stub.assert_no_pending_responses()  # exactly MAX_PAGES pages, then the start
    assert guard.MAX_PAGES == 10 and result["started"] is True
    (warning,) = [r for r in caplog.records if r.getMessage() == "history-truncated"]
    assert (warning.levelno, warning.pipeline, warning.executions_read) == (logging.WARNING, PIPELINE, 1000)
    assert warning.oldest_read == (NOW - timedelta(minutes=100)).isoformat()


def _scheduled_delivery(scheduled: str, *, attempt: str, execution_id: str) -> dict[str, Any]:
    """What Scheduler delivers to the guard for one attempt of one scheduled invocation of a guarded schedule."""
    utc_input, _ = _guarded_targets()
    attributes = {"<aws.scheduler.scheduled-time>": scheduled, "<aws.scheduler.execution-id>": execution_id, "<aws.scheduler.attempt-number>": attempt}
    return _delivered(utc_input, attributes)


def test_deliveries_of_one_invocation_send_one_token_that_the_api_accepts() -> None:
    """Stubbed on the exact calls: the retry of an invocation sends a request identical to the first
    (same token, display name and parameters); the next invocation sends another token."""
    client = _stubbed()
    sent: list[dict[str, Any]] = []
    client.meta.events.register("provide-client-params.sagemaker.StartPipelineExecution", lambda params, **_: sent.append(dict(params)))
    deliveries = [
        _scheduled_delivery("2026-11-22T15:00:00Z", attempt="1", execution_id="d32c5kddcf5bb8c1"),
        _scheduled_delivery("2026-11-22T15:00:00Z", attempt="2", execution_id="a81f0c2e9b7d4e55"),
        _scheduled_delivery("2026-11-22T21:00:00Z", attempt="1", execution_id="5e6f7a8b9c0d1e2f"),
    ]
    with Stubber(client) as stub:
        for _ in deliveries:
            stub.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": []}, _listing())
            stub.add_response("start_pipeline_execution", {"PipelineExecutionArn": ARN + "x"}, None)
        for event in deliveries:
            guard.guard(client=client, request=guard.parse_request(event=event), now=NOW)
        stub.assert_no_pending_responses()
    first, retry, following = sent
    assert first == retry and first["ClientRequestToken"] != following["ClientRequestToken"]
    assert first["PipelineParameters"] == [{"Name": "InstanceCount", "Value": "3"}]
    model = client.meta.service_model.operation_model("StartPipelineExecution").input_shape.members
    for request in sent:
        token, display = request["ClientRequestToken"], request["PipelineExecutionDisplayName"]
        assert model["ClientRequestToken"].metadata["min"] <= len(token) <= model["ClientRequestToken"].metadata["max"]
        assert re.fullmatch(r"[0-9a-f]{64}", token)
        assert len(display) <= model["PipelineExecutionDisplayName"].metadata["max"]
        assert re.fullmatch(model["PipelineExecutionDisplayName"].metadata["pattern"], display)


@pytest.mark.parametrize(
    ("operation", "code", "message"),
    [
        ("list_pipeline_executions", "ResourceNotFound", "ListPipelineExecutions failed for pipeline smp-prod-parallel-shards (schedule every-6-hours, delivery e-3): ResourceNotFound: Pipeline does not exist"),
        ("start_pipeline_execution", "ResourceLimitExceeded", "StartPipelineExecution failed for pipeline smp-prod-parallel-shards (schedule every-6-hours, delivery e-3): ResourceLimitExceeded: Too many executions"),
    ],
)
def test_aws_errors_name_the_call_pipeline_and_cause(operation: str, code: str, message: str, caplog: pytest.LogCaptureFixture) -> None:
    client = _stubbed()
    aws_message = "Pipeline does not exist" if code == "ResourceNotFound" else "Too many executions"
    with Stubber(client) as stub:
        if operation == "start_pipeline_execution":
            stub.add_response("list_pipeline_executions", {"PipelineExecutionSummaries": []}, _listing())
        stub.add_client_error(operation, service_error_code=code, service_message=aws_message, http_status_code=400)
        with caplog.at_level(logging.INFO, logger="schedule_guard"), pytest.raises(guard.GuardError) as caught:
            guard.guard(client=client, request=guard.parse_request(event=GUARDED), now=NOW)
        stub.assert_no_pending_responses()
    assert str(caught.value) == message
    (record,) = [r for r in caplog.records if r.getMessage() == "aws-error"]
    assert (record.levelno, record.operation, record.pipeline) == (logging.ERROR, message.split()[0], PIPELINE)


def test_a_raw_eventbridge_event_id_stands_in_for_the_delivery_id() -> None:
    request = guard.parse_request(event={"pipeline_name": PIPELINE, "schedule": "s", "id": "0f0f-event-id"})
    assert request.delivery_id == "0f0f-event-id" and request.parameters == ()


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"schedule": "s", "delivery_id": "1"}, "field 'pipeline_name' is missing; allowed: a SageMaker pipeline name"),
        ({"pipeline_name": ["p"], "schedule": "s", "delivery_id": "1"}, "field 'pipeline_name' is a list ['p']"),
        ({"pipeline_name": "p_1", "schedule": "s", "delivery_id": "1"}, "field 'pipeline_name' is 'p_1'"),
        ({"pipeline_name": "p", "delivery_id": "1"}, "field 'schedule' is missing"),
        ({"pipeline_name": "p", "schedule": 6, "delivery_id": "1"}, "field 'schedule' is a number 6"),
        ({"pipeline_name": "p", "schedule": "s"}, "field 'delivery_id' is missing; allowed: the id of one scheduled firing"),
        ({"pipeline_name": "p", "schedule": "s", "delivery_id": 1}, "field 'delivery_id' is a number 1"),
        ({"pipeline_name": "p", "schedule": "s", "delivery_id": "1", "parameters": {"a": 1}}, "field 'parameters' is an object {'a': 1}; allowed: a list of {Name, Value} objects"),
        ({"pipeline_name": "p", "schedule": "s", "delivery_id": "1", "parameters": [{"Name": "a"}]}, "field 'parameters[0]' is an object {'Name': 'a'}"),
        ("p", "field 'event' is 'p'; allowed: a JSON object"),
    ],
)
def test_rejects_bad_input_naming_the_field(event: Any, message: str) -> None:
    with pytest.raises(kit.RequestError) as caught:
        guard.parse_request(event=event)
    assert message in str(caught.value)


def test_log_lines_are_named_fields(sagemaker: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="schedule_guard"):
        result = guard.guard(client=sagemaker, request=guard.parse_request(event=EVENT), now=datetime.now(timezone.utc))
    (record,) = [r for r in caplog.records if r.name == "schedule_guard"]
    assert record.getMessage() == "start"
    assert (record.pipeline, record.schedule, record.execution) == (PIPELINE, "every-6-hours", result["execution"])


# What each kind of target passes as the delivery id -------------------------------------------------


def _guarded_targets() -> tuple[str, str]:
    """The guard inputs of one guarded schedule in UTC and one in a time zone (both Scheduler schedules)."""
    stack = Stack(App(), "Schedules")
    common = {"module_pipeline_name": "parallel-shards", "expression": "rate(6 hours)", "enabled": True, "deployed": True, "parameter_values": {"InstanceCount": "3"}, "skip_if_running": True}
    PipelineSchedules(
        stack,
        "Schedules",
        plan=[
            PlannedSchedule(pipeline_name=PIPELINE, schedule_name="utc", timezone=None, **common),
            PlannedSchedule(pipeline_name=PIPELINE, schedule_name="paris", timezone="Europe/Paris", **common),
        ],
        pipeline_arn=f"arn:aws:sagemaker:eu-west-1:111111111111:pipeline/{PIPELINE}",
        dead_letters_arn="arn:aws:sqs:eu-west-1:111111111111:smp-prod-schedule-dead-letters",
        guard_function_arn="arn:aws:lambda:eu-west-1:111111111111:function:smp-prod-schedule-guard",
        key=kms.Key(stack, "Key"),
    )
    template = Template.from_stack(stack).to_json()["Resources"]
    inputs = {r["Properties"]["Name"]: r["Properties"]["Target"]["Input"] for r in template.values() if r["Type"] == "AWS::Scheduler::Schedule"}
    assert not [r for r in template.values() if r["Type"] == "AWS::Events::Rule"]
    return inputs[f"{PIPELINE}-utc"], inputs[f"{PIPELINE}-paris"]


def _delivered(template: str, attributes: dict[str, str]) -> dict:
    for name, value in attributes.items():
        template = template.replace(name, value)
    return json.loads(template)


def test_each_retry_of_a_scheduled_firing_starts_nothing_new(sagemaker: Any) -> None:
    """Scheduler gives each attempt its own execution id but keeps the scheduled time, which is
    therefore what a schedule passes: a retried firing reuses its token, the next firing does not."""
    utc_input, zoned_input = _guarded_targets()
    tokens = _start_tokens(sagemaker)

    def attempt(template: str, scheduled: str, try_number: str) -> None:
        attributes = {
            "<aws.scheduler.scheduled-time>": scheduled,
            "<aws.scheduler.execution-id>": f"d32c5kddcf5bb8c{scheduled[-9:-7]}{try_number}",
            "<aws.scheduler.attempt-number>": try_number,
        }
        guard.guard(client=sagemaker, request=guard.parse_request(event=_delivered(template, attributes)), now=datetime.now(timezone.utc))

    for template in (utc_input, zoned_input):
        attempt(template, "2026-11-22T15:00:00Z", "1")
        attempt(template, "2026-11-22T15:00:00Z", "2")
        attempt(template, "2026-11-22T21:00:00Z", "1")
    utc_first, utc_retry, utc_next, zoned_first, zoned_retry, zoned_next = tokens
    assert utc_first == utc_retry != utc_next
    assert zoned_first == zoned_retry != zoned_next
    assert utc_first != zoned_first
