"""The offline SDK session: fixed region and bucket, uploads staged in memory, no AWS request sent.

The SageMaker Python SDK v3 builds definitions by talking to AWS (bucket lookups, uploads, role
expansion, telemetry). ``OfflinePipelineSession`` answers each of those locally: it stages every
upload under the exact S3 key the SDK chose, returns roles verbatim, and refuses (and records) any
request that still reaches botocore, even when the SDK swallows the error.

This module, :mod:`~pipeline_defs.compiler.sdk_config` and :mod:`~pipeline_defs.compiler.sdk_pins`
are the only code that touches SDK internals; ``tests/pipeline_defs/test_pd_sdk_assumptions.py``
checks each assumption they make, so an SDK upgrade that moves one fails loudly instead of drifting.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.metadata
import os
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

    from sagemaker.core.workflow.pipeline_context import PipelineSession  # noqa: E402

SDK_DISTRIBUTIONS = ("sagemaker", "sagemaker-core", "sagemaker-mlops", "sagemaker-train", "sagemaker-serve")
SDK_VERSIONS: dict[str, str] = {
    name: importlib.metadata.version(name) for name in SDK_DISTRIBUTIONS
}
_OFFLINE_CREDENTIAL = "offline-no-aws-calls"
_BOOTSTRAP_CONFIG = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}


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


_sessions: dict[tuple[str, str], OfflinePipelineSession] = {}


def offline_session(*, region: str, bucket: str) -> OfflinePipelineSession:
    """One offline session per region and bucket per process (creating one costs ~0.4 s)."""
    key = (region, bucket)
    if key not in _sessions:
        _sessions[key] = OfflinePipelineSession(region=region, bucket=bucket)
    return _sessions[key]
