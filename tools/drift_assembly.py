"""What one environment's ``cdk.out`` says each SageMaker pipeline should be, for the drift check.

Reads the nested stage assembly ``assembly-<env>/``: every ``Custom::SageMakerPipeline`` resource of
its stacks (name, settings, tags) and its definition, from the template's split properties or, for
a definition sent as an S3 asset, from ``pipeline-definitions/<pipeline>.json``. Deploy-time values
stay as ``${Name}`` placeholders, each with the CloudFormation expression it stands for, because
only the account knows most of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from base.errors import UserError
from base.naming import MANAGED_BY_TAG, PIPELINE_RESOURCE_TYPE
from planning.review_files import REVIEW_DIRECTORY

ROLE_PLACEHOLDER = "RoleArn"
"""The role is an expression in the template; it is compared like a ``${RoleArn}`` placeholder."""


class AssemblyError(UserError):
    """``cdk.out`` lacks the environment or is not one this app wrote; the message names the file."""


@dataclass(frozen=True)
class SynthesizedPipeline:
    """One pipeline as the template deploys it, with deploy-time values left as ``${Name}``.

    ``settings`` and ``definition`` use the field names DescribePipeline answers with, ``tags`` are
    the ones ListTags should answer; ``variables`` maps each placeholder that CloudFormation fills
    from an expression to that expression.
    """

    name: str
    stack_name: str
    definition: dict[str, Any]
    settings: dict[str, Any]
    tags: dict[str, str]
    variables: dict[str, Any] = field(default_factory=dict)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AssemblyError(f"cannot read {path}: {error}") from None


def environment_directory(*, assembly: Path, environment: str) -> Path:
    """The stage assembly of ``environment`` inside ``assembly`` (a ``cdk.out``)."""
    hint = f"run `make synth ENV={environment}` first"
    manifest_path = Path(assembly) / "manifest.json"
    if not manifest_path.is_file():
        raise AssemblyError(f"{assembly} is not a synthesized cloud assembly (no manifest.json): {hint}")
    stages = {}
    for artifact_id, artifact in _read_json(manifest_path).get("artifacts", {}).items():
        if artifact.get("type") == "cdk:cloud-assembly":
            properties = artifact.get("properties", {})
            stages[properties.get("displayName") or artifact_id.removeprefix("assembly-")] = properties["directoryName"]
    if environment not in stages:
        found = ", ".join(sorted(stages)) or "none"
        raise AssemblyError(f"{assembly} has no assembly of environment {environment!r} (it has: {found}): {hint}")
    return Path(assembly) / stages[environment]


def _sub_parts(value: Any, *, where: str) -> tuple[str, dict[str, Any]]:
    """The text and the variables of a string that may be wrapped in ``Fn::Sub``."""
    if isinstance(value, str):
        return value, {}
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        body = value["Fn::Sub"]
        if isinstance(body, str):
            return body, {}
        return body[0], dict(body[1])
    raise AssemblyError(f"{where}: expected a JSON string or an Fn::Sub of one, got {json.dumps(value)[:200]}")


def _definition(*, properties: Mapping[str, Any], directory: Path, where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The definition document and the expressions of its placeholders."""
    name = properties["PipelineName"]
    parts = properties.get("Definition")
    if not isinstance(parts, dict):
        raise AssemblyError(f"{where}: property Definition is missing")
    if "S3Bucket" in parts:
        document = _read_json(directory / REVIEW_DIRECTORY / f"{name}.json")
        return document, dict(parts.get("Substitutions") or {})
    variables: dict[str, Any] = {}
    try:
        head_text, head_variables = _sub_parts(parts["Head"], where=f"{where} Definition.Head")
        variables.update(head_variables)
        document = json.loads(head_text)
        steps = []
        for step in parts["StepOrder"]:
            text, step_variables = _sub_parts(parts["Steps"][step], where=f"{where} Definition.Steps.{step}")
            variables.update(step_variables)
            steps.append(json.loads(text))
    except (KeyError, TypeError, ValueError) as error:
        raise AssemblyError(f"{where}: Definition is not the Head/StepOrder/Steps this app writes ({error})") from None
    document["Steps"] = steps
    return document, variables


def _pipeline(*, properties: Mapping[str, Any], stack_name: str, directory: Path, where: str) -> SynthesizedPipeline:
    """The pipeline one resource deploys, in the upsert handler's terms (``lambda_src/pipeline_upsert``)."""
    name = properties.get("PipelineName")
    if not isinstance(name, str):
        raise AssemblyError(f"{where}: property PipelineName is {name!r}, expected a string")
    definition, variables = _definition(properties=properties, directory=directory, where=where)
    role = properties.get("RoleArn")
    settings: dict[str, Any] = {"PipelineDisplayName": str(properties.get("DisplayName", name))[:256]}
    if isinstance(role, str):
        settings["RoleArn"] = role
    else:
        settings["RoleArn"] = "${" + ROLE_PLACEHOLDER + "}"
        variables[ROLE_PLACEHOLDER] = role
    if properties.get("Description"):
        settings["PipelineDescription"] = str(properties["Description"])
    if properties.get("MaxParallelExecutionSteps") not in (None, ""):
        settings["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": int(properties["MaxParallelExecutionSteps"])}
    # The upsert handler adds the owner tag to the template's.
    tags = {**{str(tag["Key"]): tag["Value"] for tag in properties.get("Tags") or []}, MANAGED_BY_TAG: stack_name}
    return SynthesizedPipeline(
        name=name, stack_name=stack_name, definition=definition, settings=settings, tags=tags, variables=variables
    )


def read_pipelines(*, assembly: Path, environment: str) -> list[SynthesizedPipeline]:
    """Every pipeline the environment's stacks deploy, by name."""
    directory = environment_directory(assembly=assembly, environment=environment)
    found: dict[str, SynthesizedPipeline] = {}
    for artifact_id, artifact in sorted(_read_json(directory / "manifest.json").get("artifacts", {}).items()):
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template_path = directory / artifact["properties"]["templateFile"]
        stack_name = artifact["properties"].get("stackName", artifact_id)
        for logical_id, resource in _read_json(template_path).get("Resources", {}).items():
            if resource.get("Type") == PIPELINE_RESOURCE_TYPE:
                pipeline = _pipeline(
                    properties=resource.get("Properties", {}),
                    stack_name=stack_name,
                    directory=directory,
                    where=f"{template_path.name} resource {logical_id}",
                )
                found[pipeline.name] = pipeline
    return [found[name] for name in sorted(found)]
