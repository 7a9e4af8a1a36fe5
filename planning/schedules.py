"""The schedules an environment deploys: module declarations, cdk.json overrides, and their checks.

Every problem stops synth with a message naming the pipeline, the schedule and the field, because
EventBridge would otherwise refuse it at deploy time, or worse, start a pipeline with a bad value.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from base.config import EnvironmentConfig
from base.errors import UserError, nearest_name_hint
from planning.schedule_expressions import ScheduleExpressionError, validate

if TYPE_CHECKING:
    from pipeline_defs.contract import CompiledPipeline

SCHEDULE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
MAX_RESOURCE_NAME = 64  # EventBridge rule and Scheduler schedule names
MAX_PARAMETERS = 200  # SageMakerPipelineParameters.PipelineParameterList


class ScheduleError(UserError, ValueError):
    """A schedule EventBridge would refuse or that would start a pipeline with a bad value."""


@dataclass(frozen=True)
class PlannedSchedule:
    """One schedule as the environment will run it, parameters rendered as the strings EventBridge sends."""

    pipeline_name: str
    module_pipeline_name: str
    schedule_name: str
    expression: str
    timezone: str | None
    enabled: bool
    deployed: bool
    parameter_values: Mapping[str, str]
    skip_if_running: bool

    @property
    def resource_name(self) -> str:
        """``<pipeline>-<schedule>``: the rule or schedule name."""
        return f"{self.pipeline_name}-{self.schedule_name}"


def _fail(pipeline: str, schedule: str, field: str, message: str, source: str) -> ScheduleError:
    """``source`` says where the value was written: the module's ``SCHEDULES`` or a ``cdk.json`` override."""
    return ScheduleError(f"pipeline {pipeline}, schedule {schedule!r}, field {field}: {message} ({source})")


def _declared_in(compiled: "CompiledPipeline") -> str:
    return f"declared in {compiled.source_module} SCHEDULES"


def _overridden_in(config: EnvironmentConfig, compiled: "CompiledPipeline", schedule: str, key: str) -> str:
    return f"set in context 'environments.{config.name}.schedules.{compiled.module_pipeline_name}.{schedule}.{key}'"


def _render(*, value: Any, kind: str, pipeline: str, schedule: str, name: str, source: str) -> str:
    """The string a pipeline parameter receives, after checking the value fits the declared type."""
    field = f"parameter_values.{name}"
    if kind == "Boolean":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower()
    elif kind == "Integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            return value
    elif kind == "Float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return repr(float(value))
        if isinstance(value, str):
            try:
                float(value)
                return value
            except ValueError:
                pass
    elif kind == "String":
        if isinstance(value, str):
            return value
    else:
        return str(value)
    raise _fail(pipeline, schedule, field, f"{value!r} is not a valid {kind} value", source)


def _plan_one(*, config: EnvironmentConfig, compiled: "CompiledPipeline", schedule: Any, override: Any) -> PlannedSchedule:
    pipeline, name = compiled.pipeline_name, schedule.name
    declared_in = _declared_in(compiled)

    def source(value: Any, key: str) -> str:
        return _overridden_in(config, compiled, name, key) if value is not None else declared_in

    if not isinstance(name, str) or not SCHEDULE_NAME.match(name):
        raise _fail(pipeline, name, "name", "use letters, digits and single hyphens (EventBridge names here allow no underscores)", declared_in)
    resource = f"{pipeline}-{name}"
    if len(resource) > MAX_RESOURCE_NAME:
        raise _fail(pipeline, name, "name", f"{resource!r} is too long: {len(resource)} characters, EventBridge allows at most {MAX_RESOURCE_NAME}", declared_in)
    overridden_expression = override.expression if override else None
    expression = overridden_expression if overridden_expression is not None else schedule.expression
    try:
        validate(expression)
    except ScheduleExpressionError as error:
        raise _fail(pipeline, name, "expression", str(error), source(overridden_expression, "expression")) from None
    overridden_timezone = override.timezone if override else None
    timezone = overridden_timezone if overridden_timezone is not None else schedule.timezone
    if timezone is not None:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise _fail(pipeline, name, "timezone", f"{timezone!r} is not an IANA time zone such as 'Europe/Paris'", source(overridden_timezone, "timezone")) from None
    overridden_values = dict(override.parameter_values or {}) if override else {}
    values = {**schedule.parameter_values, **overridden_values}
    if len(values) > MAX_PARAMETERS:
        raise _fail(pipeline, name, "parameter_values", f"{len(values)} parameters; EventBridge passes at most {MAX_PARAMETERS}", declared_in)
    declared = {p.name: p.type for p in compiled.parameters}
    rendered = {}
    for key, value in sorted(values.items()):
        where = _overridden_in(config, compiled, name, f"parameterValues.{key}") if key in overridden_values else declared_in
        if key not in declared:
            raise _fail(pipeline, name, f"parameter_values.{key}", f"the pipeline declares no such parameter{nearest_name_hint(key, declared)}; it has {sorted(declared)}", where)
        rendered[key] = _render(value=value, kind=declared[key], pipeline=pipeline, schedule=name, name=key, source=where)
    enabled = override.enabled if override and override.enabled is not None else bool(schedule.enabled)
    return PlannedSchedule(
        pipeline_name=pipeline,
        module_pipeline_name=compiled.module_pipeline_name,
        schedule_name=name,
        expression=expression,
        timezone=timezone,
        enabled=enabled,
        deployed=enabled and config.schedules_enabled,
        parameter_values=MappingProxyType(rendered),
        skip_if_running=bool(schedule.skip_if_running),
    )


def plan_schedules(*, config: EnvironmentConfig, compiled: Sequence["CompiledPipeline"]) -> tuple[PlannedSchedule, ...]:
    """Every declared schedule with the environment's overrides applied and checked."""
    by_module = {c.module_pipeline_name: c for c in compiled}
    overrides = {(o.pipeline, o.schedule): o for o in config.schedule_overrides}
    for pipeline, schedule in overrides:
        where = f"context 'environments.{config.name}.schedules.{pipeline}"
        if pipeline not in by_module:
            raise ScheduleError(f"{where}' names no pipeline module{nearest_name_hint(pipeline, by_module)}; known: {sorted(by_module)}")
        declared = sorted(s.name for s in by_module[pipeline].schedules)
        if schedule not in declared:
            raise ScheduleError(f"{where}.{schedule}' names no schedule of {pipeline}{nearest_name_hint(schedule, declared)}; it declares {declared}")
    planned = []
    for item in sorted(compiled, key=lambda c: c.pipeline_name):
        names = [s.name for s in item.schedules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise _fail(item.pipeline_name, duplicates[0], "name", "declared more than once", _declared_in(item))
        for schedule in item.schedules:
            planned.append(_plan_one(config=config, compiled=item, schedule=schedule, override=overrides.get((item.module_pipeline_name, schedule.name))))
    return tuple(planned)
