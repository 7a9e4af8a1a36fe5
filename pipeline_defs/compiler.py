"""Compile every pipeline module for an environment into definitions and staged files.

This is what the stacks call at synth: :func:`compile_environment` with a
:class:`~pipeline_defs.context.BuildContext`, returning one :class:`CompiledPipeline` each.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterator

from base.naming import pipeline_name_problem
from pipeline_defs import placeholders, sdk_offline
from pipeline_defs.contract import (
    NETWORK_ISOLATION_EXEMPTION_TAG,
    CompiledPipeline,
    DeclaredParameter,
    canonical_json,
    iter_steps,
)
from pipeline_defs.context import JOBS_DIR, PACKAGE_ROOT, BuildContext
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.loader import (
    REPO_ROOT,
    PipelineModule,
    load_pipeline_modules,
    registered_module,
)
from pipeline_defs.schedules import Guardrail, GuardrailExemption
from pipeline_defs.validation import PlatformValues, validate_definition

_sessions: dict[tuple[str, str], sdk_offline.OfflinePipelineSession] = {}


def offline_session(*, region: str, bucket: str) -> sdk_offline.OfflinePipelineSession:
    """One offline session per region and bucket per process (creating one costs ~0.4 s)."""
    key = (region, bucket)
    if key not in _sessions:
        _sessions[key] = sdk_offline.OfflinePipelineSession(region=region, bucket=bucket)
    return _sessions[key]


@functools.lru_cache(maxsize=None)
def step_image_uri(region: str) -> str:
    """Image for ``@step`` jobs: its Python must equal the compiling Python (the SDK checks)."""
    from sagemaker.core import image_uris

    py_version = f"py{sys.version_info.major}{sys.version_info.minor}"
    return image_uris.retrieve(
        framework="pytorch",
        region=region,
        version="2.5",
        py_version=py_version,
        instance_type="ml.m5.large",
        image_scope="training",
    )


STEP_IMAGE_SETTING = "stepImageUri"


def check_step_image(*, definition_text: str, ctx: BuildContext, pipeline_name: str, module_file: str | None) -> None:
    """``@step`` jobs need an image with this SDK version installed: jobs have no internet to pip-install it.

    The SDK's stock image does not carry SageMaker SDK v3, so an environment that deploys for real
    (explicit account and region) must name its own image; the env-agnostic sandbox gets a warning.
    """
    if ctx.step_image_uri or step_image_uri(ctx.region) not in definition_text:
        return
    message = (
        f"pipeline {pipeline_name} has @step functions but environment {ctx.env_name} names no image for them: "
        f"set context 'environments.{ctx.env_name}.{STEP_IMAGE_SETTING}' to an ECR image with sagemaker==3.27.0 "
        f"and Python {sys.version_info.major}.{sys.version_info.minor}"
    )
    if ctx.region_is_pinned:
        raise PipelineDefinitionError(message, module_file=module_file, pipeline=pipeline_name)
    warnings.warn(message + "; the stock image used meanwhile cannot run them", stacklevel=2)


def _exempt_pipeline_wide(exemptions: tuple[GuardrailExemption, ...], guardrail: Guardrail) -> bool:
    return any(e.guardrail is guardrail and not e.steps for e in exemptions)


def sdk_config_for(ctx: BuildContext, exemptions: tuple[GuardrailExemption, ...]) -> dict:
    """The SDK defaults for one pipeline, validated once; pipeline-wide exemptions drop a default."""

    def kept(guardrail: Guardrail) -> bool:
        return not _exempt_pipeline_wide(exemptions, guardrail)

    vpc = kept(Guardrail.VPC)
    config = sdk_offline.sdk_defaults_config(
        role_arn=ctx.execution_role_arn,
        bucket=ctx.artifact_bucket,
        subnet_ids=ctx.subnet_ids if vpc else (),
        security_group_ids=ctx.security_group_ids if vpc else (),
        volume_kms_key=ctx.kms_key if kept(Guardrail.VOLUME_KMS_KEY) else None,
        output_kms_key=ctx.kms_key if kept(Guardrail.OUTPUT_KMS_KEY) else None,
        tags=ctx.cost_tags() if kept(Guardrail.COST_TAG) else [],
        network_isolation=kept(Guardrail.NETWORK_ISOLATION),
        inter_container_encryption=kept(Guardrail.INTER_CONTAINER_ENCRYPTION),
        step_instance_type=ctx.default_instance_type,
        step_image_uri=ctx.step_image_uri or step_image_uri(ctx.region),
    )
    return sdk_offline.trust_config(config)


def _declared_parameters(pipeline: Any) -> tuple[DeclaredParameter, ...]:
    declared = []
    for parameter in pipeline.parameters:
        kind = getattr(parameter.parameter_type, "value", str(parameter.parameter_type))
        declared.append(
            DeclaredParameter(name=parameter.name, type=kind, default=parameter.default_value)
        )
    return tuple(declared)


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
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"),
        )
        yield Path(root)


def _build_offline(
    item: PipelineModule,
    *,
    pipeline_ctx: BuildContext,
    signing_key: sdk_offline.DeterministicSigningKey,
    workdir: Path,
) -> tuple[Any, sdk_offline.BuiltDefinition]:
    session = pipeline_ctx.session
    full_name = pipeline_ctx.pipeline_name
    with sdk_offline.working_directory(workdir), registered_module(
        item.module
    ), sdk_offline.pickle_by_value(item.module), sdk_offline.offline_build(
        session=session, signing_key=signing_key
    ) as staged:
        try:
            pipeline = item.build(pipeline_ctx)
        except PipelineDefinitionError as error:
            raise PipelineDefinitionError(
                error.reason,
                module_file=item.module_file,
                pipeline=full_name,
                step=error.step,
                field=error.field,
            ) from error
        except Exception as error:  # noqa: BLE001 - any builder failure names its module
            raise PipelineDefinitionError(
                f"build_pipeline raised {type(error).__name__}: {error}",
                module_file=item.module_file,
                pipeline=full_name,
            ) from error
        _check_built_pipeline(pipeline, item=item, ctx=pipeline_ctx)
        try:
            raw = pipeline.definition()
        except Exception as error:  # noqa: BLE001 - SDK errors at definition time name the module
            raise PipelineDefinitionError(
                f"building the definition raised {type(error).__name__}: {error}",
                module_file=item.module_file,
                pipeline=full_name,
            ) from error
        return pipeline, sdk_offline.finish_definition(raw=raw, staged=staged, root=REPO_ROOT)


ISOLATABLE_STEP_TYPES = ("Training", "Processing", "Model")


def _isolation_is_on(step: dict) -> bool:
    arguments = step.get("Arguments") or {}
    if step.get("Type") == "Processing":
        return (arguments.get("NetworkConfig") or {}).get("EnableNetworkIsolation") is True
    return arguments.get("EnableNetworkIsolation") is True


def tag_isolation_exemptions(definition: dict, *, pipeline_name: str) -> list[str]:
    """Tag every job that runs without network isolation with the exemption tag; returns those steps.

    The environment's IAM Deny lets a non-isolated job through only with this tag naming an exempt
    pipeline, so the tag is what makes a declared exemption work at run time. Validation still
    refuses the same steps unless the module declared the exemption.
    """
    tagged = []
    for step, _ in iter_steps(definition.get("Steps", [])):
        if step.get("Type") not in ISOLATABLE_STEP_TYPES or _isolation_is_on(step):
            continue
        tags = step["Arguments"].setdefault("Tags", [])
        if not any(isinstance(t, dict) and t.get("Key") == NETWORK_ISOLATION_EXEMPTION_TAG for t in tags):
            tags.append({"Key": NETWORK_ISOLATION_EXEMPTION_TAG, "Value": pipeline_name})
        tagged.append(step["Name"])
    return tagged


def name_unnamed_training_jobs(definition: dict, *, ctx: BuildContext) -> list[str]:
    """Give Training steps the ``<pipeline>-<step>`` job name prefix the SDK dropped.

    Under a pipeline session ``ModelTrainer`` leaves ``TrainingJobName`` out, and the service would
    then name the job ``pipelines-...``, outside the execution role's ``<prefix>-*`` scope.
    """
    named = []
    for step, _ in iter_steps(definition.get("Steps", [])):
        arguments = step.get("Arguments")
        if step.get("Type") == "Training" and isinstance(arguments, dict) and not arguments.get("TrainingJobName"):
            arguments["TrainingJobName"] = ctx.job_name(step["Name"])
            named.append(step["Name"])
    return named


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
    signing_key = sdk_offline.signing_key_for(
        seed=signing_seed, pipeline_name=full_name, development_only=development_only_key
    )
    try:
        if workdir is None:
            with job_files_snapshot() as snapshot:
                pipeline, built = _build_offline(
                    item, pipeline_ctx=pipeline_ctx, signing_key=signing_key, workdir=snapshot
                )
        else:
            pipeline, built = _build_offline(
                item, pipeline_ctx=pipeline_ctx, signing_key=signing_key, workdir=workdir
            )
    except sdk_offline.OfflineCallError as error:
        raise PipelineDefinitionError(
            str(error), module_file=item.module_file, pipeline=full_name
        ) from error
    unnamed = sdk_offline.unnamed_function_steps(built.definition)
    if unnamed:
        raise PipelineDefinitionError(
            f"@step functions need an explicit name= (generated names change every build): {unnamed}",
            module_file=item.module_file,
            pipeline=full_name,
            step=unnamed[0],
            field="name",
        )
    tag_isolation_exemptions(built.definition, pipeline_name=full_name)
    name_unnamed_training_jobs(built.definition, ctx=pipeline_ctx)
    definition_text = canonical_json(built.definition)
    check_step_image(definition_text=definition_text, ctx=ctx, pipeline_name=full_name, module_file=item.module_file)
    validate_definition(
        built.definition,
        definition_text=definition_text,
        pipeline_name=full_name,
        module_file=item.module_file,
        exemptions=item.exemptions,
        allowed_instance_types=ctx.allowed_instance_types,
        cost_tag_key=ctx.cost_tag_key,
        platform=PlatformValues(
            subnet_ids=ctx.subnet_ids,
            security_group_ids=ctx.security_group_ids,
            kms_key=ctx.kms_key,
        ),
        job_name_prefix=ctx.name_prefix,
    )
    files = {key: built.staged_files[key] for key in sorted(built.staged_files)}
    for key, body in files.items():
        if not key.startswith(f"{full_name}/"):
            raise PipelineDefinitionError(
                f"staged file {key!r} is outside the pipeline's prefix {full_name + '/'!r} "
                "(the execution role may only read its own prefix; for ModelTrainer pass "
                "input_s3_key_prefix=ctx.pipeline_name)",
                module_file=item.module_file,
                pipeline=full_name,
            )
        unknown = placeholders.unknown_names(key)
        if unknown:
            raise PipelineDefinitionError(
                f"staged file key {key!r} contains unresolvable placeholder(s) {unknown}",
                module_file=item.module_file,
                pipeline=full_name,
            )
    return CompiledPipeline(
        pipeline_name=full_name,
        module_pipeline_name=item.pipeline_name,
        env_name=ctx.env_name,
        definition=definition_text,
        staged_files=MappingProxyType(files),
        manifest=MappingProxyType(
            {key: hashlib.sha256(body).hexdigest() for key, body in files.items()}
        ),
        parameters=_declared_parameters(pipeline),
        schedules=item.schedules,
        guardrail_exemptions=item.exemptions,
        region=ctx.region,
        region_is_pinned=ctx.region_is_pinned,
        source_module=item.module_file,
        placeholders_used=tuple(sorted(placeholders.find_names(definition_text))),
        build_id=built.build_id,
        signing_key_development_only=development_only_key,
        compile_seconds=time.perf_counter() - started,
    )


def compile_environment(
    ctx: BuildContext,
    *,
    module_paths: list[Path] | None = None,
    modules: list[PipelineModule] | None = None,
) -> tuple[CompiledPipeline, ...]:
    """Compile every pipeline module (or the given ones) for one environment, sorted by name."""
    seed, development_only = sdk_offline.signing_seed_from_environment()
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


def write_outputs(results: tuple[CompiledPipeline, ...], *, out_dir: Path) -> list[Path]:
    """Write definitions, staged files under their keys, and manifests into ``out_dir``.

    ``<out>/<env>/definitions`` and ``<out>/<env>/staged`` are replaced, so no stale file stays.
    """
    written = []
    for env_name in sorted({result.env_name for result in results}):
        for stale in ("definitions", "staged"):
            shutil.rmtree(out_dir / env_name / stale, ignore_errors=True)
    for result in results:
        base = out_dir / result.env_name
        definition_path = base / "definitions" / f"{result.pipeline_name}.json"
        definition_path.parent.mkdir(parents=True, exist_ok=True)
        definition_path.write_text(result.definition, encoding="utf-8")
        written.append(definition_path)
        for key, body in result.staged_files.items():
            target = base / "staged" / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            written.append(target)
        manifest_path = base / "staged" / result.manifest_key
        manifest_path.parent.mkdir(parents=True, exist_ok=True)
        manifest_path.write_text(result.manifest_json(), encoding="utf-8")
        written.append(manifest_path)
    return written
