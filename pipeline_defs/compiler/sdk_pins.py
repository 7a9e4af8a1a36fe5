"""Pins for one definition build: the SDK internals that make builds differ or reach AWS, swapped out.

``pinned_sdk`` replaces, for the duration of one build, the build timestamp and the ``@step``
signing key (``StepsCompiler``), the per-lookup config re-validation, the throwaway local session a
step constructor creates, the timestamped prefix and IAM check of ``ModelTrainer`` uploads, and
the region data image URI lookups reload each time (botocore's endpoints file, ~30 ms a lookup),
which is loaded once per process instead; and it refuses any other SageMaker session being made,
which is what an SDK object given no ``sagemaker_session`` does before it calls AWS with the
caller's credentials. The step types' own pins come from
:func:`~pipeline_defs.compiler.sdk_step_pins.step_type_swaps`.
``offline_build`` wraps a builder and its definition call in those pins, the SDK's environment and
an empty staging area, and fails when the SDK tried to call AWS.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import sys
import threading
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

from pipeline_defs.compiler.finishing import BUILD_ID_SENTINEL
from pipeline_defs.compiler.sdk_config import validate_unless_trusted
from pipeline_defs.compiler.sdk_session import OfflineCallError, OfflinePipelineSession, StagedFiles, sdk_environment
from pipeline_defs.compiler.sdk_step_pins import step_type_swaps
from pipeline_defs.compiler.signing import DeterministicSigningKey
from pipeline_defs.errors import PipelineDefinitionError

with sdk_environment():
    import cloudpickle  # noqa: E402

    import sagemaker.core.common_utils as sdk_common_utils  # noqa: E402
    import sagemaker.mlops.workflow.pipeline as sdk_pipeline_module  # noqa: E402
    import sagemaker.mlops.workflow.steps as sdk_steps_module  # noqa: E402
    import sagemaker.train.model_trainer as sdk_model_trainer_module  # noqa: E402
    from sagemaker.core.config.config_manager import SageMakerConfig  # noqa: E402
    from sagemaker.core.helper.session_helper import Session as SdkSession  # noqa: E402
    from sagemaker.core.workflow.utilities import load_step_compilation_context  # noqa: E402
    from sagemaker.mlops.workflow._steps_compiler import StepsCompiler  # noqa: E402

_SDK_LOCK = threading.RLock()


class _LocalClientMethodNames:
    """Answers the method names ``ProcessingStep``/``TransformStep`` ask a local client for.

    The SDK constructs a full ``LocalSession`` (reading local config files, ~0.4 s) only to read
    ``create_processing_job.__name__``.
    """

    def create_processing_job(self) -> None:  # pragma: no cover - only the name is read
        raise NotImplementedError

    def create_transform_job(self) -> None:  # pragma: no cover - only the name is read
        raise NotImplementedError


def _pinned_unique_name(base: str, max_length: int = 63) -> str:
    """Stands in for the timestamped name ``ModelTrainer`` puts in its upload prefix.

    Step name plus the SDK's own hash of the step's code: stable for unchanged code, new keys
    for new code.
    """
    context = load_step_compilation_context()
    step = context.step_name if context else "trainer"
    code = (context.code_hash or "")[:12] if context else ""
    name = re.sub(r"[^a-zA-Z0-9-]", "-", "-".join(p for p in (base or "job", step, code) if p))
    return name[:max_length].rstrip("-")


def _staging_bucket_without_iam(self: Any) -> tuple[str, None]:
    """``ModelTrainer`` asks IAM (SimulatePrincipalPolicy) whether the role may write the default
    bucket before staging code; the artifact bucket is the platform's own, so the answer is yes."""
    return self.sagemaker_session.default_bucket(), None


def _session_maker() -> str:
    """The SDK object whose constructor is making a session (the module's line is added by build_errors)."""
    frame = sys._getframe(2)
    while frame is not None:
        candidate = frame.f_locals.get("self")
        if candidate is not None and not isinstance(candidate, SdkSession):
            return type(candidate).__name__
        frame = frame.f_back
    return "an SDK object"


def _refusing_foreign_sessions(original: Callable[..., None]) -> Callable[..., None]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807 - stands in for Session.__init__
        if not isinstance(self, OfflinePipelineSession):
            raise PipelineDefinitionError(
                f"{_session_maker()} was given no sagemaker_session, so it makes its own "
                f"{type(self).__name__}, which calls AWS with your credentials: pass sagemaker_session=ctx.session to it",
                field="sagemaker_session",
            )
        original(self, *args, **kwargs)

    return __init__


_load_endpoint_resolver = sdk_common_utils._botocore_resolver


@functools.lru_cache(maxsize=1)
def shared_endpoint_resolver() -> Any:
    """The region data ``image_uris.retrieve`` asks for on every lookup, loaded once per process.

    The SDK builds a new botocore loader and parses the whole endpoints file each time; the
    resolver only reads it, so one instance serves every lookup.
    """
    return _load_endpoint_resolver()


def _pinned_compiler_class(*, build_id: str, signing_key: DeterministicSigningKey) -> type:
    class PinnedStepsCompiler(StepsCompiler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.pipeline_build_time = build_id
            self._function_step_secret_token = signing_key

    return PinnedStepsCompiler


@contextlib.contextmanager
def pinned_sdk(*, signing_key: DeterministicSigningKey) -> Iterator[None]:
    """Swap the SDK's drift sources for the duration of one definition build."""
    swaps = [
        (
            sdk_pipeline_module,
            "StepsCompiler",
            _pinned_compiler_class(build_id=BUILD_ID_SENTINEL, signing_key=signing_key),
        ),
        (sdk_steps_module, "LocalSagemakerClient", _LocalClientMethodNames),
        (sdk_model_trainer_module, "_get_unique_name", _pinned_unique_name),
        (sdk_model_trainer_module.ModelTrainer, "_resolve_staging_bucket", _staging_bucket_without_iam),
        (SageMakerConfig, "validate_sagemaker_config", staticmethod(validate_unless_trusted)),
        (SdkSession, "__init__", _refusing_foreign_sessions(SdkSession.__init__)),
        (sdk_common_utils, "_botocore_resolver", shared_endpoint_resolver),
        *step_type_swaps(),
    ]
    with _SDK_LOCK:
        saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in swaps]
        try:
            for owner, name, replacement in swaps:
                setattr(owner, name, replacement)
            yield
        finally:
            for owner, name, original in saved:
                setattr(owner, name, original)


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """Run with a fixed working directory: the SDK hashes relative code paths into S3 keys."""
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


@contextlib.contextmanager
def pickle_by_value(module: Any) -> Iterator[None]:
    """Ship a pipeline module's ``@step`` functions by value: the job container lacks the module."""
    cloudpickle.register_pickle_by_value(module)
    try:
        yield
    finally:
        cloudpickle.unregister_pickle_by_value(module)


@contextlib.contextmanager
def quiet_sdk_logging() -> Iterator[None]:
    """The SDK logs every config lookup and upload at INFO (some loggers at DEBUG); synth output
    should show findings only, so records below WARNING are dropped while a definition builds."""
    previous = logging.root.manager.disable
    logging.disable(max(previous, logging.INFO))
    try:
        yield
    finally:
        logging.disable(previous)


@contextlib.contextmanager
def offline_build(
    *, session: OfflinePipelineSession, signing_key: DeterministicSigningKey
) -> Iterator[StagedFiles]:
    """Builder and definition run inside this: SDK pins on, uploads staged in memory."""
    session.staging = StagedFiles(bucket=session.default_bucket())
    session.request_guard.attempts.clear()
    try:
        with pinned_sdk(signing_key=signing_key), sdk_environment(), quiet_sdk_logging(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Running within a PipelineSession")
            # A LambdaStep referencing a deployed function by ARN: nothing to update, as intended.
            warnings.filterwarnings("ignore", message="Lambda function won't be updated")
            yield session.staging
        if session.request_guard.attempts:
            raise OfflineCallError(
                "the SDK tried to call AWS while compiling (refused): "
                + ", ".join(session.request_guard.attempts)
            )
    finally:
        session.staging = None
