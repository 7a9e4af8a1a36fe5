"""Pins for SDK 3.27 builders that break offline compiles, drift, drop guardrails or fail obscurely.

Each swap mends one SDK defect the platform depends on, for one definition build
(:func:`~pipeline_defs.compiler.sdk_pins.pinned_sdk` installs :func:`step_type_swaps`):

* every step remembers the module line that created it, so a failure deep in the SDK can name it
  (:mod:`~pipeline_defs.compiler.build_errors`);

* check steps (QualityCheck, ClarifyCheck) put the ``NetworkConfig`` object itself into their
  request, which then fails JSON serialization, and name every job ``baseline-job`` or
  ``clarify-job`` whatever ``base_job_name`` says: the request gets the API form and the name;
* ``ClarifyCheckStep`` stages its monitoring analysis config under a timestamp and a random
  uuid: the key holds the config's base name and a digest of its content instead;
* ``HyperparameterTuner`` uploads its source directory with its own S3 client (an AWS call) as
  a tarball of file times and owners, under a key holding the clock and the job name instead of
  the pipeline's prefix: here the tarball is deterministic, staged like every upload, and keyed
  by the pipeline, the step and a digest of the code;
* ``HyperparameterTuner`` reads its trainer without the trainer's SDK-config defaults and drops
  its network isolation, inter-container encryption and volume KMS key: the defaults are filled
  in and the three carried over, as the tuner already does the VPC;
* ``AutoMLStep`` and the ``CreateJob`` producers (``JobStep``) cannot build offline: refused at
  construction with the reason synth refuses them (``REFUSED_STEP_TYPES``);
* ``NotebookJobStep`` (a Training step) stages its notebook under ``input-<build time>``, so no two
  synths agree: refused at construction with :data:`NOTEBOOK_JOB_REFUSAL`.

Like :mod:`~pipeline_defs.compiler.sdk_pins`, this module touches SDK internals;
``tests/pipeline_defs/test_pd_sdk_assumptions.py`` checks each assumption it makes.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import tarfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from pipeline_defs.compiler.build_errors import record_creation
from pipeline_defs.compiler.sdk_session import sdk_environment
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.validation.step_checks import REFUSED_STEP_TYPES

with sdk_environment():
    import sagemaker.mlops.workflow._check_job_request as sdk_check_request_module  # noqa: E402
    import sagemaker.mlops.workflow.automl_step as sdk_automl_module  # noqa: E402
    import sagemaker.mlops.workflow.clarify_check_step as sdk_clarify_module  # noqa: E402
    import sagemaker.mlops.workflow.notebook_job_step as sdk_notebook_module  # noqa: E402
    import sagemaker.mlops.workflow.quality_check_step as sdk_quality_module  # noqa: E402
    import sagemaker.mlops.workflow.steps as sdk_steps_module  # noqa: E402
    import sagemaker.train.multi_turn_rl_trainer as sdk_multi_turn_module  # noqa: E402
    import sagemaker.train.tuner as sdk_tuner_module  # noqa: E402
    from sagemaker.core import s3 as sdk_s3  # noqa: E402
    from sagemaker.core.common_utils import base_from_name  # noqa: E402
    from sagemaker.core.model_monitor.clarify_model_monitoring import ClarifyModelMonitor  # noqa: E402
    from sagemaker.core.workflow.utilities import load_step_compilation_context  # noqa: E402

Swap = tuple[Any, str, Any]

_original_check_job_request: Callable[..., dict] = sdk_check_request_module._build_check_job_request
_Tuner = sdk_tuner_module.HyperparameterTuner
_original_tuning_channels: Callable[..., None] = _Tuner.__dict__["_build_driver_and_code_channels"].__func__
_original_training_definition: Callable[..., Any] = _Tuner._build_training_job_definition
_original_step_init: Callable[..., None] = sdk_steps_module.Step.__init__


def _step_init_recording_its_line(self: Any, *args: Any, **kwargs: Any) -> None:
    _original_step_init(self, *args, **kwargs)
    record_creation(self)


def _check_job_request_in_api_form(**kwargs: Any) -> dict:
    """The check job's CreateProcessingJob request: ``NetworkConfig`` as the API's dictionary, the job
    named after ``base_job_name`` (the pipeline service adds its suffix)."""
    request = _original_check_job_request(**kwargs)
    network = request.get("NetworkConfig")
    if network is not None and hasattr(network, "_to_request_dict"):
        request["NetworkConfig"] = network._to_request_dict()
    base_job_name = getattr(kwargs.get("check_job_config"), "base_job_name", None)
    if base_job_name:
        request["ProcessingJobName"] = base_job_name
    return request


def _analysis_config_by_content(self: Any, analysis_config: dict, output_s3_uri: str, job_definition_name: str, kms_key: Any) -> str:
    """Stage a Clarify monitoring analysis config at ``<output>/<base name>/<digest>/analysis_config.json``."""
    body = json.dumps(analysis_config, sort_keys=True)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]
    uri = sdk_s3.s3_path_join(output_s3_uri, base_from_name(job_definition_name), digest, "analysis_config.json")
    return sdk_s3.S3Uploader.upload_string_as_file_body(body, desired_s3_uri=uri, sagemaker_session=self.sagemaker_session, kms_key=kms_key)


def deterministic_tarball(directory: Path) -> bytes:
    """``directory`` as a .tar.gz that depends on file names and bytes only (no times, owners, order)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", filename="", mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for path in sorted(p for p in directory.rglob("*") if p.is_file()):
                relative = path.relative_to(directory)
                if "__pycache__" in relative.parts or path.suffix == ".pyc":
                    continue
                body = path.read_bytes()
                info = tarfile.TarInfo(relative.as_posix())
                info.size, info.mode, info.mtime = len(body), 0o644, 0
                archive.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


@contextlib.contextmanager
def _swapped(owner: Any, attribute: str, value: Any) -> Iterator[None]:
    previous = getattr(owner, attribute)
    setattr(owner, attribute, value)
    try:
        yield
    finally:
        setattr(owner, attribute, previous)


def _tuning_channels_offline(cls: type, model_trainer: Any) -> None:
    """The tuner's code channels, with the source directory staged as a deterministic tarball.

    The SDK's own upload then sees an S3 source directory and only points the job at it; its
    upload prefix (job name plus clock) becomes ``<input_s3_key_prefix>/<step>/tuning-<digest>``.
    """
    source_code = getattr(model_trainer, "source_code", None)
    source_dir = getattr(source_code, "source_dir", None)
    if not isinstance(getattr(source_code, "entry_script", None), str):
        return _original_tuning_channels(cls, model_trainer)
    local = isinstance(source_dir, str) and not source_dir.startswith("s3://")
    tarball = deterministic_tarball(Path(source_dir)) if local else b""
    digest = hashlib.sha256(tarball + json.dumps(source_code.model_dump(), sort_keys=True, default=str).encode())
    context = load_step_compilation_context()
    step = context.step_name if context else "tuning"
    root = f"{model_trainer.input_s3_key_prefix or model_trainer.base_job_name}/{step}/tuning-{digest.hexdigest()[:16]}"
    staged_dir = source_dir
    if local:
        session = model_trainer.sagemaker_session
        staged_dir = session.upload_string_as_file_body(
            tarball, bucket=session.default_bucket(), key=f"{root}/sourcedir/sourcedir.tar.gz"
        )
    real_time = time.time
    try:
        # The SDK puts int(time.time()) into the prefix; the digest above already tells builds apart.
        time.time = lambda: 0.0
        with _swapped(model_trainer, "base_job_name", root), _swapped(source_code, "source_dir", staged_dir):
            _original_tuning_channels(cls, model_trainer)
    finally:
        time.time = real_time
    return None


def _training_definition_with_guardrails(self: Any, inputs: Any) -> Any:
    """The tuner's training job definition, carrying the trainer's isolation, encryption and volume key.

    The trainer's defaults from the SDK config (networking, output) are filled in first, as its
    own ``train()`` does; the tuner reads the trainer without doing so.
    """
    trainer = self.model_trainer
    trainer._populate_intelligent_defaults()
    definition = _original_training_definition(self, inputs)
    networking = getattr(trainer, "networking", None)
    for name in ("enable_network_isolation", "enable_inter_container_traffic_encryption"):
        value = getattr(networking, name, None)
        if isinstance(value, bool):
            setattr(definition, name, value)
    volume_key = getattr(getattr(trainer, "compute", None), "volume_kms_key_id", None)
    if volume_key and definition.resource_config is not None:
        definition.resource_config.volume_kms_key_id = volume_key
    return definition


NOTEBOOK_JOB_REFUSAL = (
    "NotebookJobStep steps cannot be compiled here: the SDK stages the notebook under a key holding the build "
    "time (input-<timestamp>), so every synth would change the definition and the review would report a change "
    "in every environment, and its job runs without network isolation; convert the notebook to a script "
    "(jupyter nbconvert --to script) and run it in a ProcessingStep with ctx.job_script(...)"
)
"""Why synth refuses ``NotebookJobStep``; its type is Training, which synth compiles, so the reason is its own."""


def _refused(kind: str, reason: str | None = None) -> Callable[..., None]:
    """A constructor that stops the build with the reason synth refuses ``kind`` steps."""

    def refuse(self: Any, *args: Any, **kwargs: Any) -> None:
        step = kwargs.get("name", args[0] if args and isinstance(args[0], str) else None)
        message = reason or f"{kind} steps cannot be compiled here: {REFUSED_STEP_TYPES[kind]}"
        raise PipelineDefinitionError(message, step=step, field="Type")

    return refuse


def step_type_swaps() -> list[Swap]:
    """(owner, attribute, replacement) for each pin of this module."""
    return [
        (sdk_steps_module.Step, "__init__", _step_init_recording_its_line),
        (sdk_quality_module, "_build_check_job_request", _check_job_request_in_api_form),
        (sdk_clarify_module, "_build_check_job_request", _check_job_request_in_api_form),
        (ClarifyModelMonitor, "_upload_analysis_config", _analysis_config_by_content),
        (_Tuner, "_build_driver_and_code_channels", classmethod(_tuning_channels_offline)),
        (_Tuner, "_build_training_job_definition", _training_definition_with_guardrails),
        (sdk_automl_module.AutoMLStep, "__init__", _refused("AutoML")),
        (sdk_steps_module.JobStep, "__init__", _refused("Job")),
        (sdk_multi_turn_module.MultiTurnRLTrainer, "__init__", _refused("Job")),
        (sdk_notebook_module.NotebookJobStep, "__init__", _refused("Training", NOTEBOOK_JOB_REFUSAL)),
    ]
