"""One environment's plan: settings, compiled pipelines, schedules and exemptions, before any construct.

The stacks render a plan and nothing else; nothing flows back from the plan into the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Mapping, Sequence

from base.config import EnvironmentConfig
from base.naming import construct_id, execution_role_name, pipeline_stack_name
from pipeline_defs import placeholders
from pipeline_defs.schedules import Guardrail
from planning.access import PipelineAccess, code_prefixes, pipeline_access
from planning.checks import check_exemption_expiry, check_override_instance_types
from planning.compilation import compile_pipelines
from planning.schedules import PlannedSchedule, plan_schedules
from planning.step_resources import EMR_CLUSTER_FIELD, EMR_SERVERLESS_APPLICATION_FIELD, referenced_ids, step_types

if TYPE_CHECKING:
    from pipeline_defs.contract import CompiledPipeline


@dataclass(frozen=True)
class PipelinePlan:
    """One pipeline as its own stack renders it: the unit of deployment, least privilege and review."""

    compiled: "CompiledPipeline"
    schedules: tuple[PlannedSchedule, ...]
    stack_name: str
    construct_id: str
    role_name: str
    lambda_functions: tuple[str, ...]
    """Lambda step functions its definition invokes (keys of ``placeholders.LAMBDA_FUNCTION_ARNS``)."""
    network_isolation_exempt: bool
    access: PipelineAccess
    step_types: tuple[str, ...]
    """Step types its definition holds: its role is granted those steps' actions and no others."""
    emr_clusters: tuple[str, ...]
    """Ids of the EMR clusters its EMR steps may add steps to."""
    emr_serverless_applications: tuple[str, ...]
    """Ids of the EMR Serverless applications its EMRServerless steps may start job runs on."""

    @property
    def code_prefixes(self) -> tuple[str, ...]:
        """Where its job files live; only the deployment writes there (see ``planning.access.code_prefixes``)."""
        return code_prefixes(self.compiled)


@dataclass(frozen=True)
class EnvironmentPlan:
    """Everything one environment's stage renders."""

    config: EnvironmentConfig
    pipelines: tuple["CompiledPipeline", ...]
    schedules: tuple[PlannedSchedule, ...]
    network_isolation_exempt: tuple[str, ...]
    """Full pipeline names whose jobs may run without network isolation: the settings' plus the modules'."""
    access: Mapping[str, PipelineAccess]
    """Each pipeline's declared reads, writes and fan-out children, checked against the others."""

    @property
    def pipeline_plans(self) -> tuple[PipelinePlan, ...]:
        """One plan per pipeline, in module-name order (stable stack order)."""
        prefix = self.config.resource_prefix
        return tuple(self._pipeline_plan(item, prefix) for item in sorted(self.pipelines, key=lambda c: c.module_pipeline_name))

    def _pipeline_plan(self, item: "CompiledPipeline", prefix: str) -> PipelinePlan:
        schedules = tuple(s for s in self.schedules if s.pipeline_name == item.pipeline_name)
        return PipelinePlan(
            compiled=item,
            schedules=schedules,
            stack_name=pipeline_stack_name(resource_prefix=prefix, module_pipeline_name=item.module_pipeline_name),
            construct_id=f"Pipeline{construct_id(module_pipeline_name=item.module_pipeline_name)}",
            role_name=execution_role_name(pipeline_name=item.pipeline_name),
            lambda_functions=tuple(
                sorted(key for key, p in placeholders.LAMBDA_FUNCTION_ARNS.items() if p.name in item.placeholders_used)
            ),
            network_isolation_exempt=item.pipeline_name in self.network_isolation_exempt,
            access=self.access[item.pipeline_name],
            step_types=step_types(item),
            emr_clusters=referenced_ids(item, step_field=EMR_CLUSTER_FIELD, schedules=schedules),
            emr_serverless_applications=referenced_ids(item, step_field=EMR_SERVERLESS_APPLICATION_FIELD, schedules=schedules),
        )


def isolation_exempt_pipelines(*, config: EnvironmentConfig, compiled: Sequence["CompiledPipeline"]) -> tuple[str, ...]:
    """The settings' exemptions plus every pipeline whose module declares a network-isolation exemption."""
    declared = {
        item.pipeline_name
        for item in compiled
        if any(exemption.guardrail is Guardrail.NETWORK_ISOLATION for exemption in item.guardrail_exemptions)
    }
    return tuple(sorted({setting.pipeline for setting in config.network_isolation_exemptions} | declared))


def plan_environment(*, config: EnvironmentConfig, today: date, compiled: Sequence["CompiledPipeline"] | None = None) -> EnvironmentPlan:
    """Compile (unless ``compiled`` is given), plan schedules and collect exemptions for ``config``.

    ``today`` (synth's UTC date) is checked against every exemption's expiry and goes nowhere else,
    so the plan, and what is synthesized from it, is the same on any day it is accepted.
    """
    pipelines = tuple(compiled) if compiled is not None else compile_pipelines(config=config)
    check_exemption_expiry(config=config, compiled=pipelines, today=today)
    schedules = plan_schedules(config=config, compiled=pipelines)
    check_override_instance_types(config=config, compiled=pipelines, schedules=schedules)
    return EnvironmentPlan(
        config=config,
        pipelines=pipelines,
        schedules=schedules,
        network_isolation_exempt=isolation_exempt_pipelines(config=config, compiled=pipelines),
        access=pipeline_access(compiled=pipelines),
    )
