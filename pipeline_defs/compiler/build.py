"""First compile stage: one pipeline module built with the SDK, offline, in a clean copy of ``jobs/``.

:func:`pipeline_context` gives the module its name, the shared offline session and the SDK
defaults; :func:`build_module` runs its ``build_pipeline`` and the SDK's ``definition()`` under the
pins, checks what the builder returned, and finishes the raw definition into a
:class:`~pipeline_defs.compiler.finishing.BuiltDefinition`. Every failure names the module.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

from base.naming import pipeline_name_problem
from pipeline_defs.compiler.build_errors import explain
from pipeline_defs.compiler.finishing import BuiltDefinition, finish_definition
from pipeline_defs.compiler.sdk_config import sdk_config_for
from pipeline_defs.compiler.sdk_pins import offline_build, pickle_by_value, working_directory
from pipeline_defs.compiler.sdk_session import OfflineCallError, offline_session
from pipeline_defs.compiler.signing import DeterministicSigningKey
from pipeline_defs.compiler.sources import IGNORED_FILE_PATTERNS
from pipeline_defs.context import JOBS_DIR, PACKAGE_ROOT, BuildContext
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.loader import REPO_ROOT, PipelineModule, registered_module


def pipeline_context(item: PipelineModule, *, ctx: BuildContext) -> BuildContext:
    """The environment's context for one module: full name checked, offline session with its SDK defaults."""
    full_name = ctx.full_pipeline_name(item.pipeline_name)
    problem = pipeline_name_problem(full_name)
    if problem:
        raise PipelineDefinitionError(
            f"pipeline name {full_name!r} {problem}",
            module_file=item.module_file,
            pipeline=full_name,
            field="PIPELINE_NAME",
        )
    session = offline_session(region=ctx.region, bucket=ctx.artifact_bucket)
    pipeline_ctx = ctx.for_pipeline(pipeline_name=full_name, session=session)
    session.sagemaker_config = sdk_config_for(pipeline_ctx, item.exemptions)
    return pipeline_ctx


@contextlib.contextmanager
def job_files_snapshot() -> Iterator[Path]:
    """A clean copy of ``jobs/`` to compile in: no ``__pycache__``, ``*.pyc`` or dotfiles.

    The SDK hashes a training ``source_dir`` with everything in it into the S3 key; bytecode left
    by an editor or a test run would otherwise change keys and definitions.
    """
    with tempfile.TemporaryDirectory(prefix="pipeline-defs-") as root:
        shutil.copytree(
            PACKAGE_ROOT / JOBS_DIR,
            Path(root) / JOBS_DIR,
            ignore=shutil.ignore_patterns(*IGNORED_FILE_PATTERNS),
        )
        yield Path(root)


def _check_built_pipeline(pipeline: Any, *, item: PipelineModule, ctx: BuildContext) -> None:
    from sagemaker.mlops.workflow.pipeline import Pipeline

    where = {"module_file": item.module_file, "pipeline": ctx.pipeline_name}
    if not isinstance(pipeline, Pipeline):
        raise PipelineDefinitionError(
            f"build_pipeline returned {type(pipeline).__name__}, expected "
            "sagemaker.mlops.workflow.pipeline.Pipeline",
            field="build_pipeline",
            **where,
        )
    if pipeline.name != ctx.pipeline_name:
        raise PipelineDefinitionError(
            f"Pipeline name is {pipeline.name!r}; use ctx.pipeline_name ({ctx.pipeline_name!r})",
            field="name",
            **where,
        )
    if pipeline.sagemaker_session is not ctx.session:
        raise PipelineDefinitionError(
            "Pipeline must use ctx.session (the offline session); another session reaches AWS",
            field="sagemaker_session",
            **where,
        )
    config = pipeline.pipeline_definition_config
    if config is None or not getattr(config, "use_custom_job_prefix", False):
        raise PipelineDefinitionError(
            "job names must read <pipeline>-<step>: pass "
            "PipelineDefinitionConfig(use_custom_job_prefix=True)",
            field="pipeline_definition_config",
            **where,
        )


def _check_unique_step_names(steps: Any, *, where: dict[str, str], seen: set[str] | None = None) -> None:
    """Name the step the SDK's own duplicate check does not: a name used twice, branches included."""
    from sagemaker.core.workflow.step_outputs import StepOutput, get_step

    seen = set() if seen is None else seen
    for item in steps:
        step = get_step(item) if isinstance(item, StepOutput) else item
        if step.name in seen:
            raise PipelineDefinitionError(
                f"step name {step.name!r} is used twice (two steps, or one step listed both in the "
                "pipeline's steps and in a ConditionStep or ForEachStep branch): step names must be unique",
                step=step.name,
                field="name",
                **where,
            )
        seen.add(step.name)
        branches = [*(getattr(step, "if_steps", None) or []), *(getattr(step, "else_steps", None) or [])]
        _check_unique_step_names([*branches, *(getattr(step, "for_each_body", None) or [])], where=where, seen=seen)


def _failure(error: Exception, *, stage: str, item: PipelineModule, pipeline_name: str, steps: Any = ()) -> PipelineDefinitionError:
    """The module's error for ``error``: its own message kept, the SDK's told with type, line and step."""
    where = {"module_file": item.module_file, "pipeline": pipeline_name}
    if isinstance(error, PipelineDefinitionError):
        located = explain(error, stage=stage, steps=steps)
        reason = f"{error.reason}; {located.where}" if located.where else error.reason
        return PipelineDefinitionError(reason, step=error.step or located.step, field=error.field, **where)
    failure = explain(error, stage=stage, steps=steps)
    return PipelineDefinitionError(failure.message, step=failure.step, field=failure.field, **where)


def _build_offline(
    item: PipelineModule,
    *,
    pipeline_ctx: BuildContext,
    signing_key: DeterministicSigningKey,
    workdir: Path,
) -> tuple[Any, BuiltDefinition]:
    session = pipeline_ctx.session
    full_name = pipeline_ctx.pipeline_name
    with working_directory(workdir), registered_module(
        item.module
    ), pickle_by_value(item.module), offline_build(
        session=session, signing_key=signing_key
    ) as staged:
        try:
            pipeline = item.build(pipeline_ctx)
        except Exception as error:  # noqa: BLE001 - any builder failure names its module and line
            raise _failure(error, stage="build_pipeline", item=item, pipeline_name=full_name) from error
        _check_built_pipeline(pipeline, item=item, ctx=pipeline_ctx)
        _check_unique_step_names(pipeline.steps, where={"module_file": item.module_file, "pipeline": full_name})
        try:
            raw = pipeline.definition()
        except Exception as error:  # noqa: BLE001 - SDK errors at definition time name the step
            raise _failure(
                error, stage="building the definition", item=item, pipeline_name=full_name, steps=pipeline.steps
            ) from error
        return pipeline, finish_definition(raw=raw, staged=staged, root=REPO_ROOT)


def build_module(
    item: PipelineModule,
    *,
    pipeline_ctx: BuildContext,
    signing_key: DeterministicSigningKey,
    workdir: Path | None,
) -> tuple[Any, BuiltDefinition]:
    """The SDK ``Pipeline`` and its finished definition, built in ``workdir`` (default: a fresh snapshot)."""
    try:
        with contextlib.ExitStack() as stack:
            directory = workdir if workdir is not None else stack.enter_context(job_files_snapshot())
            return _build_offline(item, pipeline_ctx=pipeline_ctx, signing_key=signing_key, workdir=directory)
    except OfflineCallError as error:
        raise PipelineDefinitionError(
            str(error), module_file=item.module_file, pipeline=pipeline_ctx.pipeline_name
        ) from error
