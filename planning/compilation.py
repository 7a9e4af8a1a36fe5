"""Compile an environment's pipelines from its settings: the one bridge from config to ``pipeline_defs``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from base.config import EnvironmentConfig
from pipeline_defs import placeholders
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
        subnet_count=job_subnet_count(config=config),
    )


def job_subnet_count(*, config: EnvironmentConfig) -> int:
    """How many job subnets the environment's stage will have: one per zone (CDK gives an env-agnostic
    stage two zones), or the existing VPC's list."""
    if config.existing_vpc is not None:
        return min(len(config.existing_vpc.subnet_ids), len(placeholders.SUBNET_IDS))
    return min(config.max_azs, 2) if config.is_env_agnostic else config.max_azs


def compile_pipelines(
    *,
    config: EnvironmentConfig,
    module_paths: Sequence[Path] | None = None,
    cache_dir: Path | None = None,
) -> tuple["CompiledPipeline", ...]:
    """Every pipeline module (or the given files), compiled offline for this environment (names ``<prefix>-<module name>``),
    checked against its settings. An environment with an account needs the signing seed (or
    development signing asked for explicitly).

    Served from the compile cache (default ``.cache/pipeline-defs/`` in the checkout) where
    nothing that can change a pipeline changed, so a synth with no pipeline change never loads the
    SDK; ``PIPELINE_DEFS_NO_CACHE=1`` compiles everything.
    """
    from pipeline_defs.compiler.cache import DEFAULT_CACHE_DIR, compile_environment_cached
    from pipeline_defs.compiler.signing import check_signing_seed

    check_signing_seed(env_name=config.name, env_agnostic=config.is_env_agnostic)
    compiled = compile_environment_cached(
        build_context_for(config=config),
        cache_dir=cache_dir or DEFAULT_CACHE_DIR,
        module_paths=module_paths,
    )
    check_isolation_exemption_settings(config=config, compiled=compiled)
    return compiled
