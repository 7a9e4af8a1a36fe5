"""The schedule guard's entry point, its reading of AWS errors and what each log line carries."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from support.lambdas import load_handler

guard = load_handler("schedule_guard")

PIPELINE = "smp-prod-parallel-shards"
EVENT = {"pipeline_name": PIPELINE, "schedule": "every-6-hours", "parameters": [], "delivery_id": "2026-11-22T15:00:00Z"}
NOW = datetime(2026, 11, 22, 15, 0, 5, tzinfo=timezone.utc)
ARN = f"arn:aws:sagemaker:eu-west-1:111111111111:pipeline/{PIPELINE}/execution/"


class FakeSageMaker:
    """Records each call with its arguments and answers from ``pages`` (or raises ``error``)."""

    def __init__(self, *, pages: list[dict[str, Any]] | None = None, error: Exception | None = None) -> None:
        self.pages, self.error, self.calls = list(pages or [{}]), error, []

    def list_pipeline_executions(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("ListPipelineExecutions", kwargs))
        if self.error:
            raise self.error
        return self.pages.pop(0)

    def start_pipeline_execution(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("StartPipelineExecution", kwargs))
        return {"PipelineExecutionArn": ARN + "new"}


def _request() -> Any:
    return guard.parse_request(event=EVENT)


def test_the_entry_point_reads_the_event_and_uses_a_sagemaker_client_with_its_config(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[tuple, dict]] = []
    fake = FakeSageMaker()

    def client(*args: Any, **kwargs: Any) -> FakeSageMaker:
        made.append((args, kwargs))
        return fake

    monkeypatch.setattr(guard.boto3, "client", client)
    before = datetime.now(timezone.utc)
    assert guard.on_event(dict(EVENT), None) == {"started": True, "execution": ARN + "new"}
    assert made == [(("sagemaker",), {"config": guard.CLIENT_CONFIG})]
    (_, listed), (_, started) = fake.calls
    assert listed["PipelineName"] == PIPELINE and started["PipelineName"] == PIPELINE
    # The window is counted back from the current UTC time.
    window_start = listed["CreatedAfter"]
    assert window_start.tzinfo is not None
    assert before - guard.LOOKBACK <= window_start <= datetime.now(timezone.utc) - guard.LOOKBACK


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "ListPipelineExecutions"), "ThrottlingException: Rate exceeded"),
        (ClientError({"Error": {"Code": "ResourceNotFound"}}, "ListPipelineExecutions"), "ResourceNotFound"),
        (ClientError({}, "ListPipelineExecutions"), "Unknown"),
        (EndpointConnectionError(endpoint_url="https://api.sagemaker.eu-west-1.amazonaws.com"), 'Could not connect to the endpoint URL: "https://api.sagemaker.eu-west-1.amazonaws.com"'),
    ],
)
def test_an_aws_error_names_its_cause_in_the_message_and_the_log(error: Exception, cause: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="schedule_guard"), pytest.raises(guard.GuardError) as caught:
        guard.guard(client=FakeSageMaker(error=error), request=_request(), now=NOW)
    assert str(caught.value) == (
        f"ListPipelineExecutions failed for pipeline {PIPELINE} (schedule every-6-hours, delivery 2026-11-22T15:00:00Z): {cause}"
    )
    (record,) = [r for r in caplog.records if r.getMessage() == "aws-error"]
    assert (record.levelno, record.pipeline, record.schedule, record.operation, record.cause) == (
        logging.ERROR, PIPELINE, "every-6-hours", "ListPipelineExecutions", cause,
    )


def test_a_skip_is_logged_with_the_pipeline_schedule_and_running_execution(caplog: pytest.LogCaptureFixture) -> None:
    running = {"PipelineExecutionArn": ARN + "old", "PipelineExecutionStatus": "Executing", "StartTime": NOW - timedelta(hours=1)}
    with caplog.at_level(logging.INFO, logger="schedule_guard"):
        result = guard.guard(client=FakeSageMaker(pages=[{"PipelineExecutionSummaries": [running]}]), request=_request(), now=NOW)
    assert result == {"started": False, "running": ARN + "old"}
    (record,) = [r for r in caplog.records if r.getMessage() == "skip"]
    assert (record.action, record.pipeline, record.schedule, record.running) == ("skip", PIPELINE, "every-6-hours", ARN + "old")


def test_an_execution_started_exactly_at_the_window_start_still_counts() -> None:
    edge = {"PipelineExecutionArn": ARN + "edge", "PipelineExecutionStatus": "Executing", "StartTime": NOW - guard.LOOKBACK}
    fake = FakeSageMaker(pages=[{"PipelineExecutionSummaries": [edge]}])
    assert guard.running_execution(client=fake, request=_request(), now=NOW) == ARN + "edge"


def test_a_page_without_summaries_is_an_empty_page() -> None:
    fake = FakeSageMaker(pages=[{}])
    assert guard.running_execution(client=fake, request=_request(), now=NOW) is None
    assert len(fake.calls) == 1


def test_a_missing_schedule_is_refused_saying_what_it_is() -> None:
    with pytest.raises(Exception) as caught:
        guard.parse_request(event={k: v for k, v in EVENT.items() if k != "schedule"})
    assert "'schedule'" in str(caught.value) and "the schedule's name" in str(caught.value)


def test_a_raw_eventbridge_event_id_stands_in_for_the_delivery_id() -> None:
    event = {k: v for k, v in EVENT.items() if k != "delivery_id"} | {"id": "9f1c-event"}
    assert guard.parse_request(event=event).delivery_id == "9f1c-event"
    both = dict(EVENT, id="9f1c-event")
    assert guard.parse_request(event=both).delivery_id == "2026-11-22T15:00:00Z"
