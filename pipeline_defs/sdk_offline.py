"""Every use of SageMaker Python SDK v3 internals, in one place.

The SDK builds pipeline definitions by talking to AWS (bucket lookups, uploads, role expansion,
IAM policy simulation, telemetry) and stamps each build with time- and random-derived values.
This module removes both:

* ``OfflinePipelineSession`` fixes region and bucket, stages every upload in memory under the
  exact S3 key the SDK chose, returns roles verbatim, and refuses (and records) any AWS request.
* ``sdk_defaults_config`` turns the context's values into the SDK's own config dictionary, so
  job defaults (VPC, KMS, tags, role, ``@step`` settings) apply without touching each call.
* ``pinned_sdk`` swaps, for the duration of one build, the SDK internals that make builds differ
  or reach AWS: the build timestamp and the ``@step`` signing key (``StepsCompiler``), the
  per-lookup config re-validation, the throwaway local session a step constructor creates, the
  timestamped prefix and the IAM check of ``ModelTrainer`` uploads.
* ``finish_definition`` replaces the build timestamp with a digest of everything built, so S3
  keys are content-addressed.

``tests/pipeline_defs/test_pd_sdk_assumptions.py`` checks each assumption made here, so an SDK
upgrade that moves one of them fails loudly instead of drifting silently.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib.metadata
import json
import logging
import os
import re
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

# Environment the SDK needs while it is imported and while a definition builds, and no longer:
# importing builds a boto3 client in a class body (sagemaker.ai_registry AIRHub), which needs a
# region and, without credentials, makes botocore probe the EC2 metadata service; role
# validation (IAM calls) is skipped only with SAGEMAKER_VALIDATE_ROLE=false.
_SDK_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "SAGEMAKER_VALIDATE_ROLE": "false",
}


@contextlib.contextmanager
def sdk_environment() -> Iterator[None]:
    """Set the variables above (region only when unset), restoring the caller's afterwards."""
    previous = {name: os.environ.get(name) for name in _SDK_ENVIRONMENT}
    for name, value in _SDK_ENVIRONMENT.items():
        if name != "AWS_DEFAULT_REGION" or not os.environ.get(name):
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


with sdk_environment():
    import boto3  # noqa: E402
    import botocore.session  # noqa: E402
    import cloudpickle  # noqa: E402
    from cryptography.hazmat.primitives import hashes  # noqa: E402
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: E402

    import sagemaker.mlops.workflow.pipeline as sdk_pipeline_module  # noqa: E402
    import sagemaker.mlops.workflow.steps as sdk_steps_module  # noqa: E402
    import sagemaker.train.model_trainer as sdk_model_trainer_module  # noqa: E402
    from sagemaker.core.config.config_manager import SageMakerConfig  # noqa: E402
    from sagemaker.core.workflow.pipeline_context import PipelineSession  # noqa: E402
    from sagemaker.core.workflow.utilities import load_step_compilation_context  # noqa: E402
    from sagemaker.mlops.workflow._steps_compiler import StepsCompiler  # noqa: E402

from pipeline_defs import placeholders  # noqa: E402
from pipeline_defs.contract import canonical_json, iter_steps  # noqa: E402

SDK_DISTRIBUTIONS = ("sagemaker", "sagemaker-core", "sagemaker-mlops", "sagemaker-train", "sagemaker-serve")
SDK_VERSIONS: dict[str, str] = {
    name: importlib.metadata.version(name) for name in SDK_DISTRIBUTIONS
}
SIGNING_SEED_ENV = "PIPELINE_DEFS_SIGNING_SEED"
DEVELOPMENT_SIGNING_SEED = b"pipeline_defs development-only seed; published, not secret"
BUILD_ID_SENTINEL = "pipelinedefs-build-id-sentinel"
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_OFFLINE_CREDENTIAL = "offline-no-aws-calls"
_BOOTSTRAP_CONFIG = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}
_SDK_LOCK = threading.RLock()


class OfflineCallError(RuntimeError):
    """The SDK tried to reach AWS while building a definition."""


class StagingConflictError(RuntimeError):
    """Two uploads chose the same S3 key with different bytes, or a bucket we do not own."""


class StagedFiles:
    """Files the SDK would upload, by S3 key, as bytes."""

    def __init__(self, *, bucket: str) -> None:
        self.bucket = bucket
        self.files: dict[str, bytes] = {}

    def put(self, *, bucket: str, key: str, body: bytes) -> None:
        if bucket != self.bucket:
            raise StagingConflictError(
                f"upload to bucket {bucket!r} (key {key!r}); only the artifact bucket "
                f"{self.bucket!r} is deployed"
            )
        key = key.lstrip("/")
        existing = self.files.get(key)
        if existing is not None and existing != body:
            raise StagingConflictError(f"two different files for the same S3 key {key!r}")
        self.files[key] = body


def _split_s3_uri(uri: str) -> tuple[str, str]:
    match = re.match(r"^s3://([^/]+)/?(.*)$", uri)
    if not match:
        raise StagingConflictError(f"not an S3 URI: {uri!r}")
    return match.group(1), match.group(2)


class _StagingBucket:
    def __init__(self, session: "OfflinePipelineSession", bucket: str) -> None:
        self._session = session
        self._bucket = bucket

    def upload_fileobj(self, fileobj: Any, key: str, ExtraArgs: dict | None = None, **_: Any) -> None:  # noqa: N803
        self._session.require_staging().put(bucket=self._bucket, key=key, body=fileobj.read())

    def upload_file(self, filename: str, key: str, ExtraArgs: dict | None = None, **_: Any) -> None:  # noqa: N803
        self._session.require_staging().put(
            bucket=self._bucket, key=key, body=Path(filename).read_bytes()
        )

    def __getattr__(self, name: str) -> Any:
        raise OfflineCallError(f"S3 Bucket.{name} on {self._bucket!r} is not available offline")


class _StagingS3Resource:
    """Stands in for ``session.s3_resource``: uploads land in the staging area."""

    def __init__(self, session: "OfflinePipelineSession") -> None:
        self._session = session

    def Bucket(self, name: str) -> _StagingBucket:  # noqa: N802
        return _StagingBucket(self._session, name)

    def __getattr__(self, name: str) -> Any:
        raise OfflineCallError(f"S3 resource {name} is not available offline")


class RequestGuard:
    """Refuses every AWS request of a session and remembers it, even when the SDK swallows the error."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def __call__(self, request: Any = None, **_: Any) -> None:
        url = getattr(request, "url", "?")
        self.attempts.append(url)
        raise OfflineCallError(f"the SDK tried to send an AWS request while compiling: {url}")


class _ReusingClientsSession(boto3.Session):
    """Creates each plain client once: ``Pipeline()`` builds a scheduler client per instance."""

    def client(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs or len(args) != 1:
            return super().client(*args, **kwargs)
        cache = self.__dict__.setdefault("_offline_clients", {})
        if args[0] not in cache:
            cache[args[0]] = super().client(args[0])
        return cache[args[0]]


def _offline_boto_session(region: str, guard: RequestGuard) -> boto3.Session:
    """A boto3 session that ignores local AWS config and refuses to send any request."""
    core = botocore.session.Session()
    core.set_config_variable("config_file", os.devnull)
    core.set_config_variable("credentials_file", os.devnull)
    core.set_credentials(_OFFLINE_CREDENTIAL, _OFFLINE_CREDENTIAL)
    core.register("before-send", guard)
    return _ReusingClientsSession(botocore_session=core, region_name=region)


class OfflinePipelineSession(PipelineSession):
    """A ``PipelineSession`` that never calls AWS and stages uploads locally."""

    def __init__(self, *, region: str, bucket: str) -> None:
        self.request_guard = RequestGuard()
        super().__init__(
            boto_session=_offline_boto_session(region, self.request_guard),
            default_bucket=bucket,
            sagemaker_config=copy.deepcopy(_BOOTSTRAP_CONFIG),
        )
        self._offline_bucket = bucket
        self.staging: StagedFiles | None = None
        self.s3_resource = _StagingS3Resource(self)

    def require_staging(self) -> StagedFiles:
        if self.staging is None:
            raise OfflineCallError("upload outside a compile: no staging area")
        return self.staging

    def default_bucket(self) -> str:
        return self._offline_bucket

    def _get_account_id_if_default_bucket(self, bucket: str) -> None:
        return None

    def account_id(self) -> str:
        raise OfflineCallError("account id is a deploy-time value; use the ${AWS::AccountId} placeholder")

    def get_caller_identity_arn(self) -> str:
        raise OfflineCallError("no role was given; the execution role comes from the BuildContext")

    def expand_role(self, role: str) -> str:
        return role

    def upload_data(self, path, bucket=None, key_prefix="data", callback=None, extra_args=None):  # noqa: ANN001
        bucket = bucket or self._offline_bucket
        staging = self.require_staging()
        if os.path.isdir(path):
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
                for name in sorted(f for f in filenames if not f.endswith(".pyc")):
                    local = os.path.join(dirpath, name)
                    relative = os.path.relpath(local, path).replace(os.sep, "/")
                    staging.put(
                        bucket=bucket, key=f"{key_prefix}/{relative}", body=Path(local).read_bytes()
                    )
            return f"s3://{bucket}/{key_prefix}"
        key = f"{key_prefix}/{os.path.basename(path)}"
        staging.put(bucket=bucket, key=key, body=Path(path).read_bytes())
        return f"s3://{bucket}/{key}"

    def upload_string_as_file_body(self, body, bucket, key, kms_key=None):  # noqa: ANN001
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        self.require_staging().put(bucket=bucket, key=key, body=data)
        return f"s3://{bucket}/{key}"


# --- SDK defaults through the SDK's own config mechanism -------------------------------------


def _pruned(value: Any) -> Any:
    """Drop None and emptied entries, so an opted-out default is absent rather than blank."""
    if isinstance(value, dict):
        pruned = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v is not None and v != {} and v != []}
    return value


def sdk_defaults_config(
    *,
    role_arn: str,
    bucket: str,
    subnet_ids: tuple[str, ...],
    security_group_ids: tuple[str, ...],
    volume_kms_key: str | None,
    output_kms_key: str | None,
    tags: list[dict[str, str]],
    network_isolation: bool,
    inter_container_encryption: bool,
    step_instance_type: str,
    step_image_uri: str,
) -> dict:
    """The SDK config dictionary (``SageMaker.*``) carrying every job default.

    Empty subnets, a None key or no tags leave that default out (an explicit exemption).
    """
    vpc = {"Subnets": list(subnet_ids), "SecurityGroupIds": list(security_group_ids)}
    if not subnet_ids or not security_group_ids:
        vpc = {}

    def fresh_tags() -> list[dict[str, str]]:
        return [dict(tag) for tag in tags]

    return _pruned(
        {
            "SchemaVersion": "1.0",
            "SageMaker": {
                "PythonSDK": {
                    "Modules": {
                        "TelemetryOptOut": True,
                        "RemoteFunction": {
                            "RoleArn": role_arn,
                            "ImageUri": step_image_uri,
                            "InstanceType": step_instance_type,
                            "S3RootUri": f"s3://{bucket}",
                            "S3KmsKeyId": output_kms_key,
                            "VolumeKmsKeyId": volume_kms_key,
                            "VpcConfig": copy.deepcopy(vpc),
                            "EnableInterContainerTrafficEncryption": inter_container_encryption,
                            "Tags": fresh_tags(),
                        },
                        # ModelTrainer reads its own space and ignores most of
                        # SageMaker.TrainingJob (and outputDataConfig once it set a default).
                        "ModelTrainer": {
                            "networking": {
                                "subnets": list(vpc.get("Subnets", [])),
                                "security_group_ids": list(vpc.get("SecurityGroupIds", [])),
                                "enable_network_isolation": network_isolation,
                                "enable_inter_container_traffic_encryption": inter_container_encryption,
                            },
                        },
                    }
                },
                "ProcessingJob": {
                    "NetworkConfig": {
                        "EnableNetworkIsolation": network_isolation,
                        "EnableInterContainerTrafficEncryption": inter_container_encryption,
                        "VpcConfig": copy.deepcopy(vpc),
                    },
                    "ProcessingOutputConfig": {"KmsKeyId": output_kms_key},
                    "ProcessingResources": {"ClusterConfig": {"VolumeKmsKeyId": volume_kms_key}},
                    "RoleArn": role_arn,
                    "Tags": fresh_tags(),
                },
                "TrainingJob": {
                    "EnableNetworkIsolation": network_isolation,
                    "EnableInterContainerTrafficEncryption": inter_container_encryption,
                    "OutputDataConfig": {"KmsKeyId": output_kms_key},
                    "ResourceConfig": {"VolumeKmsKeyId": volume_kms_key},
                    "RoleArn": role_arn,
                    "VpcConfig": copy.deepcopy(vpc),
                    "Tags": fresh_tags(),
                },
                # TransformOutput.KmsKeyId / TransformResources.VolumeKmsKeyId are left out: SDK
                # 3.27 merges them into snake_case dicts under PascalCase keys and its own model
                # rejects the result. Builders pass output_kms_key/volume_kms_key to Transformer;
                # validation fails the compile when they are missing.
                "TransformJob": {"Tags": fresh_tags()},
                "Model": {
                    "EnableNetworkIsolation": network_isolation,
                    "ExecutionRoleArn": role_arn,
                    "VpcConfig": copy.deepcopy(vpc),
                    "Tags": fresh_tags(),
                },
            },
        }
    )


_SCHEMA_STAND_INS = {
    placeholders.PARTITION.name: "aws",
    placeholders.ACCOUNT_ID.name: "000000000000",
    placeholders.REGION.name: "us-east-1",
}


def _with_stand_ins(value: Any) -> Any:
    if isinstance(value, str):
        return re.sub(
            r"\$\{([^}]*)\}",
            lambda m: _SCHEMA_STAND_INS.get(m.group(1), re.sub(r"[^A-Za-z0-9]", "", m.group(1))),
            value,
        )
    if isinstance(value, dict):
        return {k: _with_stand_ins(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_stand_ins(v) for v in value]
    return value


class _TrustedConfigs:
    """Configs validated once (with placeholders replaced by valid stand-ins) and then trusted.

    The SDK re-validates the whole config against its JSON schema on every lookup, which costs
    seconds per pipeline, and its role pattern rejects a placeholder ARN. Validating the shape
    once keeps the check without either cost.
    """

    def __init__(self) -> None:
        self._ids: set[int] = set()
        self._by_content: dict[str, dict] = {}

    def validate_and_trust(self, config: dict) -> dict:
        """Return the trusted config equal to ``config``, validating it the first time seen."""
        content = canonical_json(config)
        if content not in self._by_content:
            original_validate(_with_stand_ins(config))
            self._by_content[content] = config
            self._ids.add(id(config))
        return self._by_content[content]

    def is_trusted(self, config: Any) -> bool:
        return id(config) in self._ids


original_validate = SageMakerConfig.validate_sagemaker_config
_trusted_configs = _TrustedConfigs()


def trust_config(config: dict) -> dict:
    """Validate an SDK config once against the SDK's schema; lookups then skip re-validation.

    Returns the trusted instance (an equal config seen before is returned as the same object).
    """
    return _trusted_configs.validate_and_trust(config)


def _validate_unless_trusted(sagemaker_config: dict | None = None) -> None:
    if sagemaker_config is not None and _trusted_configs.is_trusted(sagemaker_config):
        return
    original_validate(sagemaker_config)


# --- @step signing key -----------------------------------------------------------------------


class DeterministicSigningKey:
    """An EC P-256 key whose signatures are deterministic (RFC 6979), as the SDK's key API.

    The SDK signs ``@step`` payloads with ``key.sign(data, ECDSA(SHA256))`` and publishes
    ``key.public_key()`` in the definition; OpenSSL's default ECDSA nonce is random, which would
    change the staged ``metadata.json`` on every build.
    """

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, *, development_only: bool) -> None:
        self._private_key = private_key
        self.development_only = development_only

    def sign(self, data: bytes, signature_algorithm: ec.ECDSA) -> bytes:
        return self._private_key.sign(
            data, ec.ECDSA(signature_algorithm.algorithm, deterministic_signing=True)
        )

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._private_key.public_key()


def signing_seed_from_environment() -> tuple[bytes, bool]:
    """The synth-time seed and whether it is the development-only fallback (warns loudly)."""
    seed = os.environ.get(SIGNING_SEED_ENV, "")
    if seed:
        return seed.encode("utf-8"), False
    message = (
        f"{SIGNING_SEED_ENV} is not set: @step payloads are signed with a DEVELOPMENT-ONLY key "
        "derived from a published seed. Anyone who can write the artifact bucket could forge "
        "them. Set the seed from a secret at synth for any shared environment."
    )
    warnings.warn(message, stacklevel=2)
    return DEVELOPMENT_SIGNING_SEED, True


def signing_key_for(*, seed: bytes, pipeline_name: str, development_only: bool) -> DeterministicSigningKey:
    """Derive the pipeline's ``@step`` signing key from the seed (HKDF-SHA256, per pipeline)."""
    material = HKDF(
        algorithm=hashes.SHA256(),
        length=48,
        salt=b"pipeline_defs/step-signing/v1",
        info=pipeline_name.encode("utf-8"),
    ).derive(seed)
    scalar = int.from_bytes(material, "big") % (_P256_ORDER - 1) + 1
    return DeterministicSigningKey(
        ec.derive_private_key(scalar, ec.SECP256R1()), development_only=development_only
    )


# --- pins for one build ----------------------------------------------------------------------


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
        (SageMakerConfig, "validate_sagemaker_config", staticmethod(_validate_unless_trusted)),
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


# --- definition post-processing --------------------------------------------------------------

_UUID_SUFFIX = re.compile(r"-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def unnamed_function_steps(definition: dict) -> list[str]:
    """``@step`` names the SDK generated from a uuid (not stable between builds)."""
    return [
        step["Name"] for step, _ in iter_steps(definition.get("Steps", [])) if _UUID_SUFFIX.search(step["Name"])
    ]


def relativize_descriptions(definition: dict, *, root: Path) -> None:
    """A ``@step`` without docstring gets its absolute file path as description; make it relative."""
    root_text = str(root)
    for step, _ in iter_steps(definition.get("Steps", [])):
        description = step.get("Description")
        if isinstance(description, str) and os.path.isabs(description):
            try:
                step["Description"] = Path(description).resolve().relative_to(root).as_posix()
            except ValueError:
                step["Description"] = Path(description).name
        elif isinstance(description, str) and root_text in description:
            step["Description"] = description.replace(root_text + os.sep, "")


@dataclass(frozen=True)
class BuiltDefinition:
    """A definition with its staged files, the build id substituted everywhere."""

    definition: dict
    staged_files: dict[str, bytes]
    build_id: str


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


def finish_definition(*, raw: str, staged: StagedFiles, root: Path) -> BuiltDefinition:
    """Make a built definition content-addressed and free of checkout paths.

    The SDK puts its build timestamp into ``@step`` S3 paths; a sentinel takes its place during
    the build and is replaced here by a digest of everything built, so new code gets new keys
    (a running execution keeps reading its own files) and unchanged code keeps its keys.
    """
    definition = json.loads(raw)
    relativize_descriptions(definition, root=root)
    digest = hashlib.sha256(canonical_json(definition).encode("utf-8"))
    for key in sorted(staged.files):
        digest.update(key.encode("utf-8") + b"\0" + hashlib.sha256(staged.files[key]).digest())
    build_id = "b" + digest.hexdigest()[:20]
    text = canonical_json(definition).replace(BUILD_ID_SENTINEL, build_id)
    files = {key.replace(BUILD_ID_SENTINEL, build_id): body for key, body in staged.files.items()}
    return BuiltDefinition(definition=json.loads(text), staged_files=files, build_id=build_id)


