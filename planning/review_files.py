"""Per-pipeline files a reviewer reads beside the templates: the definition and its Mermaid DAG.

Written into ``<stage outdir>/pipeline-definitions/`` at synth: ``<pipeline>.json`` (the compiled
definition, indented), ``<pipeline>.mmd`` (the DAG) and ``index.md`` (every DAG in a ``mermaid``
block, ready to paste into a README or pull request). Byte-deterministic, like the rest of cdk.out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from pipeline_defs.mermaid import definition_to_mermaid

if TYPE_CHECKING:
    from pipeline_defs.contract import CompiledPipeline

REVIEW_DIRECTORY = "pipeline-definitions"
INDEX_FILE = "index.md"


def readable_definition(*, definition: str) -> str:
    """The canonical definition indented with sorted keys: same content, reviewable line by line."""
    return json.dumps(json.loads(definition), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_review_files(*, outdir: Path, compiled: Sequence["CompiledPipeline"]) -> None:
    """Write the definitions and diagrams of ``compiled`` under ``outdir``; files of other pipelines go."""
    directory = Path(outdir) / REVIEW_DIRECTORY
    directory.mkdir(parents=True, exist_ok=True)
    ordered = sorted(compiled, key=lambda item: item.pipeline_name)
    wanted = {INDEX_FILE}
    index = ["# Pipeline DAGs", ""]
    for item in ordered:
        diagram = definition_to_mermaid(json.loads(item.definition))
        files = {
            f"{item.pipeline_name}.json": readable_definition(definition=item.definition),
            f"{item.pipeline_name}.mmd": diagram,
        }
        for name, text in files.items():
            (directory / name).write_text(text, encoding="utf-8", newline="\n")
        wanted.update(files)
        index += [f"## {item.pipeline_name}", "", "```mermaid", diagram.rstrip("\n"), "```", ""]
    (directory / INDEX_FILE).write_text("\n".join(index), encoding="utf-8", newline="\n")
    for stale in directory.iterdir():
        if stale.is_file() and stale.name not in wanted:
            stale.unlink()
