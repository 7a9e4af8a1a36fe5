"""The schedule guard: start only when idle, once per scheduled firing however often it is delivered."""

from __future__ import annotations

import json
import logging
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
    first = guard.guard(client=sagemaker, request=guard.parse_request(event=EVENT))
    assert first["started"] is True
    got = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=first["execution"])["PipelineParameters"]
    assert got == [{"Name": "InstanceCount", "Value": "3"}]
    guard.guard(client=sagemaker, request=guard.parse_request(event=EVENT))  # the same delivery again (moto's executions finish at once)
    guard.guard(client=sagemaker, request=guard.parse_request(event={**EVENT, "delivery_id": "event-2"}))
    assert tokens[0] == tokens[1] == EVENT_TOKEN != tokens[2]


def test_skips_while_an_execution_is_running() -> None:
    client = boto3.client("sagemaker", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    running = f"arn:aws:sagemaker:eu-west-1:111111111111:pipeline/{PIPELINE}/execution/abc123"
    with Stubber(client) as stub:
        stub.add_response(
            "list_pipeline_executions",
            {"PipelineExecutionSummaries": [{"PipelineExecutionArn": running, "PipelineExecutionStatus": "Executing"}]},
            {"PipelineName": PIPELINE, "SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 50},
        )
        result = guard.guard(client=client, request=guard.parse_request(event={"pipeline_name": PIPELINE, "schedule": "every-6-hours", "delivery_id": "e-3"}))
        stub.assert_no_pending_responses()  # and no StartPipelineExecution was made
    assert result == {"started": False, "running": running}


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
        result = guard.guard(client=sagemaker, request=guard.parse_request(event=EVENT))
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
        guard.guard(client=sagemaker, request=guard.parse_request(event=_delivered(template, attributes)))

    for template in (utc_input, zoned_input):
        attempt(template, "2026-11-22T15:00:00Z", "1")
        attempt(template, "2026-11-22T15:00:00Z", "2")
        attempt(template, "2026-11-22T21:00:00Z", "1")
    utc_first, utc_retry, utc_next, zoned_first, zoned_retry, zoned_next = tokens
    assert utc_first == utc_retry != utc_next
    assert zoned_first == zoned_retry != zoned_next
    assert utc_first != zoned_first
