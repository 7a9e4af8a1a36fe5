"""A synthesized ``cdk.out`` read back for review: per environment, its stacks and pipeline definitions.

Only the manifests, templates and the definition files the pipelines stack writes are read, so a
review can compare two outputs without CDK, credentials or the code that produced them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from base.errors import UserError
from base.naming import PIPELINE_RESOURCE_TYPE
from pipeline_defs.contract import CONDITION_BRANCHES, iter_steps



class AssemblyReadError(UserError):
    """The directory is not a cloud assembly this app wrote (bad input); the message names the file."""


@dataclass(frozen=True)
class SynthesizedStack:
    """One stack: its name, its CLI selector (``<env>/<Id>``) and its template file."""

    name: str
    selector: str
    template_path: Path
    template: dict[str, Any] = field(repr=False)

    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {})


@dataclass(frozen=True)
class PipelineDefinition:
    """One deployed pipeline as the template describes it, with ``${Name}`` placeholders unresolved.

    ``steps`` has every step by name, condition branches flattened (their ``IfSteps`` and
    ``ElseSteps`` become name lists), so a change inside a branch reads as a change of that step.
    """

    name: str
    stack: str
    logical_id: str
    head: dict[str, Any]
    steps: dict[str, dict[str, Any]]
    substitutions: dict[str, Any]
    properties: dict[str, Any]


@dataclass(frozen=True)
class SynthesizedEnvironment:
    name: str
    directory: Path
    stacks: dict[str, SynthesizedStack]

    def pipelines(self) -> dict[str, PipelineDefinition]:
        found: dict[str, PipelineDefinition] = {}
        for stack in self.stacks.values():
            for logical_id, resource in stack.resources().items():
                if resource.get("Type") == PIPELINE_RESOURCE_TYPE:
                    pipeline = read_pipeline(
                        stack=stack, logical_id=logical_id, properties=resource.get("Properties", {}), directory=self.directory
                    )
                    found[pipeline.name] = pipeline
        return found


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AssemblyReadError(f"cannot read {path}: {error}") from error


def load_environments(*, outdir: Path) -> dict[str, SynthesizedEnvironment]:
    """Every stage assembly under ``outdir`` (``assembly-<env>``), keyed by environment name."""
    outdir = Path(outdir)
    manifest = _read_json(outdir / "manifest.json")
    environments: dict[str, SynthesizedEnvironment] = {}
    for artifact_id, artifact in sorted(manifest.get("artifacts", {}).items()):
        if artifact.get("type") != "cdk:cloud-assembly":
            continue
        directory = outdir / artifact["properties"]["directoryName"]
        name = artifact.get("displayName") or artifact_id.removeprefix("assembly-")
        environments[name] = SynthesizedEnvironment(name=name, directory=directory, stacks=_load_stacks(directory))
    return environments


def _load_stacks(directory: Path) -> dict[str, SynthesizedStack]:
    manifest = _read_json(directory / "manifest.json")
    stacks = {}
    for artifact_id, artifact in sorted(manifest.get("artifacts", {}).items()):
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        properties = artifact["properties"]
        path = directory / properties["templateFile"]
        name = properties.get("stackName", artifact_id)
        stacks[name] = SynthesizedStack(
            name=name, selector=artifact.get("displayName", artifact_id), template_path=path, template=_read_json(path)
        )
    return stacks


def _sub_parts(value: Any) -> tuple[str, dict[str, Any]]:
    """The text and variables of a string that may be wrapped in ``Fn::Sub``."""
    if isinstance(value, str):
        return value, {}
    if isinstance(value, dict) and "Fn::Sub" in value:
        body = value["Fn::Sub"]
        if isinstance(body, str):
            return body, {}
        return body[0], dict(body[1])
    raise AssemblyReadError(f"expected a string or Fn::Sub, got {json.dumps(value)[:200]}")


def flatten_steps(steps: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Steps by name; a condition's branches are replaced by the names of their steps."""
    flat: dict[str, dict[str, Any]] = {}
    for step, _ in iter_steps(steps):
        if step.get("Type") == "Condition":
            arguments = dict(step.get("Arguments") or {})
            for branch in CONDITION_BRANCHES:
                arguments[branch] = [s.get("Name") for s in arguments.get(branch) or []]
            step = {**step, "Arguments": arguments}
        flat[step["Name"]] = step
    return flat


def read_pipeline(*, stack: SynthesizedStack, logical_id: str, properties: dict[str, Any], directory: Path) -> PipelineDefinition:
    """The pipeline a ``Custom::SageMakerPipeline`` resource deploys, inline or from its definition file."""
    name = properties.get("PipelineName", logical_id)
    definition = properties.get("Definition") or {}
    substitutions: dict[str, Any] = {}
    if "Head" in definition:
        head_text, head_vars = _sub_parts(definition["Head"])
        substitutions.update(head_vars)
        head = json.loads(head_text)
        ordered = []
        for step_name in definition.get("StepOrder", sorted(definition.get("Steps", {}))):
            text, variables = _sub_parts(definition["Steps"][step_name])
            substitutions.update(variables)
            ordered.append(json.loads(text))
    else:
        path = directory / "pipeline-files" / f"{name}.definition.json"
        document = _read_json(path)
        substitutions.update(definition.get("Substitutions") or {})
        ordered = document.pop("Steps", [])
        head = document
    others = {k: v for k, v in properties.items() if k not in ("Definition", "ServiceToken")}
    return PipelineDefinition(
        name=name,
        stack=stack.name,
        logical_id=logical_id,
        head=head,
        steps=flatten_steps(ordered),
        substitutions=substitutions,
        properties=others,
    )
