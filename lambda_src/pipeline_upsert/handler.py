"""Custom resource handler that creates, updates and deletes one SageMaker pipeline.

Runs behind ``aws_cdk.custom_resources.Provider`` (``on_event``): the return value is the Provider
framework's response, a raised exception becomes a FAILED response whose reason CloudFormation shows.
Standard library and the Lambda runtime's boto3 only, so no bundling step is needed.

The definition arrives split (a head, the step order, one JSON string per step) so that ``cdk diff``
shows a one-step change as that step alone; ``assemble_definition`` puts it back together.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

LOGGER = logging.getLogger()
LOGGER.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

MANAGED_BY_TAG = "smp:managed-by"
"""Tag naming the CloudFormation stack that owns a pipeline; adoption requires it."""

PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
MAX_DEFINITION_CHARACTERS = 1_048_576
DELETE_ATTEMPTS = 12
DELETE_RETRY_SECONDS = 10.0  # 12 attempts fit in the function's 5-minute timeout

# Throttling and 5xx are retried by botocore with backoff; the attempts bound the time spent.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 6},
    connect_timeout=5,
    read_timeout=30,
    user_agent_extra="smp-pipeline-upsert",
)


class EventError(ValueError):
    """The custom resource event cannot be acted on; the message says which property and why."""


@dataclass(frozen=True)
class PipelineSpec:
    """What the pipeline should look like, parsed and checked from ResourceProperties."""

    name: str
    role_arn: str
    definition: str
    description: str
    display_name: str
    tags: tuple[tuple[str, str], ...]
    max_parallel_steps: int | None
    retain_on_delete: bool

    @property
    def definition_sha256(self) -> str:
        return hashlib.sha256(self.definition.encode()).hexdigest()


def canonical_json(value: Any) -> str:
    """The one serialization of definitions used by the compiler, the stack and this handler."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def assemble_definition(*, parts: Mapping[str, Any], s3_text: str | None = None) -> str:
    """Rebuild the definition JSON from its template properties (or the text of its S3 asset)."""
    if s3_text is not None:
        substitutions = parts.get("Substitutions", {})
        if not isinstance(substitutions, Mapping):
            raise EventError("property 'Definition.Substitutions' must be an object of placeholder values")
        text = re.sub(r"\$\{([A-Za-z0-9:._-]+)\}", lambda m: str(substitutions.get(m.group(1), m.group(0))), s3_text)
        unresolved = sorted(set(re.findall(r"\$\{([A-Za-z0-9:._-]+)\}", text)))
        if unresolved:
            raise EventError(f"definition from S3 has placeholders with no value: {unresolved}")
        try:
            return canonical_json(json.loads(text))
        except json.JSONDecodeError as error:
            raise EventError(f"definition from S3 is not JSON: {error}") from None
    for key in ("Head", "StepOrder", "Steps"):
        if key not in parts:
            raise EventError(f"property 'Definition.{key}' is missing")
    try:
        head = json.loads(parts["Head"])
        steps = {name: json.loads(text) for name, text in parts["Steps"].items()}
    except (TypeError, AttributeError, json.JSONDecodeError) as error:
        raise EventError(f"property 'Definition' is not JSON: {error}") from None
    order = parts["StepOrder"]
    if not isinstance(order, list) or sorted(order) != sorted(steps):
        raise EventError(f"property 'Definition.StepOrder' {order!r} does not list exactly the steps {sorted(steps)}")
    head["Steps"] = [steps[name] for name in order]
    return canonical_json(head)


def parse_spec(*, properties: Mapping[str, Any], s3_client: Any | None = None) -> PipelineSpec:
    """Check ResourceProperties and build the desired pipeline; raises EventError naming the property."""
    for key in ("PipelineName", "RoleArn", "Definition"):
        if key not in properties:
            raise EventError(f"property '{key}' is missing")
    name = properties["PipelineName"]
    if not isinstance(name, str) or not PIPELINE_NAME.match(name):
        raise EventError(f"property 'PipelineName' is {name!r}: expected letters, digits and single hyphens, at most 256")
    parts = properties["Definition"]
    if not isinstance(parts, Mapping):
        raise EventError("property 'Definition' must be an object")
    if "S3Bucket" in parts:
        client = s3_client or boto3.client("s3", config=CLIENT_CONFIG)
        body = client.get_object(Bucket=parts["S3Bucket"], Key=parts["S3Key"])["Body"].read().decode()
        definition = assemble_definition(parts=parts, s3_text=body)
    else:
        definition = assemble_definition(parts=parts)
    if len(definition) > MAX_DEFINITION_CHARACTERS:
        raise EventError(f"definition of {name} has {len(definition)} characters; SageMaker accepts at most {MAX_DEFINITION_CHARACTERS}")
    tags = properties.get("Tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, Mapping) and {"Key", "Value"} <= set(t) for t in tags):
        raise EventError("property 'Tags' must be a list of {Key, Value} objects")
    parallelism = properties.get("MaxParallelExecutionSteps")
    try:
        max_parallel = None if parallelism in (None, "") else int(parallelism)
    except ValueError:
        raise EventError(f"property 'MaxParallelExecutionSteps' is {parallelism!r}: expected an integer") from None
    if max_parallel is not None and max_parallel < 1:
        raise EventError(f"property 'MaxParallelExecutionSteps' is {max_parallel}: expected at least 1")
    return PipelineSpec(
        name=name,
        role_arn=str(properties["RoleArn"]),
        definition=definition,
        description=str(properties.get("Description", "")),
        display_name=str(properties.get("DisplayName", name))[:256],
        tags=tuple(sorted((str(t["Key"]), str(t["Value"])) for t in tags)),
        max_parallel_steps=max_parallel,
        retain_on_delete=str(properties.get("RetainOnDelete", "false")).lower() == "true",
    )


def _token(event: Mapping[str, Any], purpose: str) -> str:
    """An idempotency token of 64 characters (SageMaker wants 32 to 128), stable per request."""
    return hashlib.sha256(f"{event.get('StackId', '')}/{event.get('RequestId', '')}/{purpose}".encode()).hexdigest()


def _stack_name(event: Mapping[str, Any]) -> str:
    stack_id = str(event.get("StackId", ""))
    parts = stack_id.split(":stack/", 1)
    return parts[1].split("/", 1)[0] if len(parts) == 2 else stack_id


def _is_missing(error: ClientError) -> bool:
    """SageMaker says ResourceNotFound; moto says ValidationException 'Could not find pipeline ...'."""
    code = error.response["Error"]["Code"]
    message = error.response["Error"].get("Message", "")
    return code == "ResourceNotFound" or (code == "ValidationException" and ("does not exist" in message or "Could not find" in message))


def _describe(client: Any, name: str) -> dict | None:
    try:
        return client.describe_pipeline(PipelineName=name)
    except ClientError as error:
        if _is_missing(error):
            return None
        raise


def _tags(client: Any, arn: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    kwargs: dict[str, Any] = {"ResourceArn": arn}
    while True:
        page = client.list_tags(**kwargs)
        tags.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
        if not page.get("NextToken"):
            return tags
        kwargs["NextToken"] = page["NextToken"]


def _settings(spec: PipelineSpec) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "PipelineName": spec.name,
        "PipelineDisplayName": spec.display_name,
        "PipelineDefinition": spec.definition,
        "RoleArn": spec.role_arn,
    }
    if spec.description:
        settings["PipelineDescription"] = spec.description
    if spec.max_parallel_steps is not None:
        settings["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": spec.max_parallel_steps}
    return settings


def _differs(current: Mapping[str, Any], spec: PipelineSpec) -> list[str]:
    """Names of the settings where the live pipeline differs from the spec."""
    changed = []
    try:
        same_definition = json.loads(current.get("PipelineDefinition", "null")) == json.loads(spec.definition)
    except json.JSONDecodeError:
        same_definition = False
    if not same_definition:
        changed.append("definition")
    if current.get("RoleArn") != spec.role_arn:
        changed.append("role")
    if (current.get("PipelineDescription") or "") != spec.description:
        changed.append("description")
    if (current.get("PipelineDisplayName") or spec.name) != spec.display_name:
        changed.append("display name")
    live_parallel = (current.get("ParallelismConfiguration") or {}).get("MaxParallelExecutionSteps")
    if live_parallel != spec.max_parallel_steps:
        changed.append("parallelism")
    return changed


def _sync_tags(client: Any, arn: str, desired: Mapping[str, str]) -> None:
    current = _tags(client, arn)
    stale = sorted(k for k in current if k not in desired and not k.startswith("aws:"))
    missing = [{"Key": k, "Value": v} for k, v in sorted(desired.items()) if current.get(k) != v]
    if stale:
        client.delete_tags(ResourceArn=arn, TagKeys=stale)
    if missing:
        client.add_tags(ResourceArn=arn, Tags=missing)


def _response(spec: PipelineSpec, arn: str, version_id: Any = None) -> dict[str, Any]:
    data = {"PipelineArn": arn, "PipelineName": spec.name, "DefinitionSha256": spec.definition_sha256}
    if version_id is not None:
        data["PipelineVersionId"] = str(version_id)
    return {"PhysicalResourceId": spec.name, "Data": data}


def create(*, client: Any, spec: PipelineSpec, event: Mapping[str, Any]) -> dict[str, Any]:
    """Create the pipeline, or adopt an existing one that this stack's tag says it owns."""
    owner = _stack_name(event)
    desired_tags = {**dict(spec.tags), MANAGED_BY_TAG: owner}
    existing = _describe(client, spec.name)
    if existing is not None:
        tags = _tags(client, existing["PipelineArn"])
        if tags.get(MANAGED_BY_TAG) != owner:
            raise RuntimeError(
                f"pipeline {spec.name} already exists and is managed by "
                f"{tags.get(MANAGED_BY_TAG, 'nobody (no ' + MANAGED_BY_TAG + ' tag)')}, not {owner}: refusing to take it over"
            )
        LOGGER.info(json.dumps({"action": "adopt", "pipeline": spec.name}))
        return update(client=client, spec=spec, current=existing, desired_tags=desired_tags)
    result = client.create_pipeline(
        **_settings(spec),
        ClientRequestToken=_token(event, "create"),
        Tags=[{"Key": k, "Value": v} for k, v in sorted(desired_tags.items())],
    )
    LOGGER.info(json.dumps({"action": "create", "pipeline": spec.name, "definitionSha256": spec.definition_sha256}))
    return _response(spec, result["PipelineArn"])


def update(*, client: Any, spec: PipelineSpec, current: Mapping[str, Any], desired_tags: Mapping[str, str]) -> dict[str, Any]:
    """Bring the live pipeline to the spec, writing nothing when it already matches."""
    changed = _differs(current, spec)
    version_id = None
    if changed:
        result = client.update_pipeline(**_settings(spec))
        version_id = result.get("PipelineVersionId")
    _sync_tags(client, current["PipelineArn"], desired_tags)
    LOGGER.info(json.dumps({"action": "update" if changed else "unchanged", "pipeline": spec.name, "changed": changed}))
    return _response(spec, current["PipelineArn"], version_id)


def _stop_running(*, client: Any, name: str, event: Mapping[str, Any]) -> list[str]:
    """Stop the pipeline's running executions: SageMaker deletes no pipeline that has one."""
    stopped = []
    paginator = client.get_paginator("list_pipeline_executions")
    for page in paginator.paginate(PipelineName=name, SortBy="CreationTime", SortOrder="Descending"):
        for summary in page.get("PipelineExecutionSummaries", []):
            if summary.get("PipelineExecutionStatus") == "Executing":
                arn = summary["PipelineExecutionArn"]
                client.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=_token(event, f"stop/{arn}"))
                stopped.append(arn)
    return stopped


def delete(
    *, client: Any, event: Mapping[str, Any], sleep: Callable[[float], None] = time.sleep, attempts: int = DELETE_ATTEMPTS
) -> dict[str, Any]:
    """Delete the pipeline named by the physical id; gone already, retained, or never created is success.

    Running executions are stopped first, and the delete is retried while they are still stopping.
    """
    physical_id = str(event.get("PhysicalResourceId", ""))
    properties = event.get("ResourceProperties", {})
    if physical_id != properties.get("PipelineName") or not PIPELINE_NAME.match(physical_id):
        LOGGER.info(json.dumps({"action": "skip-delete", "physicalId": physical_id, "why": "not a pipeline this resource created"}))
        return {"PhysicalResourceId": physical_id}
    if str(properties.get("RetainOnDelete", "false")).lower() == "true":
        LOGGER.info(json.dumps({"action": "retain", "pipeline": physical_id}))
        return {"PhysicalResourceId": physical_id}
    for attempt in range(1, attempts + 1):
        try:
            stopped = _stop_running(client=client, name=physical_id, event=event)
            client.delete_pipeline(PipelineName=physical_id, ClientRequestToken=_token(event, "delete"))
        except ClientError as error:
            if _is_missing(error):
                LOGGER.info(json.dumps({"action": "already-deleted", "pipeline": physical_id}))
                return {"PhysicalResourceId": physical_id}
            if error.response["Error"]["Code"] == "ConflictException" and attempt < attempts:
                sleep(DELETE_RETRY_SECONDS)
                continue
            raise
        LOGGER.info(json.dumps({"action": "delete", "pipeline": physical_id, "stoppedExecutions": stopped}))
        return {"PhysicalResourceId": physical_id}
    raise AssertionError("unreachable: the last attempt returns or raises")


def handle(*, event: Mapping[str, Any], client: Any, s3_client: Any | None = None) -> dict[str, Any]:
    """Dispatch one Provider-framework event with the given SageMaker client."""
    request_type = event.get("RequestType")
    if request_type == "Delete":
        return delete(client=client, event=event)
    if request_type not in ("Create", "Update"):
        raise EventError(f"RequestType is {request_type!r}: expected Create, Update or Delete")
    if not isinstance(event.get("ResourceProperties"), Mapping):
        raise EventError("ResourceProperties is missing")
    spec = parse_spec(properties=event["ResourceProperties"], s3_client=s3_client)
    if request_type == "Create" or event.get("PhysicalResourceId") != spec.name:
        # A changed name is a new physical id: CloudFormation then deletes the old pipeline.
        return create(client=client, spec=spec, event=event)
    current = _describe(client, spec.name)
    if current is None:
        return create(client=client, spec=spec, event=event)
    desired_tags = {**dict(spec.tags), MANAGED_BY_TAG: _stack_name(event)}
    return update(client=client, spec=spec, current=current, desired_tags=desired_tags)


def respond(*, event: Mapping[str, Any], client: Any) -> dict[str, Any]:
    """``handle``, with every failure turned into a reason that names the pipeline and the cause."""
    properties = event.get("ResourceProperties") if isinstance(event, Mapping) else None
    name = properties.get("PipelineName", "?") if isinstance(properties, Mapping) else "?"
    try:
        if not isinstance(event, Mapping):
            raise EventError(f"event is {type(event).__name__}, not an object")
        return handle(event=event, client=client)
    except EventError as error:
        raise RuntimeError(f"pipeline {name}: malformed custom resource event: {error}") from None
    except ClientError as error:
        details = error.response.get("Error", {})
        raise RuntimeError(
            f"pipeline {name}: SageMaker {error.operation_name} failed with {details.get('Code')}: {details.get('Message')}"
        ) from None
    except BotoCoreError as error:
        raise RuntimeError(f"pipeline {name}: could not reach SageMaker: {error}") from None


def on_event(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point for the Provider framework."""
    LOGGER.info(json.dumps({"requestType": event.get("RequestType") if isinstance(event, Mapping) else None}))
    return respond(event=event, client=boto3.client("sagemaker", config=CLIENT_CONFIG))
