"""The images a pipeline's jobs run: pinned by digest, or SageMaker's own from AWS's registry accounts.

A tag can be pointed at another image after review, so every image a module or a setting names must
carry its digest. SageMaker's framework images (``image_uris.retrieve``: scikit-learn, PyTorch, the
stock ``@step`` image, ...) keep their tags: AWS publishes them, patches them under the same tag, and
publishes no digests the SDK could pin; what vouches for them is the registry account, which must be
one the SDK's image configuration lists for the environment's region.
"""

from __future__ import annotations

import functools
from typing import Any

from base.images import PINNED_FORM, parse_ecr_image
from pipeline_defs.context import BuildContext
from pipeline_defs.contract import iter_image_references
from pipeline_defs.errors import PipelineDefinitionError


@functools.lru_cache(maxsize=None)
def sagemaker_registry_accounts(region: str) -> frozenset[str]:
    """Accounts whose ECR registries hold SageMaker's framework images in ``region``, as the SDK's image configuration lists them."""
    from sagemaker.core import image_uris

    accounts: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            registries = value.get("registries")
            if isinstance(registries, dict) and isinstance(registries.get(region), str):
                accounts.add(registries[region])
            for key, inner in value.items():
                if key != "registries":
                    collect(inner)
        elif isinstance(value, list):
            for inner in value:
                collect(inner)

    for framework in image_uris.list_frameworks():
        collect(image_uris.config_for_framework(framework))
    return frozenset(accounts)


def check_job_images(*, definition: dict, ctx: BuildContext, pipeline_name: str, module_file: str) -> None:
    """Every image the definition names is pinned by digest, or one of SageMaker's own in the environment's region."""
    for step, field, value in iter_image_references(definition):
        image = parse_ecr_image(value)

        def fail(problem: str) -> PipelineDefinitionError:
            return PipelineDefinitionError(f"image {value!r} {problem}", module_file=module_file, pipeline=pipeline_name, step=step, field=field)

        if image is None:
            raise fail(f"is no ECR image reference: expected {PINNED_FORM}")
        if image.repository.region != ctx.region:
            raise fail(f"is in {image.repository.region}: expected an image in the environment's region {ctx.region}, where jobs pull through its VPC endpoints")
        if image.pinned:
            continue
        if image.repository.account in sagemaker_registry_accounts(ctx.region):
            continue
        raise fail(
            f"is named by tag {image.shown_tag}, which can be moved to another image: expected it pinned by digest, "
            f"{image.pinned_example}; only SageMaker's own images (image_uris.retrieve, from AWS's registry accounts "
            f"for {ctx.region}) may keep their tags"
        )
