"""One environment's plan: settings, compiled pipelines, schedules and exemptions, before any construct.

The stacks render a plan and nothing else; nothing flows back from the plan into the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from base.config import EnvironmentConfig
from pipeline_defs.schedules import Guardrail
from planning.compilation import compile_pipelines
from planning.schedules import PlannedSchedule, plan_schedules

if TYPE_CHECKING:
    from pipeline_defs.contract import CompiledPipeline

@dataclass(frozen=True)
class EnvironmentPlan:
    """Everything one environment's stage renders."""

    config: EnvironmentConfig
    pipelines: tuple["CompiledPipeline", ...]
    schedules: tuple[PlannedSchedule, ...]
    network_isolation_exempt: tuple[str, ...]
    """Full pipeline names whose jobs may run without network isolation: the settings' plus the modules'."""


def isolation_exempt_pipelines(*, config: EnvironmentConfig, compiled: Sequence["CompiledPipeline"]) -> tuple[str, ...]:
    """The settings' exemptions plus every pipeline whose module declares a network-isolation exemption."""
    declared = {
        item.pipeline_name
        for item in compiled
        if any(exemption.guardrail is Guardrail.NETWORK_ISOLATION for exemption in item.guardrail_exemptions)
    }
    return tuple(sorted(set(config.network_isolation_exemptions) | declared))


def plan_environment(*, config: EnvironmentConfig, compiled: Sequence["CompiledPipeline"] | None = None) -> EnvironmentPlan:
    """Compile (unless ``compiled`` is given), plan schedules and collect exemptions for ``config``."""
    pipelines = tuple(compiled) if compiled is not None else compile_pipelines(config=config)
    return EnvironmentPlan(
        config=config,
        pipelines=pipelines,
        schedules=plan_schedules(config=config, compiled=pipelines),
        network_isolation_exempt=isolation_exempt_pipelines(config=config, compiled=pipelines),
    )
