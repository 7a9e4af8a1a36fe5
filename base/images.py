"""ECR image references: what one names (account, region, repository) and whether a digest pins it.

A tag can be moved to another image after review; a digest (``@sha256:<64 hex digits>``) names one
image's content for good. The settings, the compiler's image check and the execution role's pull
grant all read image references through :func:`parse_ecr_image`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ECR_IMAGE = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)
ECR_HOST_MARKER = ".dkr.ecr."
"""Part of every ECR registry host: a string holding it is meant as an ECR image."""
PINNED_FORM = "<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex digits>"


@dataclass(frozen=True, order=True)
class EcrRepository:
    """One ECR repository: what a pull grant names."""

    account: str
    region: str
    name: str

    def arn(self, *, partition: str) -> str:
        return f"arn:{partition}:ecr:{self.region}:{self.account}:repository/{self.name}"


@dataclass(frozen=True)
class EcrImage:
    """One parsed image reference."""

    repository: EcrRepository
    tag: str | None
    digest: str | None

    @property
    def pinned(self) -> bool:
        """Whether the reference names one image's content (a digest), not a movable tag."""
        return self.digest is not None

    @property
    def shown_tag(self) -> str:
        """The tag as messages name it: Docker reads a reference with neither tag nor digest as ``latest``."""
        return repr(self.tag) if self.tag else "'latest' (implied)"

    @property
    def pinned_example(self) -> str:
        """The reference as it should be written: the repository with a digest in place of the tag."""
        return f"{self.repository.account}.dkr.ecr.{self.repository.region}.amazonaws.com/{self.repository.name}@sha256:<64 hex digits>"


def parse_ecr_image(uri: str) -> EcrImage | None:
    """The image ``uri`` names, or ``None`` when it is no ECR image reference."""
    match = ECR_IMAGE.fullmatch(uri)
    if match is None:
        return None
    repository = EcrRepository(account=match["account"], region=match["region"], name=match["repository"])
    return EcrImage(repository=repository, tag=match["tag"], digest=match["digest"])
