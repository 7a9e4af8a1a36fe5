"""The custom resource event as a typed request: what the pipeline should be, and who asks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from handler_kit import PIPELINE_NAME, PIPELINE_NAME_ALLOWED, Fields
from pipeline_upsert.definition import assemble_definition
from pipeline_upsert.job_files import JobFiles


@dataclass(frozen=True)
class DefinitionObject:
    """A definition too large for template properties: its S3 object and the placeholder values to fill in."""

    bucket: str
    key: str
    substitutions: Mapping[str, Any]


@dataclass(frozen=True)
class PipelineSettings:
    """Everything about the pipeline except its definition, from ResourceProperties."""

    name: str
    role_arn: str
    description: str
    display_name: str
    tags: tuple[tuple[str, str], ...]
    max_parallel_steps: int | None


@dataclass(frozen=True)
class UpsertRequest:
    """A Create or Update event: the pipeline as it should be, and the request that asks for it."""

    request_type: str
    stack_id: str
    request_id: str
    physical_id: str | None
    pipeline: PipelineSettings
    definition: str | DefinitionObject
    job_files: JobFiles | None = None
    adopt_from: tuple[str, ...] = ()
    """Stacks that may hand this pipeline over to the requesting stack (explicit, never implied)."""


@dataclass(frozen=True)
class HandoverRequest:
    """Move every pipeline this stack owns, named with ``pipeline_prefix``, to its own per-pipeline stack.

    One constant-size resource in the environment's shared stack; its Create or Update runs before
    CloudFormation's cleanup deletes the pipeline resources the stack no longer holds.
    """

    stack_id: str
    request_id: str
    pipeline_prefix: str
    resource_prefix: str


@dataclass(frozen=True)
class DeleteRequest:
    """A Delete event; ``pipeline_name`` is the properties' name, which the physical id must equal."""

    stack_id: str
    request_id: str
    physical_id: str
    pipeline_name: str | None
    retain: bool


def _delete_request(*, event: Fields) -> DeleteRequest:
    """Read leniently: the properties may be those of a Create that failed validation, and a failing
    Delete would leave the stack stuck; only a pipeline this resource created is ever touched."""
    properties = event.values.get("ResourceProperties")
    properties = properties if isinstance(properties, Mapping) else {}
    name = properties.get("PipelineName")
    return DeleteRequest(
        stack_id=event.text(key="StackId", allowed="the stack's ARN"),
        request_id=event.text(key="RequestId", allowed="CloudFormation's request id"),
        physical_id=str(event.values.get("PhysicalResourceId", "")),
        pipeline_name=name if isinstance(name, str) else None,
        retain=str(properties.get("RetainOnDelete", "false")).lower() == "true",
    )


HANDOVER_RESOURCE_TYPE = "Custom::SageMakerPipelineHandover"
"""A copy of ``base.naming.HANDOVER_RESOURCE_TYPE`` (this code ships alone); a test compares them."""


def _handover_request(*, event: Fields) -> HandoverRequest:
    properties = event.object(key="ResourceProperties")
    return HandoverRequest(
        stack_id=event.text(key="StackId", allowed="the stack's ARN"),
        request_id=event.text(key="RequestId", allowed="CloudFormation's request id"),
        pipeline_prefix=properties.text(key="PipelineNamePrefix", allowed="the environment's pipeline name prefix, e.g. 'smp-prod-'"),
        resource_prefix=properties.text(key="ResourcePrefix", allowed="the environment's resource prefix, e.g. 'smp-prod'"),
    )


def _stack_names(*, properties: Fields, key: str) -> tuple[str, ...]:
    value = properties.values.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise properties.fail(key=key, problem=f"is {value!r}", allowed="a list of stack names")
    return tuple(value)


def _job_files(*, properties: Fields) -> JobFiles | None:
    if "JobFiles" not in properties.values:
        return None
    files = properties.object(key="JobFiles", allowed="S3Bucket, S3Key and Bucket")
    return JobFiles(
        source_bucket=files.text(key="S3Bucket", allowed="the asset bucket"),
        source_key=files.text(key="S3Key", allowed="the asset's object key"),
        destination_bucket=files.text(key="Bucket", allowed="the environment's artifact bucket"),
    )


def parse_request(*, event: Any) -> UpsertRequest | DeleteRequest | HandoverRequest | None:
    """The Provider-framework event as a typed request; a bad event raises RequestError naming the field.

    None: a handover resource is being deleted, which changes nothing.
    """
    fields = Fields.of(event=event)
    request_type = fields.text(key="RequestType", allowed="Create, Update or Delete")
    if fields.values.get("ResourceType") == HANDOVER_RESOURCE_TYPE:
        return None if request_type == "Delete" else _handover_request(event=fields)
    if request_type == "Delete":
        return _delete_request(event=fields)
    if request_type not in ("Create", "Update"):
        raise fields.fail(key="RequestType", problem=f"is {request_type!r}", allowed="Create, Update or Delete")
    properties = fields.object(key="ResourceProperties")
    name = properties.text(key="PipelineName", pattern=PIPELINE_NAME, allowed=PIPELINE_NAME_ALLOWED)
    parts = properties.object(key="Definition", allowed="Head, StepOrder and Steps, or S3Bucket, S3Key and Substitutions")
    if "S3Bucket" in parts.values:
        substitutions = parts.object(key="Substitutions").values if "Substitutions" in parts.values else {}
        definition: str | DefinitionObject = DefinitionObject(
            bucket=parts.text(key="S3Bucket", allowed="a bucket name"), key=parts.text(key="S3Key", allowed="an object key"), substitutions=substitutions
        )
    else:
        definition = assemble_definition(parts=parts.values)
    # Checked now, so that a typo fails this deploy rather than deciding a later delete.
    properties.flag(key="RetainOnDelete", default=False)
    pipeline = PipelineSettings(
        name=name,
        role_arn=properties.text(key="RoleArn", allowed="the ARN of the pipeline's execution role"),
        description=properties.text(key="Description", default=""),
        display_name=(properties.text(key="DisplayName", default="") or name)[:256],
        tags=tuple(sorted(properties.pairs(key="Tags", names=("Key", "Value"), default=()))),
        max_parallel_steps=properties.integer(key="MaxParallelExecutionSteps", minimum=1, default=None),
    )
    return UpsertRequest(
        request_type=request_type,
        stack_id=fields.text(key="StackId", allowed="the stack's ARN"),
        request_id=fields.text(key="RequestId", allowed="CloudFormation's request id"),
        physical_id=fields.text(key="PhysicalResourceId", default=None),
        pipeline=pipeline,
        definition=definition,
        job_files=_job_files(properties=properties),
        adopt_from=_stack_names(properties=properties, key="AdoptFrom"),
    )
