"""Lambda step that fans a parent pipeline out to child pipeline executions, one per item.

Idempotent: each start carries a ClientRequestToken derived from the parent execution, the child
and the item, so a retried invocation starts nothing twice. Concurrency is bounded, throttling and
concurrency limits are retried with backoff, and the step returns the started execution ARNs (in
item order) as a JSON string output. Standard library, ``handler_kit`` and the runtime's boto3 only.
"""

from __future__ import annotations

import json
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from handler_kit import PIPELINE_NAME, PIPELINE_NAME_ALLOWED, Fields, idempotency_token, log_action, logger_for, shown

LOGGER = logger_for(name="fan_out")

FAN_OUT_CHILDREN_TAG = "smp:fan-out-children"
"""A copy of ``planning.access.FAN_OUT_CHILDREN_TAG`` (this code ships alone); a test compares them.
Set on a parent pipeline by its own stack only: the children its fan-out step may start."""

DISPLAY_NAME_LIMIT = 82
MAX_ITEMS = 10_000
MAX_CONCURRENCY = 64
RETRYABLE_CODES = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ResourceLimitExceeded",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalServerError",
}
# Retries are this module's own: it knows the Lambda's remaining time, botocore does not.
CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=20, max_pool_connections=32)


@dataclass(frozen=True)
class FanOutRequest:
    """The LambdaStep inputs: the child pipeline, one parameter object per item, the parent execution."""

    child_pipeline: str
    items: tuple[Mapping[str, Any], ...]
    parent_execution_id: str
    max_concurrency: int
    parent_pipeline: str = ""


class RefusedChild(PermissionError):
    """The parent may not start this child, or an item names a parameter the child does not declare."""


@dataclass(frozen=True)
class Started:
    index: int
    execution_arn: str
    attempts: int


def parse_request(*, event: Any, default_concurrency: int = 20) -> FanOutRequest:
    """Validate the LambdaStep inputs: child_pipeline, items_json, parent_execution_id[, max_concurrency]."""
    fields = Fields.of(event=event)
    child = fields.text(key="child_pipeline", pattern=PIPELINE_NAME, allowed=PIPELINE_NAME_ALLOWED)
    allowed_items = f"a JSON list of at most {MAX_ITEMS} objects of parameter values"
    items = fields.json_value(key="items_json", kind=list, allowed=allowed_items)
    if len(items) > MAX_ITEMS:
        raise fields.fail(key="items_json", problem=f"has {len(items)} items", allowed=allowed_items)
    for index, item in enumerate(items):
        if not isinstance(item, Mapping) or not all(isinstance(k, str) for k in item):
            raise fields.fail(key=f"items_json[{index}]", problem=f"is {shown(item)}", allowed="an object of parameter name to value")
    return FanOutRequest(
        child_pipeline=child,
        items=tuple(items),
        parent_execution_id=fields.text(key="parent_execution_id", allowed="the parent pipeline's execution id"),
        max_concurrency=fields.integer(key="max_concurrency", minimum=1, maximum=MAX_CONCURRENCY, default=default_concurrency),
        parent_pipeline=fields.text(key="parent_pipeline", pattern=PIPELINE_NAME, allowed="the parent's pipeline name (ExecutionVariables.PIPELINE_NAME)"),
    )


def authorize(*, client: Any, request: FanOutRequest) -> None:
    """Refuse a child the parent's stack did not declare, the parent itself, and undeclared parameters.

    The parent is identified by a running execution of its own, and its allowed children come from a
    tag only its stack sets, so a definition cannot widen what it may start.
    """
    parent, child = request.parent_pipeline, request.child_pipeline
    if child == parent:
        raise RefusedChild(f"pipeline {parent} may not fan out to itself")
    described = client.describe_pipeline(PipelineName=parent)
    execution_arn = f"{described['PipelineArn']}/execution/{request.parent_execution_id}"
    status = client.describe_pipeline_execution(PipelineExecutionArn=execution_arn).get("PipelineExecutionStatus")
    if status != "Executing":
        raise RefusedChild(f"execution {request.parent_execution_id} of {parent} is {status}, not running: no fan-out")
    tags = {t["Key"]: t["Value"] for t in client.list_tags(ResourceArn=described["PipelineArn"]).get("Tags", [])}
    allowed = tags.get(FAN_OUT_CHILDREN_TAG, "").split()
    if child not in allowed:
        raise RefusedChild(f"pipeline {parent} may start only {allowed or 'no child pipeline'} (its CHILD_PIPELINES), not {child}")
    definition = json.loads(client.describe_pipeline(PipelineName=child)["PipelineDefinition"])
    declared = {p["Name"] for p in definition.get("Parameters", [])}
    for index, item in enumerate(request.items):
        unknown = sorted(set(item) - declared)
        if unknown:
            raise RefusedChild(f"items_json[{index}] sets {unknown}, which {child} does not declare; declared: {sorted(declared)}")


def display_name(*, child_pipeline: str, index: int) -> str:
    """``<child>-item-<n>``, the child shortened so the whole stays within SageMaker's 82 characters."""
    suffix = f"-item-{index}"
    return child_pipeline[: DISPLAY_NAME_LIMIT - len(suffix)].rstrip("-") + suffix


def request_token(*, parent_execution_id: str, child_pipeline: str, index: int, item: Mapping[str, Any]) -> str:
    """The same for the same parent, child, index and item: a retried step starts nothing twice.

    The four travel as one JSON array (an item is an object), which keeps earlier releases' tokens.
    """
    start = json.dumps([parent_execution_id, child_pipeline, index, item], sort_keys=True, separators=(",", ":"))
    return idempotency_token(item_start=start)


def _retryable(error: Exception) -> bool:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in RETRYABLE_CODES or status >= 500
    return isinstance(error, BotoCoreError)


def start_one(
    *,
    client: Any,
    request: FanOutRequest,
    index: int,
    deadline: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    jitter: random.Random | None = None,
) -> Started:
    """Start item ``index``, retrying throttling with capped exponential backoff until ``deadline``."""
    item = request.items[index]
    rng = jitter or random.Random(index)
    token = request_token(parent_execution_id=request.parent_execution_id, child_pipeline=request.child_pipeline, index=index, item=item)
    attempt = 0
    while True:
        attempt += 1
        try:
            response = client.start_pipeline_execution(
                PipelineName=request.child_pipeline,
                PipelineExecutionDisplayName=display_name(child_pipeline=request.child_pipeline, index=index),
                PipelineExecutionDescription=f"item {index} of parent execution {request.parent_execution_id}"[:3072],
                PipelineParameters=[{"Name": k, "Value": str(v)} for k, v in sorted(item.items())],
                ClientRequestToken=token,
            )
            return Started(index=index, execution_arn=response["PipelineExecutionArn"], attempts=attempt)
        except (ClientError, BotoCoreError) as error:
            delay = min(20.0, 0.2 * 2 ** min(attempt, 10)) * (0.5 + rng.random() / 2)
            if not _retryable(error) or clock() + delay >= deadline:
                raise
            sleep(delay)


def fan_out(
    *,
    client: Any,
    request: FanOutRequest,
    deadline: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[Started]:
    """Start every item with at most ``max_concurrency`` calls in flight; results in item order."""
    if not request.items:
        return []
    workers = min(request.max_concurrency, len(request.items))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(start_one, client=client, request=request, index=i, deadline=deadline, sleep=sleep, clock=clock)
            for i in range(len(request.items))
        ]
        return [future.result() for future in futures]


def step_outputs(*, started: Sequence[Started]) -> dict[str, Any]:
    """The LambdaStep outputs: a count and the ARNs as a JSON string."""
    return {"started_count": len(started), "started_executions": json.dumps([s.execution_arn for s in started])}


def on_event(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """LambdaStep entry point; leaves a safety margin before the Lambda's own timeout."""
    request = parse_request(event=event, default_concurrency=int(os.environ.get("MAX_CONCURRENCY", "20")))
    client = boto3.client("sagemaker", config=CLIENT_CONFIG)
    authorize(client=client, request=request)
    remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else 600.0
    deadline = time.monotonic() + max(1.0, remaining - 10.0)
    started = fan_out(client=client, request=request, deadline=deadline)
    log_action(
        logger=LOGGER,
        action="fan-out",
        child=request.child_pipeline,
        parent=request.parent_execution_id,
        started=len(started),
        retries=sum(s.attempts - 1 for s in started),
    )
    return step_outputs(started=started)
