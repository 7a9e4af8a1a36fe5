"""What a pipeline's definition runs, as its execution role must be granted it: step types and the
EMR clusters and EMR Serverless applications its steps name.

A role is granted a step type's actions only when its definition holds a step of that type, and
an EMR step's actions only on the clusters (applications) synth can see: a literal id, or every
value of the parameter giving it (its default and each schedule's value, overrides included).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Iterable

from pipeline_defs.contract import iter_steps
from pipeline_defs.errors import PipelineDefinitionError
from planning.schedules import PlannedSchedule

if TYPE_CHECKING:
    from pipeline_defs.contract import CompiledPipeline

EMR_CLUSTER_FIELD = ("EMR", "ClusterId")
EMR_SERVERLESS_APPLICATION_FIELD = ("EMRServerless", "ApplicationId")


def step_types(compiled: "CompiledPipeline") -> tuple[str, ...]:
    """Every step type the definition holds, nested steps (condition branches, ForEach bodies) included."""
    steps = json.loads(compiled.definition).get("Steps", [])
    return tuple(sorted({step.get("Type") for step, _ in iter_steps(steps)}))


def referenced_ids(
    compiled: "CompiledPipeline", *, step_field: tuple[str, str], schedules: Iterable[PlannedSchedule]
) -> tuple[str, ...]:
    """The ids the steps of type ``step_field[0]`` give in field ``step_field[1]``, each value they can take."""
    kind, field = step_field
    definition = json.loads(compiled.definition)
    defaults = {p.get("Name"): p.get("DefaultValue") for p in definition.get("Parameters", [])}
    schedules = tuple(schedules)
    found: set[str] = set()
    for step, _ in iter_steps(definition.get("Steps", [])):
        if step.get("Type") != kind:
            continue
        value = (step.get("Arguments") or {}).get(field)
        target = value.get("Get") if isinstance(value, dict) else None
        if isinstance(value, str) and value:
            found.add(value)
        elif isinstance(target, str) and target.startswith("Parameters.") and defaults.get(target.split(".", 1)[1]):
            name = target.split(".", 1)[1]
            found.add(str(defaults[name]))
            found.update(s.parameter_values[name] for s in schedules if name in s.parameter_values)
        else:
            raise PipelineDefinitionError(
                f"{field} is {value!r}: the execution role is granted only the {field}s synth can see; give a literal "
                "or a pipeline parameter with a default (schedules may pass other values)",
                module_file=compiled.source_module,
                pipeline=compiled.pipeline_name,
                step=step.get("Name"),
                field=field,
            )
    return tuple(sorted(found))
