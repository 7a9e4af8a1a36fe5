"""Checks of an environment's settings against its compiled pipelines: what neither alone can decide.

Run by :func:`planning.compilation.compile_pipelines` before anything is written, so a setting that
names a pipeline the environment does not have stops synth instead of being ignored.
"""

from __future__ import annotations

import functools
import json
from datetime import date
from typing import TYPE_CHECKING, Sequence

from base.config import ConfigError, EnvironmentConfig
from base.errors import nearest_name_hint
from base.expiry import has_lapsed
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.schedules import Schedule

if TYPE_CHECKING:
    from pipeline_defs.contract import CompiledPipeline
    from planning.schedules import PlannedSchedule


def check_isolation_exemption_settings(*, config: EnvironmentConfig, compiled: Sequence["CompiledPipeline"]) -> None:
    """Every ``networkIsolationExemptions`` entry is the full name of one of the environment's pipelines.

    An entry naming no pipeline would loosen the environment's network-isolation Deny for a name
    nobody deploys yet, and hide the typo that kept the intended pipeline isolated.
    """
    known = sorted(item.pipeline_name for item in compiled)
    for index, exemption in enumerate(config.network_isolation_exemptions):
        entry = exemption.pipeline
        if entry in known:
            continue
        full = config.resource_prefix + "-" + entry
        hint = f" (did you mean {full!r}? entries are full pipeline names)" if full in known else nearest_name_hint(entry, known)
        raise ConfigError(
            f"context 'environments.{config.name}.networkIsolationExemptions[{index}].pipeline' is {entry!r}, which is not a "
            f"pipeline of environment {config.name}{hint}: expected one of {known}"
        )


def check_exemption_expiry(*, config: EnvironmentConfig, compiled: Sequence["CompiledPipeline"], today: date) -> None:
    """No exemption, declared by a module or in the settings, has lapsed: each holds through its ``expires`` day.

    ``today`` is the UTC date synth runs on (tests pass their own); it decides whether synth goes
    on, never what it writes.
    """
    renew = "ask its owner to review it and set a later 'expires', or remove it"
    for item in sorted(compiled, key=lambda c: c.source_module):
        for exemption in item.guardrail_exemptions:
            if has_lapsed(expires=exemption.expires, today=today):
                raise PipelineDefinitionError(
                    f"GUARDRAIL_EXEMPTIONS: {exemption.describe()} (owner {exemption.owner!r}) lapsed: it held through "
                    f"{exemption.expires} and today is {today.isoformat()} (UTC); {renew}",
                    module_file=item.source_module,
                    pipeline=item.pipeline_name,
                    field="GUARDRAIL_EXEMPTIONS",
                )
    for index, setting in enumerate(config.network_isolation_exemptions):
        if has_lapsed(expires=setting.expires, today=today):
            raise ConfigError(
                f"context 'environments.{config.name}.networkIsolationExemptions[{index}]', the network-isolation exemption "
                f"of {setting.pipeline} (owner {setting.owner!r}), lapsed: it held through {setting.expires} and today is "
                f"{today.isoformat()} (UTC); {renew}"
            )

def check_override_instance_types(
    *, config: EnvironmentConfig, compiled: Sequence["CompiledPipeline"], schedules: Sequence["PlannedSchedule"]
) -> None:
    """Values a ``cdk.json`` schedule override passes to a parameter that gives an instance type are in
    the environment's allowlist.

    The compile checks a module's own defaults and schedule values; an override is known only here.
    Without this, the schedule would start executions whose jobs IAM refuses at run time.
    """
    overridden = {(o.pipeline, o.schedule) for o in config.schedule_overrides if o.parameter_values}
    if not overridden:
        return
    from pipeline_defs.validation.guardrails import check_guardrails  # loads the validators only when needed

    by_module = {item.module_pipeline_name: item for item in compiled}
    for planned in schedules:
        if (planned.module_pipeline_name, planned.schedule_name) not in overridden:
            continue
        item = by_module[planned.module_pipeline_name]
        schedule = Schedule(name=planned.schedule_name, expression=planned.expression, parameter_values=dict(planned.parameter_values))
        try:
            check_guardrails(
                json.loads(item.definition),
                functools.partial(PipelineDefinitionError, pipeline=item.pipeline_name),
                exemptions=item.guardrail_exemptions,
                cost_tag_key=config.cost_tag_key,
                allowed_instance_types=config.allowed_instance_types,
                platform=None,
                schedules=(schedule,),
            )
        except PipelineDefinitionError as error:
            raise ConfigError(
                f"context 'environments.{config.name}.schedules.{planned.module_pipeline_name}.{planned.schedule_name}"
                f".parameterValues' (environment {config.name}, pipeline {item.pipeline_name}, schedule "
                f"{planned.schedule_name!r}, step {error.step!r}, field {error.field}): {error.reason}"
            ) from error
