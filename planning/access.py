"""What each pipeline may read, write and start beyond its own prefix, checked against every other pipeline.

A pipeline owns ``<pipeline>/`` in the environment's bucket. Its module may declare more
(``DATA_ACCESS``, ``CHILD_PIPELINES``); a declaration that reaches outside the environment's bucket,
writes into another pipeline's prefix, touches another pipeline's code, or names a child that does not
exist stops synth naming the module and the declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

from pipeline_defs.errors import PipelineDefinitionError

if TYPE_CHECKING:
    from pipeline_defs.contract import CompiledPipeline

FAN_OUT_CHILDREN_TAG = "smp:fan-out-children"
"""Pipeline tag listing, space-separated, the full names of the children its fan-out step may start."""
TAG_VALUE_LIMIT = 256


@dataclass(frozen=True)
class PipelineAccess:
    """One pipeline's declared access, checked, as the stacks grant it."""

    read_prefixes: tuple[str, ...]
    write_prefixes: tuple[str, ...]
    child_pipelines: tuple[str, ...]
    """Full names of the pipelines it may start through the fan-out step."""


def _fail(item: "CompiledPipeline", field: str, message: str) -> PipelineDefinitionError:
    return PipelineDefinitionError(message, module_file=item.source_module, pipeline=item.pipeline_name, field=field)


ENVIRONMENT_PREFIX_MARK = "{prefix}"
"""Stands for the environment's resource prefix in a ``DATA_ACCESS`` prefix, so a module can name another
pipeline's outputs (``{prefix}-train-evaluate-register/training-output/``) in every environment."""


def _checked_prefix(item: "CompiledPipeline", field: str, prefix: str) -> str:
    allowed = "a key prefix inside the environment's artifact bucket ending in '/', e.g. 'shared/reference-data/'"
    environment_prefix = item.pipeline_name.removesuffix(f"-{item.module_pipeline_name}")
    prefix = prefix.replace(ENVIRONMENT_PREFIX_MARK, environment_prefix)
    if prefix.startswith(("s3://", "arn:")):
        raise _fail(item, field, f"{prefix!r} reaches outside the environment's artifact bucket; allowed: {allowed}")
    parts = prefix.split("/")
    if not prefix.endswith("/") or prefix.startswith("/") or any(part in ("", ".", "..") for part in parts[:-1]) or "*" in prefix:
        raise _fail(item, field, f"{prefix!r} is not a key prefix; allowed: {allowed}")
    return prefix


def code_prefixes(item: "CompiledPipeline") -> tuple[str, ...]:
    """The key prefixes (``<pipeline>/<dir>/<build>/``) holding the job files its definition runs.

    Only the deployment writes there; no job may, so a job cannot change the code a later execution
    runs. A file less deep than that is listed by its own key.
    """
    prefixes = set()
    for key in item.staged_files:
        parts = key.split("/")
        prefixes.add("/".join(parts[:3]) + "/" if len(parts) > 3 else key)
    return tuple(sorted(prefixes))


def pipeline_access(*, compiled: Sequence["CompiledPipeline"]) -> Mapping[str, PipelineAccess]:
    """Every pipeline's checked access, by full pipeline name."""
    by_module = {item.module_pipeline_name: item for item in compiled}
    access = {}
    for item in compiled:
        reads = tuple(sorted({_checked_prefix(item, "DATA_ACCESS.read", p) for p in item.data_access.read}))
        writes = tuple(sorted({_checked_prefix(item, "DATA_ACCESS.write", p) for p in item.data_access.write}))
        for other in compiled:
            if other is item:
                continue
            owned = f"{other.pipeline_name}/"
            for prefix in writes:
                if prefix.startswith(owned) or owned.startswith(prefix):
                    raise _fail(item, "DATA_ACCESS.write", f"{prefix!r} overlaps pipeline {other.pipeline_name}'s own prefix {owned!r}: one pipeline never writes another's data or code")
            for prefix in reads:
                code = [c for c in code_prefixes(other) if c.startswith(prefix) or prefix.startswith(c)]
                if code:
                    raise _fail(item, "DATA_ACCESS.read", f"{prefix!r} overlaps pipeline {other.pipeline_name}'s code {code[0]!r}: read its outputs under a narrower prefix")
        children = []
        for child in item.child_pipelines:
            if child == item.module_pipeline_name:
                raise _fail(item, "CHILD_PIPELINES", f"{child!r} is this pipeline itself: a fan-out never starts its own pipeline")
            if child not in by_module:
                raise _fail(item, "CHILD_PIPELINES", f"{child!r} is no pipeline of environment {item.env_name}; known: {sorted(by_module)}")
            children.append(by_module[child].pipeline_name)
        if len(" ".join(children)) > TAG_VALUE_LIMIT:
            raise _fail(item, "CHILD_PIPELINES", f"the {len(children)} children's names take more than the {TAG_VALUE_LIMIT} characters of one pipeline tag")
        access[item.pipeline_name] = PipelineAccess(read_prefixes=reads, write_prefixes=writes, child_pipelines=tuple(sorted(children)))
    return access
