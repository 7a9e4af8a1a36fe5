"""A pipeline definition as a Mermaid flowchart, for the README, a pull request or a review.

Edges come from what makes SageMaker order the steps: ``DependsOn``, property references
(``{"Get": "Steps.<name>..."}``, including property files of ``Std:JsonGet``), condition
branches, labelled ``if`` and ``else``, and a ForEach body, labelled ``each``. The text depends
only on the definition.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from pipeline_defs.contract import NESTED_STEPS, iter_steps

STEP_REFERENCE = re.compile(r"^Steps\.([A-Za-z0-9_-]+)")
NESTED_LABELS = {"IfSteps": "if", "ElseSteps": "else", "ForEachBody": "each"}
NESTED_KEYS = frozenset(key for keys in NESTED_STEPS.values() for key in keys)


def _references(value: Any) -> Iterator[str]:
    """Names of the steps whose properties ``value`` reads (steps it holds excluded)."""
    if isinstance(value, dict):
        for key, child in value.items():
            if key in NESTED_KEYS:
                continue
            if key == "Get" and isinstance(child, str):
                match = STEP_REFERENCE.match(child)
                if match:
                    yield match.group(1)
            else:
                yield from _references(child)
    elif isinstance(value, list):
        for child in value:
            yield from _references(child)


def _label(text: str) -> str:
    return text.replace('"', "#quot;")


def _node(node_id: str, step: dict[str, Any]) -> str:
    kind = step.get("Type", "?")
    label = f'"{_label(step["Name"])}<br/><i>{_label(kind)}</i>"'
    if kind == "Condition":
        return f"  {node_id}{{{label}}}"
    if kind == "Fail":
        return f"  {node_id}([{label}])"
    return f"  {node_id}[{label}]"


def definition_to_mermaid(definition: dict[str, Any]) -> str:
    """``flowchart TD`` text of one pipeline definition: one node per step, labelled with its type."""
    steps = [step for step, _ in iter_steps(definition.get("Steps") or [])]
    ids = {}
    for step in steps:
        ids.setdefault(step["Name"], f"s{len(ids)}")
    edges: set[tuple[str, str, str]] = set()
    for step in steps:
        target = step["Name"]
        sources = [*(step.get("DependsOn") or []), *_references({k: v for k, v in step.items() if k != "DependsOn"})]
        edges.update((source, target, "") for source in sources if source in ids and source != target)
        arguments = step.get("Arguments") or {}
        for key in NESTED_STEPS.get(step.get("Type"), ()):
            edges.update((target, child["Name"], NESTED_LABELS[key]) for child in arguments.get(key) or [])
    labelled = {(source, target) for source, target, label in edges if label}
    edges = {edge for edge in edges if edge[2] or (edge[0], edge[1]) not in labelled}
    order = {name: int(node_id[1:]) for name, node_id in ids.items()}
    lines = ["flowchart TD"]
    lines += [_node(ids[name], step) for name, step in {s["Name"]: s for s in reversed(steps)}.items()][::-1]
    for source, target, label in sorted(edges, key=lambda e: (order[e[0]], order[e[1]], e[2])):
        arrow = f"-->|{label}|" if label else "-->"
        lines.append(f"  {ids[source]} {arrow} {ids[target]}")
    return "\n".join(lines) + "\n"
