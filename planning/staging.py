"""The one step that writes files before synthesis: what each pipeline's assets are built from.

CDK hashes an asset's source when its construct is created, so job files and large definitions must
be on disk before the stacks render the plan; ``app.py`` calls :func:`stage_pipeline_files` for that.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from planning.plan import EnvironmentPlan

PIPELINE_FILES_DIRECTORY = "pipeline-files"
"""Under the app's outdir: ``pipeline-files/<environment>/<pipeline>/...``."""
INLINE_DEFINITION_LIMIT = 200_000
"""Characters above which a definition travels as an S3 asset instead of template properties."""


@dataclass(frozen=True)
class StagedPipelineFiles:
    """Where one pipeline's asset sources are: job files at their object keys, the definition if large."""

    job_files: Path | None
    definition_file: Path | None


def stage_pipeline_files(
    *, plan: EnvironmentPlan, directory: Path, inline_limit: int = INLINE_DEFINITION_LIMIT
) -> Mapping[str, StagedPipelineFiles]:
    """Write every pipeline's job files (and large definitions) under ``directory``, emptied first.

    Files of an earlier synth must not leak into this one's assets. Keyed by full pipeline name.
    """
    shutil.rmtree(directory, ignore_errors=True)
    staged: dict[str, StagedPipelineFiles] = {}
    for item in plan.pipelines:
        job_files = None
        if item.staged_files:
            job_files = directory / item.pipeline_name
            for object_key, body in sorted(item.staged_files.items()):
                target = job_files / object_key
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(body)
        definition_file = None
        if len(item.definition) > inline_limit:
            definition_file = directory / f"{item.pipeline_name}.definition.json"
            definition_file.parent.mkdir(parents=True, exist_ok=True)
            definition_file.write_text(item.definition, encoding="utf-8")
        staged[item.pipeline_name] = StagedPipelineFiles(job_files=job_files, definition_file=definition_file)
    return staged
