"""Names every layer must agree on: the app prefix and the SageMaker pipeline-name rule."""

from __future__ import annotations

import hashlib
import re

APP_NAME = "smp"
"""Short prefix of every physical name the app creates (buckets, pipelines, policies)."""

PIPELINE_NAME_MAX_LENGTH = 256
PIPELINE_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
"""SageMaker's rule for pipeline names (CreatePipeline ``PipelineName``): letters, digits, single hyphens."""


def pipeline_name_problem(name: object) -> str | None:
    """Why ``name`` is not a valid SageMaker pipeline name, in words, or None when it is."""
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    if len(name) > PIPELINE_NAME_MAX_LENGTH:
        return f"is too long: {len(name)} characters, at most {PIPELINE_NAME_MAX_LENGTH} are allowed"
    if not PIPELINE_NAME_PATTERN.match(name):
        return "may hold only letters, digits and hyphens, starting and ending with a letter or digit"
    return None

PIPELINE_RESOURCE_TYPE = "Custom::SageMakerPipeline"
"""CloudFormation type of the custom resource that upserts one pipeline; tools find pipelines by it."""
HANDOVER_RESOURCE_TYPE = "Custom::SageMakerPipelineHandover"
"""The shared stack's resource that hands its pipelines over to their own stacks (the handler's copy is tested)."""
SHARED_PIPELINES_STACK_SUFFIX = "pipelines"
"""``<prefix>-pipelines``: the shared stack, which held every pipeline before each had its own."""

ROLE_NAME_MAX_LENGTH = 64
STACK_NAME_MAX_LENGTH = 128
_ROLE_SUFFIX = "-exec"


def _bounded(*, name: str, suffix: str, limit: int) -> str:
    """``name + suffix`` within ``limit`` characters; a longer name keeps its head and a digest of the whole."""
    if len(name) + len(suffix) <= limit:
        return name + suffix
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    head = name[: limit - len(suffix) - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}{suffix}"


def execution_role_name(*, pipeline_name: str) -> str:
    """IAM name of one pipeline's own execution role (at most 64 characters, unique per pipeline)."""
    return _bounded(name=pipeline_name, suffix=_ROLE_SUFFIX, limit=ROLE_NAME_MAX_LENGTH)


def pipeline_stack_name(*, resource_prefix: str, module_pipeline_name: str) -> str:
    """CloudFormation name of one pipeline's own stack, ``<prefix>-pipeline-<module name>``."""
    return _bounded(name=f"{resource_prefix}-pipeline-{module_pipeline_name}", suffix="", limit=STACK_NAME_MAX_LENGTH)


def construct_id(*, module_pipeline_name: str) -> str:
    """``train-evaluate-register`` → ``TrainEvaluateRegister``: readable ids in ``cdk diff``."""
    return "".join(part.capitalize() for part in module_pipeline_name.replace("_", "-").split("-"))

SIGNING_SEED_ENV = "PIPELINE_DEFS_SIGNING_SEED"
"""Environment variable holding the secret seed that signs ``@step`` payloads: only a reviewed
main-branch synth gets it; the offline-synth recipe (review, tests) never passes it on."""

DEVELOPMENT_SIGNING_ENV = "PIPELINE_DEFS_DEVELOPMENT_SIGNING"
"""Set to ``1`` to synthesize an environment with an account without the seed: its payloads are
signed with the published development key, and its pipeline stacks refuse to deploy."""

ENVIRONMENT_TAG = "smp:environment"
"""Tag the stage puts on every resource, valued with the environment's prefix: the key, bucket and
endpoint policies admit the roles that carry it (no role of an environment may tag roles)."""

MANAGED_BY_TAG = "smp:managed-by"
"""Tag naming the stack that owns a pipeline; the upsert handler ships its own copy, checked by a test."""
