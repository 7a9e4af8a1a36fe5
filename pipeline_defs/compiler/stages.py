"""The compile stages composed: one module built, finished, validated and packaged; an environment's modules in turn.

Each module goes through the stages in order, each in its own module:

1. :mod:`~pipeline_defs.compiler.build`: built with the SDK, offline, under the pins
   (:mod:`~pipeline_defs.compiler.sdk_session`, :mod:`~pipeline_defs.compiler.sdk_config`,
   :mod:`~pipeline_defs.compiler.sdk_pins`), ``@step`` payloads signed
   (:mod:`~pipeline_defs.compiler.signing`);
2. :mod:`~pipeline_defs.compiler.finishing`: content-addressed, exemption tags and job names added;
3. :mod:`pipeline_defs.validation`, :mod:`~pipeline_defs.compiler.step_image` and
   :mod:`~pipeline_defs.compiler.job_images`: checked;
4. :mod:`~pipeline_defs.compiler.packaging`: staged files checked, the result assembled.

Importing this module imports the SDK (about two seconds).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from pipeline_defs.compiler.build import build_module, job_files_snapshot, pipeline_context
from pipeline_defs.compiler.finishing import finish_for_deployment
from pipeline_defs.compiler.job_images import check_job_images
from pipeline_defs.compiler.packaging import package_pipeline
from pipeline_defs.compiler.signing import signing_key_for, signing_seed_from_environment
from pipeline_defs.compiler.step_image import check_step_image
from pipeline_defs.context import BuildContext
from pipeline_defs.contract import CompiledPipeline
from pipeline_defs.loader import PipelineModule, load_pipeline_modules
from pipeline_defs.validation import validate_definition
from pipeline_defs.validation.guardrails import PlatformValues


def validate_in_context(
    definition: dict,
    *,
    definition_text: str,
    pipeline_name: str,
    module_file: str,
    exemptions: tuple,
    schedules: tuple,
    ctx: BuildContext,
) -> None:
    """Validate a definition against what the environment's context provides (one mapping for every caller)."""
    validate_definition(
        definition,
        definition_text=definition_text,
        pipeline_name=pipeline_name,
        module_file=module_file,
        exemptions=exemptions,
        allowed_instance_types=ctx.allowed_instance_types,
        cost_tag_key=ctx.cost_tag_key,
        platform=PlatformValues(
            subnet_ids=ctx.subnet_ids,
            security_group_ids=ctx.security_group_ids,
            kms_key=ctx.kms_key,
            own_prefix=f"s3://{ctx.artifact_bucket}/{pipeline_name}/",
        ),
        job_name_prefix=ctx.name_prefix,
        schedules=schedules,
    )


def compile_module(
    item: PipelineModule,
    *,
    ctx: BuildContext,
    signing_seed: bytes,
    development_only_key: bool,
    workdir: Path | None = None,
) -> CompiledPipeline:
    """Build, validate and package one pipeline module for the context's environment."""
    started = time.perf_counter()
    pipeline_ctx = pipeline_context(item, ctx=ctx)
    full_name = pipeline_ctx.pipeline_name
    signing_key = signing_key_for(
        seed=signing_seed, pipeline_name=full_name, development_only=development_only_key
    )
    pipeline, built = build_module(item, pipeline_ctx=pipeline_ctx, signing_key=signing_key, workdir=workdir)
    definition_text = finish_for_deployment(built.definition, ctx=pipeline_ctx, module_file=item.module_file)
    check_step_image(definition_text=definition_text, ctx=ctx, pipeline_name=full_name, module_file=item.module_file)
    check_job_images(definition=json.loads(definition_text), ctx=ctx, pipeline_name=full_name, module_file=item.module_file)
    validate_in_context(
        built.definition,
        definition_text=definition_text,
        pipeline_name=full_name,
        module_file=item.module_file,
        exemptions=item.exemptions,
        schedules=item.schedules,
        ctx=ctx,
    )
    return package_pipeline(
        item,
        ctx=pipeline_ctx,
        pipeline=pipeline,
        built=built,
        definition_text=definition_text,
        development_only_key=development_only_key,
        started=started,
    )


def compile_environment(
    ctx: BuildContext,
    *,
    module_paths: list[Path] | None = None,
    modules: list[PipelineModule] | None = None,
) -> tuple[CompiledPipeline, ...]:
    """Compile every pipeline module (or the given ones) for one environment, sorted by name."""
    seed, development_only = signing_seed_from_environment()
    loaded = modules if modules is not None else load_pipeline_modules(module_paths)
    with job_files_snapshot() as workdir:
        results = [
            compile_module(
                item,
                ctx=ctx,
                signing_seed=seed,
                development_only_key=development_only,
                workdir=workdir,
            )
            for item in loaded
        ]
    return tuple(sorted(results, key=lambda r: r.pipeline_name))
