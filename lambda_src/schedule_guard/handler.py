"""Schedule target for pipelines that must not overlap: start an execution only if none is running.

EventBridge invokes this asynchronously with the constant input its rule (or schedule) carries:
``{"pipeline_name", "schedule", "parameters": [{"Name", "Value"}], "delivery_id"}``. The delivery id
names one scheduled firing and stays the same when that delivery is retried (a rule passes its
event's id, a schedule its scheduled time); it goes into the idempotency token, so a retried
delivery never starts a second execution.

Only recent history is read: executions newest first, created within :data:`LOOKBACK`, at most
:data:`MAX_PAGES` pages, stopping at the first running one or the first older than the window. An
execution started before the window is taken to have finished (or to be stuck) and holds nothing back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from handler_kit import PIPELINE_NAME, PIPELINE_NAME_ALLOWED, Fields, idempotency_token, log_action, logger_for

LOGGER = logger_for(name="schedule_guard")

CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 5}, connect_timeout=5, read_timeout=20)
RUNNING = ("Executing", "Stopping")
LOOKBACK = timedelta(days=30)
"""How far back a running execution is looked for: longer than SageMaker's longest job (28 days)."""
PAGE_SIZE = 100
"""ListPipelineExecutions' largest page."""
MAX_PAGES = 10
"""At most this many pages (1,000 executions) per delivery, so a long history fits the 60-second timeout."""


class GuardError(RuntimeError):
    """A SageMaker call failed; the message names the call, the pipeline, the schedule and AWS's error."""


@dataclass(frozen=True)
class GuardRequest:
    """The rule's input: which pipeline, from which schedule, with which parameters, for which firing."""

    pipeline_name: str
    schedule: str
    parameters: tuple[tuple[str, str], ...]
    delivery_id: str


def parse_request(*, event: Any) -> GuardRequest:
    """The rule's input as a typed request; ``id`` (a raw EventBridge event's) stands in for ``delivery_id``."""
    fields = Fields.of(event=event)
    pipeline_name = fields.text(key="pipeline_name", pattern=PIPELINE_NAME, allowed=PIPELINE_NAME_ALLOWED)
    schedule = fields.text(key="schedule", allowed="the schedule's name")
    parameters = fields.pairs(key="parameters", names=("Name", "Value"), default=())
    allowed = "the id of one scheduled firing (a rule passes its event id, a schedule its scheduled time)"
    delivery_id = fields.text(key="delivery_id", allowed=allowed, default="") or fields.text(key="id", allowed=allowed, default="")
    if not delivery_id:
        raise fields.fail(key="delivery_id", problem="is missing", allowed=allowed)
    return GuardRequest(pipeline_name=pipeline_name, schedule=schedule, parameters=parameters, delivery_id=delivery_id)


def _aws_call(call: Any, *, operation: str, request: GuardRequest, **kwargs: Any) -> dict[str, Any]:
    """One SageMaker call; a failure becomes a :class:`GuardError` saying which call failed for which schedule."""
    try:
        return call(**kwargs)
    except ClientError as error:
        details = error.response.get("Error", {})
        cause = f"{details.get('Code', 'Unknown')}: {details.get('Message', '')}".rstrip(": ")
    except BotoCoreError as error:
        cause = str(error)
    log_action(logger=LOGGER, action="aws-error", level=logging.ERROR, pipeline=request.pipeline_name, schedule=request.schedule, operation=operation, cause=cause)
    raise GuardError(f"{operation} failed for pipeline {request.pipeline_name} (schedule {request.schedule}, delivery {request.delivery_id}): {cause}")


def running_execution(*, client: Any, request: GuardRequest, now: datetime) -> str | None:
    """ARN of an execution of the pipeline still running, created within :data:`LOOKBACK` of ``now``, if any.

    Newest first: the first running one ends the search, and so does the first one older than the
    window (``CreatedAfter`` already leaves those out; the check keeps the bound whatever the
    service returns). After :data:`MAX_PAGES` pages it stops and logs how far back it looked.
    """
    window_start = now - LOOKBACK
    arguments: dict[str, Any] = {
        "PipelineName": request.pipeline_name,
        "CreatedAfter": window_start,
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": PAGE_SIZE,
    }
    oldest_seen: datetime | None = None
    for _ in range(MAX_PAGES):
        page = _aws_call(client.list_pipeline_executions, operation="ListPipelineExecutions", request=request, **arguments)
        for summary in page.get("PipelineExecutionSummaries", []):
            started = summary.get("StartTime")
            if started is not None and started < window_start:
                return None
            if summary.get("PipelineExecutionStatus") in RUNNING:
                return summary["PipelineExecutionArn"]
            oldest_seen = started or oldest_seen
        if not page.get("NextToken"):
            return None
        arguments["NextToken"] = page["NextToken"]
    log_action(
        logger=LOGGER,
        action="history-truncated",
        level=logging.WARNING,
        pipeline=request.pipeline_name,
        schedule=request.schedule,
        executions_read=MAX_PAGES * PAGE_SIZE,
        oldest_read=oldest_seen.isoformat() if oldest_seen else None,
    )
    return None


def guard(*, client: Any, request: GuardRequest, now: datetime) -> dict[str, Any]:
    """Skip when an execution is running; otherwise start one, idempotently per delivery.

    The token depends only on the pipeline, the schedule and the delivery id, so every delivery of
    one scheduled firing (Scheduler's retries, Lambda's own retries of an asynchronous event) sends
    the same token and SageMaker starts one execution for all of them.
    """
    running = running_execution(client=client, request=request, now=now)
    if running:
        log_action(logger=LOGGER, action="skip", pipeline=request.pipeline_name, schedule=request.schedule, running=running)
        return {"started": False, "running": running}
    token = idempotency_token(pipeline=request.pipeline_name, schedule=request.schedule, delivery=request.delivery_id)
    response = _aws_call(
        client.start_pipeline_execution,
        operation="StartPipelineExecution",
        request=request,
        PipelineName=request.pipeline_name,
        PipelineExecutionDisplayName=f"{request.schedule}-{token[:12]}",
        PipelineParameters=[{"Name": name, "Value": value} for name, value in request.parameters],
        ClientRequestToken=token,
    )
    execution = response["PipelineExecutionArn"]
    log_action(logger=LOGGER, action="start", pipeline=request.pipeline_name, schedule=request.schedule, execution=execution)
    return {"started": True, "execution": execution}


def on_event(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point (asynchronous: failures go to the function's dead-letter queue)."""
    request = parse_request(event=event)
    return guard(client=boto3.client("sagemaker", config=CLIENT_CONFIG), request=request, now=datetime.now(timezone.utc))
