"""The custom resource event as a typed request: what the pipeline should be, and who asks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from handler_kit import PIPELINE_NAME, PIPELINE_NAME_ALLOWED, Fields
from pipeline_upsert.definition import assemble_definition


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


def parse_request(*, event: Any) -> UpsertRequest | DeleteRequest:
    """The Provider-framework event as a typed request; a bad event raises RequestError naming the field."""
    fields = Fields.of(event=event)
    request_type = fields.text(key="RequestType", allowed="Create, Update or Delete")
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
    )
