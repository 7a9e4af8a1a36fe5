"""Checks of an environment's settings against its compiled pipelines: what neither alone can decide.

Run by :func:`planning.compilation.compile_pipelines` before anything is written, so a setting that
names a pipeline the environment does not have stops synth instead of being ignored.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Sequence

from base.config import ConfigError, EnvironmentConfig
from base.errors import nearest_name_hint
from base.expiry import has_lapsed
from pipeline_defs.errors import PipelineDefinitionError

if TYPE_CHECKING:
    from pipeline_defs.contract import CompiledPipeline


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
