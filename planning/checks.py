"""Checks of an environment's settings against its compiled pipelines: what neither alone can decide.

Run by :func:`planning.compilation.compile_pipelines` before anything is written, so a setting that
names a pipeline the environment does not have stops synth instead of being ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from base.config import ConfigError, EnvironmentConfig
from base.errors import nearest_name_hint

if TYPE_CHECKING:
    from pipeline_defs.contract import CompiledPipeline


def check_isolation_exemption_settings(*, config: EnvironmentConfig, compiled: Sequence["CompiledPipeline"]) -> None:
    """Every ``networkIsolationExemptions`` entry is the full name of one of the environment's pipelines.

    An entry naming no pipeline would loosen the environment's network-isolation Deny for a name
    nobody deploys yet, and hide the typo that kept the intended pipeline isolated.
    """
    known = sorted(item.pipeline_name for item in compiled)
    for entry in config.network_isolation_exemptions:
        if entry in known:
            continue
        full = config.resource_prefix + "-" + entry
        hint = f" (did you mean {full!r}? entries are full pipeline names)" if full in known else nearest_name_hint(entry, known)
        raise ConfigError(
            f"context 'environments.{config.name}.networkIsolationExemptions' contains {entry!r}, which is not a "
            f"pipeline of environment {config.name}{hint}: expected some of {known}"
        )

