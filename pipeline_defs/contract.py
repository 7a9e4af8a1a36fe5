"""What the compiler and the infrastructure must agree on, each fact defined here once.

The compiler produces :class:`CompiledPipeline`; the planning layer, the stacks and the review read
it. Both sides take the serialization, the step walk, the tags and the NVMe family list from here,
because two copies of a security fact drift apart. Pure Python (no SDK, no CDK), cheap to import.

Defined elsewhere and imported from there: the pipeline-name rule (``base.naming``, which the
environment settings need too) and the ``${Name}`` placeholders (``pipeline_defs.placeholders``).
The upsert Lambda ships alone and keeps its own copy of :func:`canonical_json`;
``tests/pipeline_defs/test_pd_contract.py`` fails when the two differ.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from base.images import ECR_HOST_MARKER, EcrRepository, parse_ecr_image
from base.naming import APP_NAME, SIGNING_SEED_ENV
from pipeline_defs.schedules import DataAccess, GuardrailExemption, Schedule


PIPELINE_TAG = f"{APP_NAME}:pipeline"
"""Tag on every job naming its pipeline: Cost Explorer groups spend by it."""

NETWORK_ISOLATION_EXEMPTION_TAG = f"{APP_NAME}:network-isolation-exempt"
BUILD_ID_PATTERN = re.compile(r"\bb[0-9a-f]{20}\b")
"""A build id in ``@step`` S3 keys and arguments (:func:`build_id_of`): a new one only means new code was staged."""


def build_id_of(digest: str) -> str:
    """The build id of a content digest (hex): ``b`` and its first 20 digits."""
    return "b" + digest[:20]
"""Tag that jobs of an exempt step carry (value: the pipeline name); the IAM Deny lets exactly those through."""

NVME_INSTANCE_PATTERNS: tuple[str, ...] = (
    "ml.*d.*",  # m5d, c5d, r5d, m6id, c6id, ...
    "ml.*dn.*",  # g4dn, p3dn
    "ml.*de.*",  # p4de
    "ml.g5.*",
    "ml.g6.*",
    "ml.g6e.*",
    "ml.p5.*",
    "ml.p5e.*",
    "ml.trn1.*",
    "ml.trn1n.*",
    "ml.inf2.*",
)
"""Instance families with local NVMe volumes (encrypted by hardware), as IAM ``StringLike`` patterns.

SageMaker refuses a volume KMS key for them: the "no volume KMS key" Deny exempts them and the
compiler refuses a volume key on them.
"""

MANIFEST_FILE_NAME = "manifest.json"

DEFAULT_MAX_PARALLEL_STEPS = 10
"""Steps of one execution SageMaker runs at once (``ParallelismConfiguration``) unless the module sets
``MAX_PARALLEL_STEPS``: a fan-out cannot take a whole account's job quota."""

CONDITION_BRANCHES = ("IfSteps", "ElseSteps")
"""Keys of a condition step's arguments that hold nested steps."""

NESTED_STEPS: Mapping[str, tuple[str, ...]] = {"Condition": CONDITION_BRANCHES, "ForEach": ("ForEachBody",)}
"""Step types holding steps, and the keys of their arguments that do: a condition's branches, a
ForEach step's body (run once per item)."""


def has_nvme_storage(instance_type: Any) -> bool:
    """True when ``instance_type`` matches :data:`NVME_INSTANCE_PATTERNS` the way IAM's ``StringLike`` does."""
    return isinstance(instance_type, str) and any(
        fnmatch.fnmatchcase(instance_type, pattern) for pattern in NVME_INSTANCE_PATTERNS
    )


def canonical_json(value: Any) -> str:
    """The one serialization of definitions and manifests: sorted keys, no spaces, UTF-8 kept.

    Definition hashes, ``cdk diff`` and the upsert handler's comparison all depend on it.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def iter_steps(steps: Iterable[dict], branch: str | None = None) -> Iterator[tuple[dict, str | None]]:
    """Every step of a definition, nested ones included, with the step holding it.

    Top-level steps come with None; a step is followed by the steps it holds (condition branches,
    a ForEach body, :data:`NESTED_STEPS`), so every reader (validation, Mermaid, summary, review)
    sees the same steps in the same order.
    """
    for step in steps:
        yield step, branch
        arguments = step.get("Arguments") or {}
        for key in NESTED_STEPS.get(step.get("Type"), ()):
            yield from iter_steps(arguments.get(key) or [], step.get("Name"))


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string in ``value`` with its dotted path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _strings(inner, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _strings(inner, f"{path}[{index}]")


def iter_image_references(definition: dict) -> Iterator[tuple[str | None, str, str]]:
    """(step, field, value) of every string naming an ECR registry: in step arguments and parameter defaults.

    The compiler checks each of them; the execution role may pull from their repositories and no others.
    """
    for step, _ in iter_steps(definition.get("Steps", [])):
        nested = NESTED_STEPS.get(step.get("Type"), ())
        arguments = {k: v for k, v in (step.get("Arguments") or {}).items() if k not in nested}
        for path, value in _strings(arguments, ""):
            if ECR_HOST_MARKER in value:
                yield step.get("Name"), path, value
    for parameter in definition.get("Parameters", []):
        default = parameter.get("DefaultValue")
        if isinstance(default, str) and ECR_HOST_MARKER in default:
            yield None, f"Parameters.{parameter.get('Name')}.DefaultValue", default


@dataclass(frozen=True)
class DeclaredParameter:
    """A pipeline parameter as declared: name, SDK type name, default (None when required)."""

    name: str
    type: str
    default: str | int | float | bool | None


@dataclass(frozen=True)
class CompiledPipeline:
    """One pipeline, ready for the stacks: definition, files to deploy, and what it declares."""

    pipeline_name: str
    module_pipeline_name: str
    env_name: str
    definition: str
    staged_files: Mapping[str, bytes] = field(repr=False)
    manifest: Mapping[str, str]
    parameters: tuple[DeclaredParameter, ...]
    schedules: tuple[Schedule, ...]
    guardrail_exemptions: tuple[GuardrailExemption, ...]
    region: str
    region_is_pinned: bool
    source_module: str
    placeholders_used: tuple[str, ...]
    build_id: str
    signing_key_development_only: bool
    max_parallel_steps: int = DEFAULT_MAX_PARALLEL_STEPS
    compile_seconds: float = field(compare=False, default=0.0)
    data_access: DataAccess = DataAccess()
    child_pipelines: tuple[str, ...] = ()
    """Module names of the pipelines this one may start through the fan-out step."""

    @property
    def definition_sha256(self) -> str:
        return hashlib.sha256(self.definition.encode("utf-8")).hexdigest()

    @property
    def image_repositories(self) -> tuple[EcrRepository, ...]:
        """The ECR repositories its definition's images live in, sorted: all its role may pull from."""
        images = (parse_ecr_image(value) for _, _, value in iter_image_references(json.loads(self.definition)))
        return tuple(sorted({image.repository for image in images if image is not None}))

    @property
    def manifest_key(self) -> str:
        """S3 key where the stacks may deploy the manifest next to the pipeline's files."""
        return f"{self.pipeline_name}/{MANIFEST_FILE_NAME}"

    def manifest_json(self) -> str:
        return canonical_json(
            {
                "pipeline": self.pipeline_name,
                "build_id": self.build_id,
                "definition_sha256": self.definition_sha256,
                "files": dict(self.manifest),
            }
        )
