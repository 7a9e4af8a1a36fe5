"""Last compile stage: a validated definition and its staged files packaged as a :class:`CompiledPipeline`.

Staged files must sit under the pipeline's own prefix (its execution role reads nothing else),
their keys must hold only placeholders the stacks resolve, and the scripts among them must be UTF-8
(a job reads them as text): checked here, naming the module.
"""

from __future__ import annotations

import hashlib
import time
from types import MappingProxyType
from typing import Any, Mapping

from pipeline_defs import placeholders
from pipeline_defs.compiler.finishing import BuiltDefinition
from pipeline_defs.context import BuildContext, utf8_problem
from pipeline_defs.contract import CompiledPipeline, DeclaredParameter
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.loader import PipelineModule

TEXT_SUFFIXES = (".py", ".sh", ".txt", ".json")
"""Staged files a job reads as text (scripts, requirements, settings), so they must be UTF-8."""


def declared_parameters(pipeline: Any) -> tuple[DeclaredParameter, ...]:
    """The SDK ``Pipeline``'s parameters as name, type name and default."""
    declared = []
    for parameter in pipeline.parameters:
        kind = getattr(parameter.parameter_type, "value", str(parameter.parameter_type))
        declared.append(
            DeclaredParameter(name=parameter.name, type=kind, default=parameter.default_value)
        )
    return tuple(declared)


def checked_staged_files(staged_files: Mapping[str, bytes], *, pipeline_name: str, module_file: str | None) -> dict[str, bytes]:
    """The staged files sorted by key, each under ``<pipeline>/`` with resolvable placeholders only."""
    files = {key: staged_files[key] for key in sorted(staged_files)}
    for key in files:
        if not key.startswith(f"{pipeline_name}/"):
            raise PipelineDefinitionError(
                f"staged file {key!r} is outside the pipeline's prefix {pipeline_name + '/'!r} "
                "(the execution role may only read its own prefix; for ModelTrainer pass "
                "input_s3_key_prefix=ctx.pipeline_name)",
                module_file=module_file,
                pipeline=pipeline_name,
            )
        unknown = placeholders.unknown_names(key)
        if unknown:
            raise PipelineDefinitionError(
                f"staged file key {key!r} contains unresolvable placeholder(s) {unknown}",
                module_file=module_file,
                pipeline=pipeline_name,
            )
        problem = utf8_problem(files[key]) if key.endswith(TEXT_SUFFIXES) else None
        if problem:
            raise PipelineDefinitionError(
                f"staged file {key!r} (from pipeline_defs/jobs/) is not UTF-8 text ({problem}): save it as UTF-8",
                module_file=module_file,
                pipeline=pipeline_name,
            )
    return files


def package_pipeline(
    item: PipelineModule,
    *,
    ctx: BuildContext,
    pipeline: Any,
    built: BuiltDefinition,
    definition_text: str,
    development_only_key: bool,
    started: float,
) -> CompiledPipeline:
    """The compile result; ``ctx`` is the pipeline's own context, ``started`` when its compile began."""
    files = checked_staged_files(built.staged_files, pipeline_name=ctx.pipeline_name, module_file=item.module_file)
    return CompiledPipeline(
        pipeline_name=ctx.pipeline_name,
        module_pipeline_name=item.pipeline_name,
        env_name=ctx.env_name,
        definition=definition_text,
        staged_files=MappingProxyType(files),
        manifest=MappingProxyType(
            {key: hashlib.sha256(body).hexdigest() for key, body in files.items()}
        ),
        parameters=declared_parameters(pipeline),
        schedules=item.schedules,
        guardrail_exemptions=item.exemptions,
        data_access=item.data_access,
        child_pipelines=item.child_pipelines,
        region=ctx.region,
        region_is_pinned=ctx.region_is_pinned,
        source_module=item.module_file,
        placeholders_used=tuple(sorted(placeholders.find_names(definition_text))),
        build_id=built.build_id,
        signing_key_development_only=development_only_key,
        max_parallel_steps=item.max_parallel_steps,
        compile_seconds=time.perf_counter() - started,
    )
