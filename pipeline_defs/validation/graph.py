"""What no schema checks: the dependency graph of a definition.

Step and parameter names (unique across nested steps), every ``DependsOn`` and ``Get`` pointing
at something that exists, property files declared where they are read, ForEach items read only
in a ForEach body, and no cycles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from pipeline_defs.contract import NESTED_STEPS, iter_steps
from pipeline_defs.errors import DefinitionFailure

STEP_NAME_MAX_LENGTH = 64
STEP_NAME_PATTERN = re.compile(r"[A-Za-z0-9\-_]{1,%d}" % STEP_NAME_MAX_LENGTH)
"""SageMaker's rule for step names: letters, digits, hyphens and underscores, at most 64 (the whole name: ``fullmatch``)."""


def step_name_problem(name: object) -> str | None:
    """Why ``name`` is not a valid step name, in words, or None when it is."""
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    if len(name) > STEP_NAME_MAX_LENGTH:
        return f"is too long: {len(name)} characters, at most {STEP_NAME_MAX_LENGTH} are allowed"
    if not STEP_NAME_PATTERN.fullmatch(name):
        bad = sorted({c for c in name if not re.match(r"[A-Za-z0-9\-_]", c)})
        return f"contains {''.join(bad)!r}: only letters, digits, hyphens and underscores are allowed"
    return None


def iter_nodes(value: Any) -> Iterator[Any]:
    """``value`` and every dict, list and scalar nested in it, depth first."""
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from iter_nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_nodes(item)


def references(value: Any) -> Iterator[str]:
    """Every ``{"Get": "..."}`` target inside ``value``."""
    for node in iter_nodes(value):
        if isinstance(node, dict) and isinstance(node.get("Get"), str):
            yield node["Get"]


def check_names(definition: dict, fail: DefinitionFailure) -> set[str]:
    """Step names valid and unique across branches, parameter names unique; returns the parameter names."""
    step_names: set[str] = set()
    for step, _ in iter_steps(definition.get("Steps", [])):
        name = step.get("Name")
        problem = step_name_problem(name)
        if problem:
            raise fail(f"step name {name!r} {problem}", step=str(name), field="Name")
        if name in step_names:
            raise fail(f"duplicate step name {name!r}: step names must be unique in a pipeline, condition branches included", step=name, field="Name")
        step_names.add(name)
    parameter_names: set[str] = set()
    for parameter in definition.get("Parameters", []):
        name = parameter.get("Name")
        if name in parameter_names:
            raise fail(f"duplicate parameter name {name!r}", field=f"Parameters/{name}")
        parameter_names.add(name)
    return parameter_names


@dataclass(frozen=True)
class _Names:
    """What a reference may name: steps (with their type and the step holding them), parameters,
    property files."""

    step_types: dict[str, str]
    holders: dict[str, str | None]
    parameters: set[str]
    property_files: set[tuple[str, str]]

    def in_for_each_body(self, step: str) -> bool:
        holder = self.holders.get(step)
        return holder is not None and self.step_types.get(holder) == "ForEach"


def own_arguments(step: dict) -> Any:
    """A step's arguments without the steps it holds (they are checked as steps of their own)."""
    arguments = step.get("Arguments") or {}
    nested = NESTED_STEPS.get(step.get("Type"))
    if not nested:
        return arguments
    return {key: value for key, value in arguments.items() if key not in nested}


def _reference_target(reference: str, *, step: dict, names: _Names, fail: DefinitionFailure) -> str | None:
    """The step a ``Get`` of ``step`` makes it depend on (None for none); raises for a bad reference."""
    name = step["Name"]
    kind, _, rest = reference.partition(".")
    if kind == "Parameters":
        if rest not in names.parameters:
            raise fail(f"Get of undeclared parameter {rest!r}", step=name, field="Arguments")
        return None
    if kind == "Execution":
        return None
    if kind == "ForEach" and names.in_for_each_body(name):
        return None
    if kind == "IterationOutput" and step.get("Type") == "ForEach":
        body = re.split(r"[.\[]", rest)[0]
        if names.holders.get(body) != name:
            raise fail(f"{reference!r} must name a step of this ForEach body", step=name, field="Arguments.Selector")
        return None
    if kind != "Steps":
        where = "a ForEach body" if kind == "ForEach" else "a ForEach selector" if kind == "IterationOutput" else None
        detail = f" (only valid in {where})" if where else ""
        raise fail(f"Get of unknown kind {reference!r}{detail}", step=name, field="Arguments")
    target = rest.split(".")[0].split("[")[0]
    if target not in names.step_types:
        raise fail(f"reference to a step that does not exist: {reference!r}", step=name, field="Arguments")
    if target == name:
        raise fail(f"step references its own properties: {reference!r}", step=name, field="Arguments")
    parts = reference.split(".")
    if len(parts) >= 4 and parts[2] == "PropertyFiles" and (target, parts[3]) not in names.property_files:
        raise fail(f"property file {parts[3]!r} is not declared on step {target!r}", step=name, field="Arguments")
    return target


def _depends_on(step: dict, *, names: _Names, fail: DefinitionFailure) -> set[str]:
    targets = set()
    for dependency in step.get("DependsOn") or []:
        target = dependency if isinstance(dependency, str) else dependency.get("StepName") or dependency.get("Step")
        if target not in names.step_types:
            raise fail(f"DependsOn names a step that does not exist: {target!r}", step=step["Name"], field="DependsOn")
        if target == step["Name"]:
            raise fail("step depends on itself", step=step["Name"], field="DependsOn")
        targets.add(target)
    return targets


def check_references(definition: dict, fail: DefinitionFailure, *, parameter_names: set[str]) -> dict[str, set[str]]:
    """DependsOn targets, Get of parameters/steps/property files/ForEach items; returns the dependency graph."""
    steps = list(iter_steps(definition.get("Steps", [])))
    names = _Names(
        step_types={step["Name"]: step.get("Type") for step, _ in steps},
        holders={step["Name"]: holder for step, holder in steps},
        parameters=parameter_names,
        property_files={(step["Name"], item.get("PropertyFileName")) for step, _ in steps for item in step.get("PropertyFiles") or []},
    )
    for reference in references(definition.get("PipelineExperimentConfig")):
        if reference.startswith("Parameters.") and reference.split(".", 1)[1] not in parameter_names:
            raise fail(f"Get of undeclared parameter {reference!r}", field="PipelineExperimentConfig")
    graph: dict[str, set[str]] = {}
    for step, _ in steps:
        edges = graph.setdefault(step["Name"], set())
        edges.update(_depends_on(step, names=names, fail=fail))
        for reference in references(own_arguments(step)):
            target = _reference_target(reference, step=step, names=names, fail=fail)
            if target is not None:
                edges.add(target)
    _check_for_each_child_names(names, fail)
    return graph


def _check_for_each_child_names(names: _Names, fail: DefinitionFailure) -> None:
    """The service names a ForEach body step's children ``<body step>-<index>``: no other step may."""
    body = {step for step in names.holders if names.in_for_each_body(step)}
    for step in names.step_types:
        stem, _, index = step.rpartition("-")
        if stem in body and index.isdigit():
            raise fail(
                f"step name {step!r} collides with the children of ForEach body step {stem!r} "
                f"(named {stem}-0, {stem}-1, ...)",
                step=step,
                field="Name",
            )


def check_cycles(graph: dict[str, set[str]], fail: DefinitionFailure) -> None:
    """No step depends on itself through other steps (each step walked once: linear in the edges)."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            if target in path:
                cycle = path[path.index(target):] + [target]
                raise fail(f"dependency cycle: {' -> '.join(cycle)}", step=node, field="DependsOn")
            visit(target, path + [target])
        done.add(node)

    for node in sorted(graph):
        visit(node, [node])
