"""Instance-hours a pipeline can use: the most one execution can, and per month under its schedules.

Read from the compiled definition alone (the synth summary and the review both have it, neither
needs prices): each job step's instance type and count times its longest run, by instance family.
A job without a run-time limit of its own (a Processing step without ``StoppingCondition``, a
Transform step) counts at the environment's ``maxJobRuntimeHours``, the longest any job may run.
Both branches of a condition count, and retries do not: the figure bounds what the definition
asks for, not what a run will spend.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator, Mapping, Sequence

from pipeline_defs.contract import NESTED_STEPS
from planning.schedule_expressions import ScheduleExpressionError, runs_per_month

UNRESOLVED = "(unresolved)"
"""The family of an instance type only known at run time (a step property, not a parameter)."""

_JOB_RESOURCES: Mapping[str, tuple[str, ...]] = {
    "Training": ("ResourceConfig",),
    "Processing": ("ProcessingResources", "ClusterConfig"),
    "QualityCheck": ("ProcessingResources", "ClusterConfig"),
    "ClarifyCheck": ("ProcessingResources", "ClusterConfig"),
    "Transform": ("TransformResources",),
}
"""Where each job step type holds its instance type and count (a tuning job: its training job definition)."""


@dataclass(frozen=True)
class InstanceHours:
    """Instance-hours by family (``ml.m5``); ``per_item`` for ForEach bodies whose item count is only known at run time."""

    by_family: Mapping[str, float] = field(default_factory=dict)
    per_item: Mapping[str, float] = field(default_factory=dict)

    def __add__(self, other: InstanceHours) -> InstanceHours:
        return InstanceHours(by_family=_sum(self.by_family, other.by_family), per_item=_sum(self.per_item, other.per_item))

    def times(self, factor: float) -> InstanceHours:
        return InstanceHours(
            by_family={k: v * factor for k, v in self.by_family.items()}, per_item={k: v * factor for k, v in self.per_item.items()}
        )

    def flat(self) -> dict[str, float]:
        """Families and per-item families (``ml.m5 per item``) in one mapping, for comparing two estimates."""
        return {**self.by_family, **{f"{family} per item": hours for family, hours in self.per_item.items()}}

    def text(self, *, unit: str) -> str:
        """``ml.m5 25 h/run, ml.g4dn 1 h/run + ml.m5 2 h/run per item``, or ``none``."""
        parts = [f"{family} {hours_text(hours)} h{unit}" for family, hours in sorted(self.by_family.items()) if hours]
        items = [f"{family} {hours_text(hours)} h{unit} per item" for family, hours in sorted(self.per_item.items()) if hours]
        return ", ".join(parts) + (" + " if parts and items else "") + ", ".join(items) if parts or items else "none"


@dataclass(frozen=True)
class ScheduledRuns:
    """One schedule as far as cost goes: how often, with which parameter values, and whether it runs at all."""

    expression: str
    parameter_values: Mapping[str, Any]
    enabled: bool


@dataclass(frozen=True)
class PipelineCost:
    per_execution: InstanceHours
    """One execution with the parameters' defaults."""
    per_month: InstanceHours
    """Every enabled schedule's runs in an average month, each with its own parameter values."""
    capped_steps: tuple[str, ...] = ()
    """Steps counted at the environment's run-time cap: they set no limit of their own."""

    def text(self) -> str:
        capped = f" ({', '.join(self.capped_steps)} at the run-time cap)" if self.capped_steps else ""
        return f"{self.per_execution.text(unit='/run')}; {self.per_month.text(unit='/month')}{capped}"


def hours_text(hours: float) -> str:
    """``24``, ``0.5``, ``1,460``: at most one decimal, none when whole."""
    rounded = round(hours, 1)
    return f"{rounded:,.0f}" if rounded == int(rounded) else f"{rounded:,.1f}"


def instance_family(instance_type: Any) -> str:
    """``ml.m5.xlarge`` → ``ml.m5``; anything else is :data:`UNRESOLVED`."""
    if isinstance(instance_type, str) and instance_type.count(".") == 2:
        return instance_type.rsplit(".", 1)[0]
    return UNRESOLVED


def _sum(first: Mapping[str, float], second: Mapping[str, float]) -> dict[str, float]:
    total: dict[str, float] = defaultdict(float, first)
    for key, value in second.items():
        total[key] += value
    return dict(total)


def _resolve(value: Any, *, parameters: Mapping[str, Any]) -> Any:
    """A literal, or the value of the parameter a ``{"Get": "Parameters.X"}`` names; None otherwise."""
    if isinstance(value, dict):
        reference = value.get("Get")
        if set(value) == {"Get"} and isinstance(reference, str) and reference.startswith("Parameters."):
            return parameters.get(reference.removeprefix("Parameters."))
        return None
    return value


def _number(value: Any) -> float | None:
    """A number, or the string a schedule passes for one (``"3"``); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _dig(arguments: Mapping[str, Any], path: Sequence[str]) -> Mapping[str, Any]:
    for key in path:
        arguments = arguments.get(key) or {}
    return arguments


def _instances(resources: Mapping[str, Any], *, parameters: Mapping[str, Any]) -> Iterator[tuple[str, float]]:
    """(family, instance count) of a resource config, its instance groups included."""
    groups = resources.get("InstanceGroups") or [resources]
    for group in groups:
        count = _number(_resolve(group.get("InstanceCount", 1), parameters=parameters))
        yield instance_family(_resolve(group.get("InstanceType"), parameters=parameters)), 1.0 if count is None else count


def _step_hours(step: Mapping[str, Any], *, parameters: Mapping[str, Any], cap_seconds: int) -> tuple[dict[str, float], bool]:
    """Instance-hours of one step and whether it counted at the cap; ({}, False) for steps that start no job."""
    arguments = step.get("Arguments") or {}
    jobs = 1.0
    if step.get("Type") == "Tuning":
        definition = arguments.get("TrainingJobDefinition") or {}
        limits = _dig(arguments, ("HyperParameterTuningJobConfig", "ResourceLimits"))
        jobs = _number(_resolve(limits.get("MaxNumberOfTrainingJobs", 1), parameters=parameters)) or 1.0
        resources, stopping = definition.get("ResourceConfig") or {}, definition.get("StoppingCondition") or {}
    elif step.get("Type") in _JOB_RESOURCES:
        resources, stopping = _dig(arguments, _JOB_RESOURCES[step["Type"]]), arguments.get("StoppingCondition") or {}
    else:
        return {}, False
    limit = _number(_resolve(stopping.get("MaxRuntimeInSeconds"), parameters=parameters))
    capped = limit is None
    seconds = cap_seconds if limit is None else min(limit, cap_seconds)
    hours: dict[str, float] = defaultdict(float)
    for family, count in _instances(resources, parameters=parameters):
        hours[family] += count * jobs * seconds / 3600
    return dict(hours), capped


def _item_count(step: Mapping[str, Any], *, parameters: Mapping[str, Any]) -> int | None:
    """How many items a ForEach step runs its body for, when a literal or a parameter's value says."""
    items = _resolve((step.get("Arguments") or {}).get("IterableItems"), parameters=parameters)
    if isinstance(items, str):
        try:
            items = json.loads(items)
        except ValueError:
            return None
    return len(items) if isinstance(items, list) else None


def _walk(steps: Sequence[Mapping[str, Any]], *, parameters: Mapping[str, Any], cap_seconds: int, items: int | None, capped: list[str]) -> InstanceHours:
    """Hours of ``steps`` run ``items`` times (None: once per item, count unknown)."""
    total = InstanceHours()
    for step in steps:
        hours, at_cap = _step_hours(step, parameters=parameters, cap_seconds=cap_seconds)
        if at_cap and hours:
            capped.append(step["Name"])
        if hours:
            total = total + (InstanceHours(per_item=hours) if items is None else InstanceHours(by_family=hours).times(items))
        for key in NESTED_STEPS.get(step.get("Type"), ()):
            body = (step.get("Arguments") or {}).get(key) or []
            inner = items
            if step.get("Type") == "ForEach":
                count = _item_count(step, parameters=parameters)
                inner = None if count is None or items is None else count * items
            total = total + _walk(body, parameters=parameters, cap_seconds=cap_seconds, items=inner, capped=capped)
    return total


def execution_hours(
    definition: Mapping[str, Any], *, parameter_values: Mapping[str, Any] | None = None, cap_seconds: int
) -> tuple[InstanceHours, tuple[str, ...]]:
    """The most instance-hours one execution can use, and the steps counted at ``cap_seconds``."""
    parameters = {p["Name"]: p.get("DefaultValue") for p in definition.get("Parameters") or []}
    parameters.update(parameter_values or {})
    capped: list[str] = []
    hours = _walk(definition.get("Steps") or [], parameters=parameters, cap_seconds=cap_seconds, items=1, capped=capped)
    return hours, tuple(dict.fromkeys(capped))


def pipeline_cost(*, definition: Mapping[str, Any], schedules: Sequence[ScheduledRuns], cap_seconds: int, now: datetime) -> PipelineCost:
    """Per execution (defaults) and per month (each enabled schedule's runs with its parameter values)."""
    per_execution, capped = execution_hours(definition, cap_seconds=cap_seconds)
    per_month = InstanceHours()
    for schedule in schedules:
        if not schedule.enabled:
            continue
        try:
            runs = runs_per_month(schedule.expression, after=now)
        except ScheduleExpressionError:
            continue
        hours, _ = execution_hours(definition, parameter_values=schedule.parameter_values, cap_seconds=cap_seconds)
        per_month = per_month + hours.times(runs)
    return PipelineCost(per_execution=per_execution, per_month=per_month, capped_steps=capped)


def _changed(old: InstanceHours, new: InstanceHours, *, unit: str) -> str:
    before, after = old.flat(), new.flat()
    return ", ".join(
        f"{family} {hours_text(before.get(family, 0))} → {hours_text(after.get(family, 0))} h{unit}"
        for family in sorted(set(before) | set(after))
        if hours_text(before.get(family, 0)) != hours_text(after.get(family, 0))
    )


def cost_change_text(old: PipelineCost, new: PipelineCost) -> str | None:
    """``ml.m5 49 → 73 h/run; ml.m5 1,490 → 2,220 h/month``: the families whose figures differ, or None."""
    parts = [text for text in (_changed(old.per_execution, new.per_execution, unit="/run"), _changed(old.per_month, new.per_month, unit="/month")) if text]
    return "; ".join(parts) or None
