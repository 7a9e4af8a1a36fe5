"""The image ``@step`` jobs run in: the SDK's stock default, and the check that real environments name their own."""

from __future__ import annotations

import functools
import sys
import warnings

from pipeline_defs.compiler.sdk_session import SDK_VERSIONS
from pipeline_defs.context import BuildContext
from pipeline_defs.errors import PipelineDefinitionError

STEP_IMAGE_SETTING = "stepImageUri"
"""The environment setting in ``cdk.json`` that names the image."""


@functools.lru_cache(maxsize=None)
def default_step_image_uri(region: str) -> str:
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


def check_step_image(*, definition_text: str, ctx: BuildContext, pipeline_name: str, module_file: str | None) -> None:
    """``@step`` jobs need an image with this SDK version installed: jobs have no internet to pip-install it.

    The SDK's stock image does not carry SageMaker SDK v3, so an environment that deploys for real
    (explicit account and region) must name its own image; the env-agnostic sandbox gets a warning.
    """
    if ctx.step_image_uri or default_step_image_uri(ctx.region) not in definition_text:
        return
    message = (
        f"pipeline {pipeline_name} has @step functions but environment {ctx.env_name} names no image for them: "
        f"set context 'environments.{ctx.env_name}.{STEP_IMAGE_SETTING}' to an ECR image with "
        f"sagemaker=={SDK_VERSIONS['sagemaker']} and Python {sys.version_info.major}.{sys.version_info.minor}"
    )
    if ctx.region_is_pinned:
        raise PipelineDefinitionError(message, module_file=module_file, pipeline=pipeline_name)
    warnings.warn(message + "; the stock image used meanwhile cannot run them", stacklevel=2)
