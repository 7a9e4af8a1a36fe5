"""What a pipeline builder gets from the environment: names, placeholders, tags, session.

Pure Python: the stacks build one with :func:`context_for_environment` from their own config,
and the compiler fills in the pipeline name and the offline session per pipeline.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from base.errors import nearest_name_hint
from base.naming import pipeline_name_problem
from pipeline_defs import placeholders
from pipeline_defs.contract import PIPELINE_TAG
from pipeline_defs.errors import PipelineDefinitionError

DEFAULT_REGION = "us-east-1"
DEFAULT_INSTANCE_TYPE = "ml.m5.large"
ENV_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")
PACKAGE_ROOT = Path(__file__).resolve().parent
JOBS_DIR = "jobs"
JOB_NAME_PREFIX_LENGTH = 39


def utf8_problem(data: bytes) -> str | None:
    """Where ``data`` stops being UTF-8 (``byte 0xe9 at line 3, column 7``), or None when it is UTF-8.

    Job scripts run as Python source, which is read as UTF-8; another encoding fails only in the job.
    """
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        return f"byte 0x{data[error.start]:02x} at line {line}, column {error.start - line_start + 1}"
    return None


def _job_files() -> list[str]:
    jobs = PACKAGE_ROOT / JOBS_DIR
    return sorted(p.relative_to(jobs).as_posix() for p in jobs.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


@dataclass(frozen=True)
class BuildContext:
    """Everything a builder may use; deploy-time values are ``${Name}`` placeholders."""

    env_name: str
    name_prefix: str
    region: str
    region_is_pinned: bool
    cost_tag_key: str
    cost_tag_value: str
    default_instance_type: str = DEFAULT_INSTANCE_TYPE
    allowed_instance_types: tuple[str, ...] = ()
    subnet_ids: tuple[str, ...] = tuple(p.token for p in placeholders.SUBNET_IDS[:2])
    security_group_ids: tuple[str, ...] = (placeholders.JOB_SECURITY_GROUP_ID.token,)
    execution_role_arn: str = placeholders.EXECUTION_ROLE_ARN
    artifact_bucket: str = placeholders.ARTIFACT_BUCKET.token
    kms_key: str = placeholders.KMS_KEY_ARN.token
    step_image_uri: str | None = None
    pipeline_name: str | None = None
    session: Any = field(default=None, compare=False, repr=False)

    def full_pipeline_name(self, module_pipeline_name: str) -> str:
        """Environment prefix + the module's name: stable per environment."""
        return f"{self.name_prefix}-{module_pipeline_name}"

    def for_pipeline(self, *, pipeline_name: str, session: Any) -> "BuildContext":
        return dataclasses.replace(self, pipeline_name=pipeline_name, session=session)

    def cost_tags(self) -> list[dict[str, str]]:
        """The cost tag, and the pipeline tag the cost report groups by.

        A fresh list each call: the SDK may extend a tag list in place.
        """
        tags = [{"Key": self.cost_tag_key, "Value": self.cost_tag_value}]
        if self.pipeline_name:
            tags.append({"Key": PIPELINE_TAG, "Value": self.pipeline_name})
        return tags

    def s3_uri(self, *parts: str) -> str:
        """``s3://<artifact bucket>/<pipeline>/<parts...>`` for data a pipeline owns."""
        self._require_pipeline()
        return "/".join(["s3:/", self.artifact_bucket, self.pipeline_name, *parts])

    def job_name(self, step_name: str) -> str:
        """``<pipeline>-<step>``, the prefix of a step's job names, at most 39 characters.

        The SDK cuts a job name prefix to 39 characters (63 minus its timestamp). A longer name
        keeps the environment prefix (the execution role's IAM scope), a short hash of the
        pipeline name so two long pipelines never share a prefix, then as much as fits of the
        pipeline's own name and the step.
        """
        self._require_pipeline()
        full = f"{self.pipeline_name}-{step_name}"
        if len(full) <= JOB_NAME_PREFIX_LENGTH:
            return full
        digest = hashlib.sha256(self.pipeline_name.encode()).hexdigest()[:6]
        own = self.pipeline_name.removeprefix(f"{self.name_prefix}-")
        head = f"{self.name_prefix}-"
        step = step_name[: max(1, JOB_NAME_PREFIX_LENGTH - len(head) - len(digest) - 2)]
        room = JOB_NAME_PREFIX_LENGTH - len(head) - len(digest) - len(step) - 2
        middle = f"{own[:room].rstrip('-')}-" if room > 1 else ""
        return f"{head}{middle}{digest}-{step}"[:JOB_NAME_PREFIX_LENGTH].rstrip("-")

    def job_script(self, file_name: str) -> str:
        """Path of a job script relative to the package root (the compiler's working dir).

        Relative, because the SDK hashes the path string into the S3 key of the code. The script
        must lie inside ``jobs/`` (it is staged from there) and be UTF-8 text.
        """
        where = f"pipeline_defs/{JOBS_DIR}/"
        if not isinstance(file_name, str) or not file_name:
            raise PipelineDefinitionError(f"job script {file_name!r}: expected a file name under {where}, e.g. 'train.py'", pipeline=self.pipeline_name)
        parts = PurePosixPath(file_name.replace("\\", "/")).parts
        if PurePosixPath(file_name).is_absolute() or PureWindowsPath(file_name).drive or ".." in parts:
            raise PipelineDefinitionError(
                f"job script {file_name!r} must be a path relative to {where} without '..' "
                f"(only files there are staged), e.g. {(_job_files() or ['train.py'])[0]!r}",
                pipeline=self.pipeline_name,
            )
        path = PACKAGE_ROOT / JOBS_DIR / file_name
        if not path.is_file():
            what = "is a directory, not a file" if path.is_dir() else "not found"
            raise PipelineDefinitionError(
                f"job script {file_name!r} {what} under {where}{nearest_name_hint(file_name, _job_files())}",
                pipeline=self.pipeline_name,
            )
        problem = utf8_problem(path.read_bytes())
        if problem:
            raise PipelineDefinitionError(
                f"job script {where}{file_name} is not UTF-8 text ({problem}): save it as UTF-8, "
                "the encoding Python reads source in",
                pipeline=self.pipeline_name,
            )
        return f"{JOBS_DIR}/{file_name}"

    def lambda_function_arn(self, function: str) -> str:
        """Placeholder for a Lambda the stacks deploy, e.g. ``"FanOut"``."""
        try:
            return placeholders.LAMBDA_FUNCTION_ARNS[function].token
        except KeyError:
            known = ", ".join(sorted(placeholders.LAMBDA_FUNCTION_ARNS))
            raise PipelineDefinitionError(
                f"unknown Lambda function {function!r}; known: {known}",
                pipeline=self.pipeline_name,
            ) from None

    def child_pipeline_name(self, module_pipeline_name: str) -> str:
        """Name another pipeline module of the same environment gets."""
        return self.full_pipeline_name(module_pipeline_name)

    def _require_pipeline(self) -> None:
        if not self.pipeline_name:
            raise RuntimeError("BuildContext has no pipeline yet; the compiler sets it")


def context_for_environment(
    *,
    env_name: str,
    region: str | None,
    cost_tag_key: str,
    cost_tag_value: str,
    allowed_instance_types: tuple[str, ...] | list[str] = (),
    default_instance_type: str | None = None,
    name_prefix: str | None = None,
    step_image_uri: str | None = None,
    subnet_count: int = 2,
) -> BuildContext:
    """Build the context from an environment's settings (the stacks pass their config fields).

    Pipeline names are ``<name_prefix>-<module PIPELINE_NAME>``; the prefix defaults to the
    environment name (pass e.g. the stage's resource prefix to share one naming scheme).
    ``step_image_uri`` is the image ``@step`` jobs run in; it must hold the compiling Python
    version and sagemaker 3.27 (jobs have no internet to install it). Default: the region's
    PyTorch 2.5 CPU training image for this Python.

    A None region (env-agnostic sandbox) compiles for us-east-1; the result records it so the
    stack can require the deploy region to match. ``subnet_count`` is how many job subnets the
    environment has: jobs name every one of them, so they spread over all of its zones.
    """
    if not isinstance(subnet_count, int) or not 2 <= subnet_count <= len(placeholders.SUBNET_IDS):
        raise PipelineDefinitionError(
            f"subnet count {subnet_count!r} must be from 2 to {len(placeholders.SUBNET_IDS)}"
        )
    if not isinstance(env_name, str) or not ENV_NAME_PATTERN.match(env_name):
        raise PipelineDefinitionError(
            f"environment name {env_name!r} must match {ENV_NAME_PATTERN.pattern}"
        )
    for label, value in (("cost_tag_key", cost_tag_key), ("cost_tag_value", cost_tag_value)):
        if not isinstance(value, str) or (label == "cost_tag_key" and not value):
            raise PipelineDefinitionError(f"{label} must be a non-empty string, got {value!r}")
    allowed = tuple(allowed_instance_types)
    instance_type = default_instance_type or (allowed[0] if allowed else DEFAULT_INSTANCE_TYPE)
    if allowed and instance_type not in allowed:
        raise PipelineDefinitionError(
            f"default instance type {instance_type!r} is not in the allowlist {list(allowed)}"
        )
    prefix = name_prefix or env_name
    problem = pipeline_name_problem(prefix)
    if problem:
        raise PipelineDefinitionError(f"pipeline name prefix {prefix!r} {problem}")
    return BuildContext(
        env_name=env_name,
        name_prefix=prefix,
        region=region or DEFAULT_REGION,
        region_is_pinned=region is not None,
        cost_tag_key=cost_tag_key,
        cost_tag_value=cost_tag_value,
        default_instance_type=instance_type,
        allowed_instance_types=allowed,
        step_image_uri=step_image_uri,
        subnet_ids=tuple(p.token for p in placeholders.SUBNET_IDS[:subnet_count]),
    )
