"""Compile every pipeline module for an environment into definitions and staged files.

The planning layer calls :func:`~pipeline_defs.compiler.cache.compile_environment_cached` with a
:class:`~pipeline_defs.context.BuildContext` and gets one
:class:`~pipeline_defs.contract.CompiledPipeline` per module: from the compile cache
(:mod:`~pipeline_defs.compiler.cache`) when nothing that can change it changed, otherwise through
the stages (:mod:`~pipeline_defs.compiler.stages`: build, finishing, validation, packaging).

Importing this package does not import the SDK: a synth whose pipelines all come from the cache
never loads it. :func:`compile_module` and :func:`compile_environment` (uncached) import it on
first use.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pipeline_defs.contract import CompiledPipeline

_STAGES = ("compile_module", "compile_environment")


def __getattr__(name: str) -> Any:
    """``compile_module`` and ``compile_environment`` from :mod:`~pipeline_defs.compiler.stages`, imported on first use."""
    if name in _STAGES:
        from pipeline_defs.compiler import stages

        return getattr(stages, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def write_outputs(results: tuple[CompiledPipeline, ...], *, out_dir: Path) -> list[Path]:
    """Write definitions, staged files under their keys, and manifests into ``out_dir``.

    ``<out>/<env>/definitions`` and ``<out>/<env>/staged`` are replaced, so no stale file stays.
    """
    written = []
    for env_name in sorted({result.env_name for result in results}):
        for stale in ("definitions", "staged"):
            shutil.rmtree(out_dir / env_name / stale, ignore_errors=True)
    for result in results:
        base = out_dir / result.env_name
        definition_path = base / "definitions" / f"{result.pipeline_name}.json"
        definition_path.parent.mkdir(parents=True, exist_ok=True)
        definition_path.write_text(result.definition, encoding="utf-8")
        written.append(definition_path)
        for key, body in result.staged_files.items():
            target = base / "staged" / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            written.append(target)
        manifest_path = base / "staged" / result.manifest_key
        manifest_path.parent.mkdir(parents=True, exist_ok=True)
        manifest_path.write_text(result.manifest_json(), encoding="utf-8")
        written.append(manifest_path)
    return written
