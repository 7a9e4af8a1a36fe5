"""Compile an environment's pipelines from its settings: the one bridge from config to ``pipeline_defs``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from base.config import EnvironmentConfig
from planning.checks import check_isolation_exemption_settings

if TYPE_CHECKING:
    from pipeline_defs.contract import CompiledPipeline
    from pipeline_defs.context import BuildContext


def build_context_for(*, config: EnvironmentConfig) -> "BuildContext":
    """The one mapping from an environment's settings to what a pipeline builder sees."""
    from pipeline_defs.context import context_for_environment

    return context_for_environment(
        env_name=config.name,
        region=config.region,
        cost_tag_key=config.cost_tag_key,
        cost_tag_value=config.cost_tag_value,
        allowed_instance_types=config.allowed_instance_types,
        name_prefix=config.resource_prefix,
        step_image_uri=config.step_image_uri,
    )


def compile_pipelines(*, config: EnvironmentConfig) -> tuple["CompiledPipeline", ...]:
    """Every pipeline module, compiled offline for this environment (names ``<prefix>-<module name>``), checked against its settings."""
    from pipeline_defs.compiler import compile_environment

    compiled = compile_environment(build_context_for(config=config))
    check_isolation_exemption_settings(config=config, compiled=compiled)
    return compiled
