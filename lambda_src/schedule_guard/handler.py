"""Schedule target for pipelines that must not overlap: start an execution only if none is running.

EventBridge invokes this asynchronously with the constant input its rule (or schedule) carries:
``{"pipeline_name", "schedule", "parameters": [{"Name", "Value"}]}`` plus, from the event, an id
used as the idempotency token, so a retried delivery never starts a second execution.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from typing import Any, Mapping

import boto3
from botocore.config import Config

LOGGER = logging.getLogger()
LOGGER.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 5}, connect_timeout=5, read_timeout=20)
RUNNING = ("Executing", "Stopping")


class GuardInputError(ValueError):
    """The rule's input cannot be acted on."""


def parse_input(*, event: Mapping[str, Any]) -> tuple[str, str, list[dict[str, str]], str]:
    """(pipeline name, schedule name, parameters, delivery id) from the rule's input."""
    pipeline, schedule = event.get("pipeline_name"), event.get("schedule")
    if not isinstance(pipeline, str) or not pipeline:
        raise GuardInputError("input 'pipeline_name' is missing")
    if not isinstance(schedule, str) or not schedule:
        raise GuardInputError("input 'schedule' is missing")
    parameters = event.get("parameters", [])
    if not isinstance(parameters, list) or not all(isinstance(p, Mapping) and {"Name", "Value"} <= set(p) for p in parameters):
        raise GuardInputError("input 'parameters' must be a list of {Name, Value}")
    delivery = str(event.get("delivery_id") or event.get("id") or "")
    if not delivery:
        raise GuardInputError("input 'delivery_id' is missing (the rule passes the event id, the schedule its execution id)")
    return pipeline, schedule, [{"Name": str(p["Name"]), "Value": str(p["Value"])} for p in parameters], delivery


def running_execution(*, client: Any, pipeline_name: str) -> str | None:
    """ARN of an execution of the pipeline that is still running, if any (newest first)."""
    paginator = client.get_paginator("list_pipeline_executions")
    for page in paginator.paginate(PipelineName=pipeline_name, SortBy="CreationTime", SortOrder="Descending", PaginationConfig={"PageSize": 50}):
        for summary in page.get("PipelineExecutionSummaries", []):
            if summary.get("PipelineExecutionStatus") in RUNNING:
                return summary["PipelineExecutionArn"]
    return None


def guard(*, client: Any, event: Mapping[str, Any]) -> dict[str, Any]:
    """Skip when an execution is running; otherwise start one, idempotently per delivery."""
    pipeline, schedule, parameters, delivery = parse_input(event=event)
    running = running_execution(client=client, pipeline_name=pipeline)
    if running:
        LOGGER.info(json.dumps({"action": "skip", "pipeline": pipeline, "schedule": schedule, "running": running}))
        return {"started": False, "running": running}
    token = hashlib.sha256(f"{pipeline}/{schedule}/{delivery}".encode()).hexdigest()
    response = client.start_pipeline_execution(
        PipelineName=pipeline,
        PipelineExecutionDisplayName=f"{schedule}-{token[:12]}",
        PipelineParameters=parameters,
        ClientRequestToken=token,
    )
    LOGGER.info(json.dumps({"action": "start", "pipeline": pipeline, "schedule": schedule, "execution": response["PipelineExecutionArn"]}))
    return {"started": True, "execution": response["PipelineExecutionArn"]}


def on_event(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point (asynchronous: failures go to the function's dead-letter queue)."""
    return guard(client=boto3.client("sagemaker", config=CLIENT_CONFIG), event=event)
