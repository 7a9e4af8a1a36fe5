"""Custom resource handler that creates, updates and deletes one SageMaker pipeline.

Runs behind ``aws_cdk.custom_resources.Provider`` (``on_event``): the return value is the Provider
framework's response, a raised exception becomes a FAILED response whose reason CloudFormation shows.
Standard library, ``handler_kit`` and the runtime's boto3 only, so no bundling step is needed.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from handler_kit import PIPELINE_NAME, RequestError, idempotency_token, log_action, logger_for
from pipeline_upsert.definition import FIELD as DEFINITION_FIELD
from pipeline_upsert.definition import definition_from_object
from pipeline_upsert.job_files import deploy_job_files
from pipeline_upsert.ownership import MANAGED_BY_TAG, MODULE_TAG, pipeline_stack_name, stack_name
from pipeline_upsert.request import DefinitionObject, DeleteRequest, HandoverRequest, PipelineSettings, UpsertRequest, parse_request

# The stack tests reassemble and serialize definitions with the handler's own copies, through this module.
from pipeline_upsert.definition import assemble_definition, canonical_json  # noqa: F401

LOGGER = logger_for(name="pipeline_upsert")

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


@dataclass(frozen=True)
class PipelineSpec:
    """The pipeline as it should be, its definition assembled."""

    settings: PipelineSettings
    definition: str

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def definition_sha256(self) -> str:
        return hashlib.sha256(self.definition.encode()).hexdigest()


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
        "PipelineDisplayName": spec.settings.display_name,
        "PipelineDefinition": spec.definition,
        "RoleArn": spec.settings.role_arn,
    }
    if spec.settings.description:
        settings["PipelineDescription"] = spec.settings.description
    if spec.settings.max_parallel_steps is not None:
        settings["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": spec.settings.max_parallel_steps}
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
    if current.get("RoleArn") != spec.settings.role_arn:
        changed.append("role")
    if (current.get("PipelineDescription") or "") != spec.settings.description:
        changed.append("description")
    if (current.get("PipelineDisplayName") or spec.name) != spec.settings.display_name:
        changed.append("display name")
    live_parallel = (current.get("ParallelismConfiguration") or {}).get("MaxParallelExecutionSteps")
    if live_parallel != spec.settings.max_parallel_steps:
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


def _definition_text(*, definition: str | DefinitionObject, s3_client: Any | None) -> str:
    """The assembled definition: given in the properties, or read from S3 and its placeholders filled."""
    if isinstance(definition, DefinitionObject):
        client = s3_client or boto3.client("s3", config=CLIENT_CONFIG)
        body = client.get_object(Bucket=definition.bucket, Key=definition.key)["Body"].read().decode()
        definition = definition_from_object(substitutions=definition.substitutions, text=body)
    if len(definition) > MAX_DEFINITION_CHARACTERS:
        raise RequestError(
            field=DEFINITION_FIELD, problem=f"assembles to {len(definition)} characters", allowed=f"at most {MAX_DEFINITION_CHARACTERS} (SageMaker's limit)"
        )
    return definition


def create(*, client: Any, spec: PipelineSpec, request: UpsertRequest) -> dict[str, Any]:
    """Create the pipeline, or adopt an existing one this stack owns or that a named stack hands over."""
    owner = stack_name(stack_id=request.stack_id)
    desired_tags = {**dict(spec.settings.tags), MANAGED_BY_TAG: owner}
    existing = _describe(client, spec.name)
    if existing is not None:
        current_owner = _tags(client, existing["PipelineArn"]).get(MANAGED_BY_TAG)
        if current_owner != owner and current_owner not in request.adopt_from:
            raise RuntimeError(
                f"pipeline {spec.name} already exists and is managed by "
                f"{current_owner or 'nobody (no ' + MANAGED_BY_TAG + ' tag)'}, not {owner}: refusing to take it over"
            )
        log_action(logger=LOGGER, action="adopt", pipeline=spec.name, previousOwner=current_owner)
        return update(client=client, spec=spec, current=existing, desired_tags=desired_tags)
    result = client.create_pipeline(
        **_settings(spec),
        ClientRequestToken=idempotency_token(stack_id=request.stack_id, request_id=request.request_id, purpose="create"),
        Tags=[{"Key": k, "Value": v} for k, v in sorted(desired_tags.items())],
    )
    log_action(logger=LOGGER, action="create", pipeline=spec.name, definitionSha256=spec.definition_sha256)
    return _response(spec, result["PipelineArn"])


def update(*, client: Any, spec: PipelineSpec, current: Mapping[str, Any], desired_tags: Mapping[str, str]) -> dict[str, Any]:
    """Bring the live pipeline to the spec, writing nothing when it already matches."""
    changed = _differs(current, spec)
    version_id = None
    if changed:
        result = client.update_pipeline(**_settings(spec))
        version_id = result.get("PipelineVersionId")
    _sync_tags(client, current["PipelineArn"], desired_tags)
    log_action(logger=LOGGER, action="update" if changed else "unchanged", pipeline=spec.name, changed=changed)
    return _response(spec, current["PipelineArn"], version_id)


def upsert(*, request: UpsertRequest, client: Any, s3_client: Any | None = None) -> dict[str, Any]:
    """Deploy the job files, then create or update the pipeline; ``s3_client`` reads and writes S3 (made when needed)."""
    spec = PipelineSpec(settings=request.pipeline, definition=_definition_text(definition=request.definition, s3_client=s3_client))
    if request.job_files is not None:
        s3_client = s3_client or boto3.client("s3", config=CLIENT_CONFIG)
        written = deploy_job_files(job_files=request.job_files, pipeline_name=spec.name, s3_client=s3_client)
        log_action(logger=LOGGER, action="job-files", pipeline=spec.name, files=len(written))
    if request.request_type == "Create" or request.physical_id != spec.name:
        # A changed name is a new physical id: CloudFormation then deletes the old pipeline.
        return create(client=client, spec=spec, request=request)
    current = _describe(client, spec.name)
    if current is None:
        return create(client=client, spec=spec, request=request)
    desired_tags = {**dict(spec.settings.tags), MANAGED_BY_TAG: stack_name(stack_id=request.stack_id)}
    return update(client=client, spec=spec, current=current, desired_tags=desired_tags)


def hand_over(*, client: Any, request: HandoverRequest) -> dict[str, Any]:
    """Retag every pipeline this stack owns (named with the prefix) to the stack its module now deploys it from.

    Runs before CloudFormation deletes the old pipeline resources of this stack; their Delete then
    finds another owner and leaves the pipelines, with their executions history, in place.
    """
    owner = stack_name(stack_id=request.stack_id)
    moved = []
    for page in client.get_paginator("list_pipelines").paginate(PipelineNamePrefix=request.pipeline_prefix):
        for summary in page.get("PipelineSummaries", []):
            name, arn = summary["PipelineName"], summary["PipelineArn"]
            tags = _tags(client, arn)
            if not name.startswith(request.pipeline_prefix) or tags.get(MANAGED_BY_TAG) != owner or not tags.get(MODULE_TAG):
                continue
            target = pipeline_stack_name(resource_prefix=request.resource_prefix, module_pipeline_name=tags[MODULE_TAG])
            client.add_tags(ResourceArn=arn, Tags=[{"Key": MANAGED_BY_TAG, "Value": target}])
            moved.append(name)
            log_action(logger=LOGGER, action="hand-over", pipeline=name, fromStack=owner, toStack=target)
    return {"PhysicalResourceId": f"{owner}-handover", "Data": {"HandedOver": str(len(moved))}}


def _stop_running(*, client: Any, request: DeleteRequest) -> list[str]:
    """Stop the pipeline's running executions: SageMaker deletes no pipeline that has one."""
    stopped = []
    paginator = client.get_paginator("list_pipeline_executions")
    for page in paginator.paginate(PipelineName=request.physical_id, SortBy="CreationTime", SortOrder="Descending"):
        for summary in page.get("PipelineExecutionSummaries", []):
            if summary.get("PipelineExecutionStatus") == "Executing":
                arn = summary["PipelineExecutionArn"]
                token = idempotency_token(stack_id=request.stack_id, request_id=request.request_id, purpose=f"stop/{arn}")
                client.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token)
                stopped.append(arn)
    return stopped


def delete(
    *, client: Any, request: DeleteRequest, sleep: Callable[[float], None] = time.sleep, attempts: int = DELETE_ATTEMPTS
) -> dict[str, Any]:
    """Delete the pipeline named by the physical id; gone already, retained, or never created is success.

    Running executions are stopped first, and the delete is retried while they are still stopping.
    """
    name = request.physical_id
    if name != request.pipeline_name or not PIPELINE_NAME.fullmatch(name):
        log_action(logger=LOGGER, action="skip-delete", physicalId=name, why="not a pipeline this resource created")
        return {"PhysicalResourceId": name}
    if request.retain:
        log_action(logger=LOGGER, action="retain", pipeline=name)
        return {"PhysicalResourceId": name}
    current = _describe(client, name)
    if current is None:
        log_action(logger=LOGGER, action="already-deleted", pipeline=name)
        return {"PhysicalResourceId": name}
    owner = _tags(client, current["PipelineArn"]).get(MANAGED_BY_TAG)
    if owner is not None and owner != stack_name(stack_id=request.stack_id):
        # Moved to another stack: deleting it would take its executions history with it.
        log_action(logger=LOGGER, action="skip-delete", pipeline=name, why="managed by another stack", owner=owner)
        return {"PhysicalResourceId": name}
    token = idempotency_token(stack_id=request.stack_id, request_id=request.request_id, purpose="delete")
    for attempt in range(1, attempts + 1):
        try:
            stopped = _stop_running(client=client, request=request)
            client.delete_pipeline(PipelineName=name, ClientRequestToken=token)
        except ClientError as error:
            if _is_missing(error):
                log_action(logger=LOGGER, action="already-deleted", pipeline=name)
                return {"PhysicalResourceId": name}
            if error.response["Error"]["Code"] == "ConflictException" and attempt < attempts:
                sleep(DELETE_RETRY_SECONDS)
                continue
            raise
        log_action(logger=LOGGER, action="delete", pipeline=name, stoppedExecutions=stopped)
        return {"PhysicalResourceId": name}
    raise AssertionError("unreachable: the last attempt returns or raises")


def handle(*, event: Any, client: Any, s3_client: Any | None = None) -> dict[str, Any]:
    """Parse one Provider-framework event and carry it out with the given SageMaker (and S3) client."""
    request = parse_request(event=event)
    if request is None:
        return {"PhysicalResourceId": str(event.get("PhysicalResourceId", ""))}
    if isinstance(request, HandoverRequest):
        return hand_over(client=client, request=request)
    if isinstance(request, DeleteRequest):
        return delete(client=client, request=request)
    return upsert(request=request, client=client, s3_client=s3_client)


def respond(*, event: Any, client: Any) -> dict[str, Any]:
    """``handle``, with every failure turned into a reason that names the pipeline and the cause."""
    properties = event.get("ResourceProperties") if isinstance(event, Mapping) else None
    name = properties.get("PipelineName", "?") if isinstance(properties, Mapping) else "?"
    try:
        return handle(event=event, client=client)
    except RequestError as error:
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
    log_action(logger=LOGGER, action="event", requestType=event.get("RequestType") if isinstance(event, Mapping) else None)
    return respond(event=event, client=boto3.client("sagemaker", config=CLIENT_CONFIG))
