"""Schedules of a synthesized stack as a reviewer reads them: expression, time zone, state, parameters by name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from planning.summary import next_run_text

SCHEDULE_TYPE = "AWS::Scheduler::Schedule"
NEXT_RUNS = 3


@dataclass(frozen=True)
class DeployedSchedule:
    """One ``AWS::Scheduler::Schedule`` resource: what starts the pipeline, when, with which parameter values."""

    name: str
    expression: str
    timezone: str | None
    enabled: bool
    parameters: Mapping[str, str]


def _parameters(target: Mapping[str, Any]) -> dict[str, str]:
    """Parameter values by name, sent directly or through the overlap guard's input (``skip_if_running``)."""
    listed = (target.get("SageMakerPipelineParameters") or {}).get("PipelineParameterList")
    if listed is None and isinstance(target.get("Input"), str):
        try:
            listed = json.loads(target["Input"]).get("parameters")
        except (ValueError, AttributeError):
            listed = None
    return {str(p.get("Name")): p.get("Value") for p in listed or [] if isinstance(p, dict)}


def read_schedule(*, logical_id: str, resource: Mapping[str, Any]) -> DeployedSchedule | None:
    """The schedule a resource deploys, or None for any other resource."""
    properties = resource.get("Properties") or {}
    if resource.get("Type") != SCHEDULE_TYPE or not isinstance(properties.get("ScheduleExpression"), str):
        return None
    return DeployedSchedule(
        name=str(properties.get("Name") or logical_id),
        expression=properties["ScheduleExpression"],
        timezone=properties.get("ScheduleExpressionTimezone"),
        enabled=properties.get("State", "ENABLED") == "ENABLED",
        parameters=_parameters(properties.get("Target") or {}),
    )


def stack_schedules(resources: Mapping[str, Mapping[str, Any]]) -> dict[str, DeployedSchedule]:
    """Every schedule of a stack's resources, by logical id."""
    found = {logical_id: read_schedule(logical_id=logical_id, resource=r) for logical_id, r in resources.items()}
    return {logical_id: schedule for logical_id, schedule in found.items() if schedule is not None}


def _parameters_text(parameters: Mapping[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in sorted(parameters.items())) or "none (the defaults)"


def schedule_lines(schedule: DeployedSchedule, *, now: datetime) -> list[str]:
    """The whole schedule, one fact a line: for a schedule added or removed."""
    runs = next_run_text(expression=schedule.expression, timezone_name=schedule.timezone, now=now, count=NEXT_RUNS)
    return [
        f"expression: {schedule.expression}",
        f"time zone: {schedule.timezone or 'UTC'}",
        f"state: {'enabled' if schedule.enabled else 'disabled'}",
        f"parameters: {_parameters_text(schedule.parameters)}",
        f"next runs: {runs}" if schedule.enabled else "next runs: none (disabled)",
    ]


def schedule_change_lines(old: DeployedSchedule, new: DeployedSchedule, *, now: datetime) -> list[str]:
    """What differs, parameters by name; the next runs again when the timing changed."""
    lines = []
    if old.expression != new.expression:
        lines.append(f"expression: {old.expression} → {new.expression}")
    if old.timezone != new.timezone:
        lines.append(f"time zone: {old.timezone or 'UTC'} → {new.timezone or 'UTC'}")
    if old.enabled != new.enabled:
        lines.append(f"state: {'enabled' if old.enabled else 'disabled'} → {'enabled' if new.enabled else 'disabled'}")
    for name in sorted(set(old.parameters) | set(new.parameters)):
        before, after = old.parameters.get(name), new.parameters.get(name)
        if before != after:
            shown = [json.dumps(v) if v is not None else "(default)" for v in (before, after)]
            lines.append(f"parameter {name}: {shown[0]} → {shown[1]}")
    if lines[:1] and (old.expression, old.timezone, old.enabled) != (new.expression, new.timezone, new.enabled) and new.enabled:
        lines.append(f"next runs: {next_run_text(expression=new.expression, timezone_name=new.timezone, now=now, count=NEXT_RUNS)}")
    return lines
