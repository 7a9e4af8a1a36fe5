"""Lambda step that fans a parent pipeline out to child pipeline executions, one per item.

Idempotent: each start carries a ClientRequestToken derived from the parent execution, the child
and the item, so a retried invocation starts nothing twice. Concurrency is bounded, throttling and
concurrency limits are retried with backoff, and the step returns the started execution ARNs (in
item order) as a JSON string output. Standard library and the runtime's boto3 only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

LOGGER = logging.getLogger()
LOGGER.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

DISPLAY_NAME_LIMIT = 82
MAX_ITEMS = 10_000
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


class FanOutError(ValueError):
    """The step's inputs cannot be acted on; the message names the input and why."""


@dataclass(frozen=True)
class FanOutRequest:
    child_pipeline: str
    items: tuple[Mapping[str, Any], ...]
    parent_execution_id: str
    max_concurrency: int


@dataclass(frozen=True)
class Started:
    index: int
    execution_arn: str
    attempts: int


def _json_input(event: Mapping[str, Any], key: str, kind: type) -> Any:
    raw = event.get(key)
    if raw is None:
        raise FanOutError(f"input {key!r} is missing")
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as error:
        raise FanOutError(f"input {key!r} is not JSON: {error}") from None
    if not isinstance(value, kind):
        raise FanOutError(f"input {key!r} must be a JSON {kind.__name__}, got {type(value).__name__}")
    return value


def parse_request(*, event: Mapping[str, Any], default_concurrency: int = 20) -> FanOutRequest:
    """Validate the LambdaStep inputs: child_pipeline, items_json, parent_execution_id[, max_concurrency]."""
    child = event.get("child_pipeline")
    if not isinstance(child, str) or not re.match(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$", child):
        raise FanOutError(f"input 'child_pipeline' is {child!r}: expected a pipeline name")
    items = _json_input(event, "items_json", list)
    if len(items) > MAX_ITEMS:
        raise FanOutError(f"input 'items_json' has {len(items)} items; at most {MAX_ITEMS} per step")
    for index, item in enumerate(items):
        if not isinstance(item, Mapping) or not all(isinstance(k, str) for k in item):
            raise FanOutError(f"item {index} of 'items_json' must be an object of parameter values")
    parent = event.get("parent_execution_id")
    if not isinstance(parent, str) or not parent:
        raise FanOutError("input 'parent_execution_id' is missing")
    try:
        concurrency = int(event.get("max_concurrency", default_concurrency))
    except (TypeError, ValueError):
        raise FanOutError(f"input 'max_concurrency' is {event.get('max_concurrency')!r}: expected an integer") from None
    if not 1 <= concurrency <= 64:
        raise FanOutError(f"input 'max_concurrency' is {concurrency}: expected 1 to 64")
    return FanOutRequest(child_pipeline=child, items=tuple(items), parent_execution_id=parent, max_concurrency=concurrency)


def display_name(*, child_pipeline: str, index: int) -> str:
    """``<child>-item-<n>``, the child shortened so the whole stays within SageMaker's 82 characters."""
    suffix = f"-item-{index}"
    return child_pipeline[: DISPLAY_NAME_LIMIT - len(suffix)].rstrip("-") + suffix


def request_token(*, parent_execution_id: str, child_pipeline: str, index: int, item: Mapping[str, Any]) -> str:
    """64 hex characters, the same for the same parent, child and item: starts are idempotent."""
    material = json.dumps([parent_execution_id, child_pipeline, index, item], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(material.encode()).hexdigest()


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
    attempt = 0
    while True:
        attempt += 1
        try:
            response = client.start_pipeline_execution(
                PipelineName=request.child_pipeline,
                PipelineExecutionDisplayName=display_name(child_pipeline=request.child_pipeline, index=index),
                PipelineExecutionDescription=f"item {index} of parent execution {request.parent_execution_id}"[:3072],
                PipelineParameters=[{"Name": k, "Value": str(v)} for k, v in sorted(item.items())],
                ClientRequestToken=request_token(
                    parent_execution_id=request.parent_execution_id, child_pipeline=request.child_pipeline, index=index, item=item
                ),
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
    remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else 600.0
    deadline = time.monotonic() + max(1.0, remaining - 10.0)
    started = fan_out(client=boto3.client("sagemaker", config=CLIENT_CONFIG), request=request, deadline=deadline)
    LOGGER.info(json.dumps({
        "action": "fan-out",
        "child": request.child_pipeline,
        "parent": request.parent_execution_id,
        "started": len(started),
        "retries": sum(s.attempts - 1 for s in started),
    }))
    return step_outputs(started=started)
