"""Names every layer must agree on: the app prefix and the SageMaker pipeline-name rule."""

from __future__ import annotations

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

MANAGED_BY_TAG = "smp:managed-by"
"""Tag naming the stack that owns a pipeline; the upsert handler ships its own copy, checked by a test."""
