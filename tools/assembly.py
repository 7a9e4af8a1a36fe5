"""A synthesized ``cdk.out`` read back, per environment: its stacks and the pipelines they deploy.

The one reader of the commands that compare a synth with something else (review: another synth;
drift: the account). Only manifests, templates and the definition files the synth writes are read,
so neither needs CDK, credentials or the code that produced the output. A pipeline's definition comes
from its ``Custom::SageMakerPipeline`` resource's split properties (``Head``, ``StepOrder``,
``Steps``) or, for a definition sent as an S3 asset, from ``pipeline-definitions/<pipeline>.json``.
Deploy-time values stay ``${Name}`` placeholders, each with the CloudFormation expression it stands for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

from base.errors import UserError
from base.naming import PIPELINE_RESOURCE_TYPE
from pipeline_defs.contract import NESTED_STEPS, iter_steps
from planning.review_files import REVIEW_DIRECTORY

ADOPT_FROM_PROPERTY = "AdoptFrom"
"""Pipeline resource property naming the stacks its pipeline may be handed over from."""


class AssemblyReadError(UserError):
    """The directory is not a cloud assembly this app wrote (bad input); the message names the file."""


@dataclass(frozen=True)
class SynthesizedStack:
    """One stack: its name, its CLI selector (``<env>/<Id>``), its template file and target (``aws://account/region``)."""

    name: str
    selector: str
    template_path: Path
    template: dict[str, Any] = field(repr=False)
    environment: str = "aws://unknown-account/unknown-region"

    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {})


@dataclass(frozen=True)
class PipelineDefinition:
    """One deployed pipeline as the template describes it, with ``${Name}`` placeholders unresolved.

    ``definition`` is the whole document (condition branches and ForEach bodies nested, as deployed);
    ``properties`` are the resource's other properties (role, tags, ``AdoptFrom``...) without the
    service token.
    """

    name: str
    stack: str
    logical_id: str
    definition: dict[str, Any]
    substitutions: dict[str, Any]
    properties: dict[str, Any]

    @cached_property
    def head(self) -> dict[str, Any]:
        """The definition without its steps: parameters and settings."""
        return {key: value for key, value in self.definition.items() if key != "Steps"}

    @cached_property
    def steps(self) -> dict[str, dict[str, Any]]:
        """Every step by name, condition branches and ForEach bodies flattened (see :func:`flatten_steps`)."""
        return flatten_steps(self.definition.get("Steps") or [])

    @property
    def adopt_from(self) -> tuple[str, ...]:
        """Stacks this pipeline moves from: one of them may still own it until the move is deployed."""
        return tuple(str(name) for name in self.properties.get(ADOPT_FROM_PROPERTY) or ())


@dataclass(frozen=True)
class SynthesizedEnvironment:
    name: str
    directory: Path
    stacks: dict[str, SynthesizedStack]
    _pipelines: dict[str, PipelineDefinition] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Read on first use: every caller needs them all, and a review of 500 pipelines asks several times."""

    def pipelines(self) -> dict[str, PipelineDefinition]:
        """Every pipeline of every stack of the environment, by name; one name in two stacks is refused."""
        if self._pipelines:
            return self._pipelines
        found: dict[str, PipelineDefinition] = {}
        for stack in self.stacks.values():
            for logical_id, resource in stack.resources().items():
                if resource.get("Type") != PIPELINE_RESOURCE_TYPE:
                    continue
                pipeline = read_pipeline(
                    stack=stack, logical_id=logical_id, properties=resource.get("Properties", {}), directory=self.directory
                )
                if pipeline.name in found:
                    raise AssemblyReadError(
                        f"{self.directory}: pipeline {pipeline.name} is deployed by both stack {found[pipeline.name].stack} "
                        f"and stack {stack.name}: a pipeline has one owning stack"
                    )
                found[pipeline.name] = pipeline
        self._pipelines.update(found)
        return self._pipelines

    def own_stacks(self) -> dict[str, str]:
        """Stack name → the pipeline it is the own stack of: it holds that pipeline alone and none moves from it."""
        pipelines = self.pipelines().values()
        moved_from = {stack for pipeline in pipelines for stack in pipeline.adopt_from}
        by_stack: dict[str, list[str]] = {}
        for pipeline in pipelines:
            by_stack.setdefault(pipeline.stack, []).append(pipeline.name)
        return {stack: names[0] for stack, names in by_stack.items() if len(names) == 1 and stack not in moved_from}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AssemblyReadError(f"cannot read {path}: {error}") from None


def _stage_directories(*, outdir: Path) -> dict[str, Path]:
    """Environment name → its stage assembly directory (``assembly-<env>``)."""
    manifest_path = outdir / "manifest.json"
    if not manifest_path.is_file():
        raise AssemblyReadError(f"{outdir} is not a synthesized cloud assembly (no manifest.json)")
    stages = {}
    for artifact_id, artifact in sorted(_read_json(manifest_path).get("artifacts", {}).items()):
        if artifact.get("type") == "cdk:cloud-assembly":
            name = artifact.get("displayName") or artifact_id.removeprefix("assembly-")
            stages[name] = outdir / artifact["properties"]["directoryName"]
    return stages


def load_environments(*, outdir: Path) -> dict[str, SynthesizedEnvironment]:
    """Every stage assembly under ``outdir``, keyed by environment name."""
    return {
        name: SynthesizedEnvironment(name=name, directory=directory, stacks=_load_stacks(directory))
        for name, directory in _stage_directories(outdir=Path(outdir)).items()
    }


def load_environment(*, outdir: Path, name: str, hint: str) -> SynthesizedEnvironment:
    """One environment of ``outdir``; a missing one names those there are, then ``hint``."""
    outdir = Path(outdir)
    try:
        stages = _stage_directories(outdir=outdir)
    except AssemblyReadError as error:
        raise AssemblyReadError(f"{error}: {hint}") from None
    if name not in stages:
        found = ", ".join(sorted(stages)) or "none"
        raise AssemblyReadError(f"{outdir} has no assembly of environment {name!r} (it has: {found}): {hint}")
    return SynthesizedEnvironment(name=name, directory=stages[name], stacks=_load_stacks(stages[name]))


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
            name=name,
            selector=artifact.get("displayName", artifact_id),
            template_path=path,
            template=_read_json(path),
            environment=artifact.get("environment", SynthesizedStack.environment),
        )
    return stacks


def _sub_parts(value: Any, *, where: str) -> tuple[str, dict[str, Any]]:
    """The text and the variables of a string that may be wrapped in ``Fn::Sub``."""
    if isinstance(value, str):
        return value, {}
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        body = value["Fn::Sub"]
        if isinstance(body, str):
            return body, {}
        return body[0], dict(body[1])
    raise AssemblyReadError(f"{where}: expected a JSON string or an Fn::Sub of one, got {json.dumps(value)[:200]}")


def flatten_steps(steps: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Steps by name; the steps a step holds (condition branches, a ForEach body) are replaced by their names.

    A change inside a branch or a body then reads once, as a change of that step, not also of the
    step holding it.
    """
    flat: dict[str, dict[str, Any]] = {}
    for step, _ in iter_steps(steps):
        nested = NESTED_STEPS.get(step.get("Type"), ())
        if nested:
            arguments = dict(step.get("Arguments") or {})
            for key in nested:
                arguments[key] = [s.get("Name") for s in arguments.get(key) or []]
            step = {**step, "Arguments": arguments}
        flat[step["Name"]] = step
    return flat


def read_definition(*, properties: Mapping[str, Any], directory: Path, where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The definition document a pipeline resource deploys and the expressions of its placeholders."""
    name = properties.get("PipelineName")
    parts = properties.get("Definition")
    if not isinstance(parts, dict):
        raise AssemblyReadError(f"{where}: property Definition is missing")
    if "S3Bucket" in parts:
        return _read_json(directory / REVIEW_DIRECTORY / f"{name}.json"), dict(parts.get("Substitutions") or {})
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
        raise AssemblyReadError(f"{where}: Definition is not the Head/StepOrder/Steps this app writes ({error})") from None
    document["Steps"] = steps
    return document, variables


def read_pipeline(*, stack: SynthesizedStack, logical_id: str, properties: dict[str, Any], directory: Path) -> PipelineDefinition:
    """The pipeline a ``Custom::SageMakerPipeline`` resource deploys, inline or from its definition file."""
    where = f"{stack.template_path.name} resource {logical_id}"
    name = properties.get("PipelineName")
    if not isinstance(name, str):
        raise AssemblyReadError(f"{where}: property PipelineName is {name!r}, expected a string")
    definition, substitutions = read_definition(properties=properties, directory=directory, where=where)
    return PipelineDefinition(
        name=name,
        stack=stack.name,
        logical_id=logical_id,
        definition=definition,
        substitutions=substitutions,
        properties={k: v for k, v in properties.items() if k not in ("Definition", "ServiceToken")},
    )
