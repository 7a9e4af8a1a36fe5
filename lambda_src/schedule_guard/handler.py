"""Schedule target for pipelines that must not overlap: start an execution only if none is running.

EventBridge invokes this asynchronously with the constant input its rule (or schedule) carries:
``{"pipeline_name", "schedule", "parameters": [{"Name", "Value"}], "delivery_id"}``. The delivery id
names one scheduled firing and stays the same when that delivery is retried (a rule passes its
event's id, a schedule its scheduled time); it goes into the idempotency token, so a retried
delivery never starts a second execution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import boto3
from botocore.config import Config

from handler_kit import PIPELINE_NAME, PIPELINE_NAME_ALLOWED, Fields, idempotency_token, log_action, logger_for

LOGGER = logger_for(name="schedule_guard")

CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 5}, connect_timeout=5, read_timeout=20)
RUNNING = ("Executing", "Stopping")


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


def running_execution(*, client: Any, pipeline_name: str) -> str | None:
    """ARN of an execution of the pipeline that is still running, if any (newest first)."""
    paginator = client.get_paginator("list_pipeline_executions")
    for page in paginator.paginate(PipelineName=pipeline_name, SortBy="CreationTime", SortOrder="Descending", PaginationConfig={"PageSize": 50}):
        for summary in page.get("PipelineExecutionSummaries", []):
            if summary.get("PipelineExecutionStatus") in RUNNING:
                return summary["PipelineExecutionArn"]
    return None


def guard(*, client: Any, request: GuardRequest) -> dict[str, Any]:
    """Skip when an execution is running; otherwise start one, idempotently per delivery."""
    running = running_execution(client=client, pipeline_name=request.pipeline_name)
    if running:
        log_action(logger=LOGGER, action="skip", pipeline=request.pipeline_name, schedule=request.schedule, running=running)
        return {"started": False, "running": running}
    token = idempotency_token(pipeline=request.pipeline_name, schedule=request.schedule, delivery=request.delivery_id)
    response = client.start_pipeline_execution(
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
    return guard(client=boto3.client("sagemaker", config=CLIENT_CONFIG), request=parse_request(event=event))
