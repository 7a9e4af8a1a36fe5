"""What no schema checks: the dependency graph of a definition.

Step and parameter names (unique across condition branches), every ``DependsOn`` and ``Get``
pointing at something that exists, property files declared where they are read, and no cycles.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from pipeline_defs.contract import iter_steps
from pipeline_defs.errors import DefinitionFailure

STEP_NAME_MAX_LENGTH = 64
STEP_NAME_PATTERN = re.compile(r"^[A-Za-z0-9\-_]{1,%d}$" % STEP_NAME_MAX_LENGTH)
"""SageMaker's rule for step names: letters, digits, hyphens and underscores, at most 64."""


def step_name_problem(name: object) -> str | None:
    """Why ``name`` is not a valid step name, in words, or None when it is."""
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    if len(name) > STEP_NAME_MAX_LENGTH:
        return f"is too long: {len(name)} characters, at most {STEP_NAME_MAX_LENGTH} are allowed"
    if not STEP_NAME_PATTERN.match(name):
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


def check_names(definition: dict, fail: DefinitionFailure) -> tuple[set[str], set[str]]:
    """Step names valid and unique across branches, parameter names unique; returns both sets."""
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
    return step_names, parameter_names


def check_references(
    definition: dict, fail: DefinitionFailure, *, step_names: set[str], parameter_names: set[str]
) -> dict[str, set[str]]:
    """DependsOn targets, Get of parameters/steps/property files; returns the dependency graph."""
    property_files = {
        (step["Name"], item.get("PropertyFileName"))
        for step, _ in iter_steps(definition.get("Steps", []))
        for item in step.get("PropertyFiles", []) or []
    }
    graph: dict[str, set[str]] = {}
    experiment = definition.get("PipelineExperimentConfig")
    for reference in references(experiment):
        if reference.startswith("Parameters.") and reference.split(".", 1)[1] not in parameter_names:
            raise fail(f"Get of undeclared parameter {reference!r}", field="PipelineExperimentConfig")
    for step, _ in iter_steps(definition.get("Steps", [])):
        name = step["Name"]
        edges = graph.setdefault(name, set())
        for dependency in step.get("DependsOn", []) or []:
            target = dependency if isinstance(dependency, str) else dependency.get("StepName")
            if target not in step_names:
                raise fail(f"DependsOn names a step that does not exist: {target!r}", step=name, field="DependsOn")
            if target == name:
                raise fail("step depends on itself", step=name, field="DependsOn")
            edges.add(target)
        own = step.get("Arguments") if step.get("Type") != "Condition" else {
            "Conditions": (step.get("Arguments") or {}).get("Conditions")
        }
        for reference in references(own):
            if reference.startswith("Parameters."):
                parameter = reference.split(".", 1)[1]
                if parameter not in parameter_names:
                    raise fail(f"Get of undeclared parameter {parameter!r}", step=name, field="Arguments")
            elif reference.startswith("Steps."):
                target = reference.split(".")[1].split("[")[0]
                if target not in step_names:
                    raise fail(f"reference to a step that does not exist: {reference!r}", step=name, field="Arguments")
                if target == name:
                    raise fail(f"step references its own properties: {reference!r}", step=name, field="Arguments")
                parts = reference.split(".")
                if len(parts) >= 4 and parts[2] == "PropertyFiles" and (target, parts[3]) not in property_files:
                    raise fail(f"property file {parts[3]!r} is not declared on step {target!r}", step=name, field="Arguments")
                edges.add(target)
            elif not reference.startswith("Execution."):
                raise fail(f"Get of unknown kind {reference!r}", step=name, field="Arguments")
    return graph


def check_cycles(graph: dict[str, set[str]], fail: DefinitionFailure) -> None:
    """No step depends on itself through other steps."""
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycle = path[path.index(target):] + [target] if target in path else [node, target]
                raise fail(f"dependency cycle: {' -> '.join(cycle)}", step=node, field="DependsOn")
            if state.get(target) is None:
                visit(target, path + [target])
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node, [node])
