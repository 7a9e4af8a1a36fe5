"""Finishing a built definition: content-addressed keys, no checkout paths, the platform's names and tags.

Runs after the SDK built the definition and before validation. The SDK puts its build timestamp
into ``@step`` S3 paths; the pins put :data:`BUILD_ID_SENTINEL` there instead, and
:func:`finish_definition` replaces it in each ``@step`` step with a digest of that step and its own
files, so a changed function gets new keys (a running execution keeps reading its own files) while
every other step keeps its keys and arguments: a one-step change reads as that step only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline_defs.context import BuildContext
from pipeline_defs.contract import NESTED_STEPS, NETWORK_ISOLATION_EXEMPTION_TAG, build_id_of, canonical_json, iter_steps
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.validation.step_checks import network_isolation_settings

if TYPE_CHECKING:
    from pipeline_defs.compiler.sdk_session import StagedFiles

BUILD_ID_SENTINEL = "pipelinedefs-build-id-sentinel"

_UUID_SUFFIX = re.compile(r"-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def unnamed_function_steps(definition: dict) -> list[str]:
    """``@step`` names the SDK generated from a uuid (not stable between builds)."""
    return [
        step["Name"] for step, _ in iter_steps(definition.get("Steps", [])) if _UUID_SUFFIX.search(step["Name"])
    ]


def relativize_descriptions(definition: dict, *, root: Path) -> None:
    """A ``@step`` without docstring gets its absolute file path as description; make it relative."""
    root_text = str(root)
    for step, _ in iter_steps(definition.get("Steps", [])):
        description = step.get("Description")
        if isinstance(description, str) and os.path.isabs(description):
            try:
                step["Description"] = Path(description).resolve().relative_to(root).as_posix()
            except ValueError:
                step["Description"] = Path(description).name
        elif isinstance(description, str) and root_text in description:
            step["Description"] = description.replace(root_text + os.sep, "")


@dataclass(frozen=True)
class BuiltDefinition:
    """A definition with its staged files, the build ids substituted everywhere."""

    definition: dict
    staged_files: dict[str, bytes]
    build_id: str
    """Digest of the whole build (the manifest's); each ``@step`` step's own id is in its S3 paths."""


def _digest(*, text: str, files: dict[str, bytes]) -> str:
    digest = hashlib.sha256(text.encode("utf-8"))
    for key in sorted(files):
        digest.update(key.encode("utf-8") + b"\0" + hashlib.sha256(files[key]).digest())
    return build_id_of(digest.hexdigest())


def _own_files_marker(step_name: str) -> str:
    """What a ``@step`` step's own staged keys hold: ``<pipeline>/<step>/<build id>/...``."""
    return f"/{step_name}/{BUILD_ID_SENTINEL}/"


def _steps_with_own_build_ids(definition: dict, files: dict[str, bytes]) -> dict[str, str]:
    """Step name → its build id, for each step holding the sentinel when every staged key holding it is one step's.

    A file several steps share under the sentinel (the SDK's ``include_local_workdir`` workspace)
    needs one id across them: then no step gets its own and the whole build's id is used.
    """
    holders = [
        step
        for step, _ in iter_steps(definition.get("Steps", []))
        if step.get("Type") not in NESTED_STEPS and BUILD_ID_SENTINEL in canonical_json(step)
    ]
    markers = [_own_files_marker(step["Name"]) for step in holders]
    if any(BUILD_ID_SENTINEL in key and not any(m in key for m in markers) for key in files):
        return {}
    return {
        step["Name"]: _digest(
            text=canonical_json(step), files={key: body for key, body in files.items() if _own_files_marker(step["Name"]) in key}
        )
        for step in holders
    }


def finish_definition(*, raw: str, staged: StagedFiles, root: Path) -> BuiltDefinition:
    """Make a built definition content-addressed (build ids replace the sentinel) and free of checkout paths."""
    definition = json.loads(raw)
    relativize_descriptions(definition, root=root)
    build_id = _digest(text=canonical_json(definition), files=staged.files)
    step_ids = _steps_with_own_build_ids(definition, staged.files)
    for step, _ in iter_steps(definition.get("Steps", [])):
        if step.get("Name") in step_ids and step.get("Type") not in NESTED_STEPS:
            replaced = json.loads(canonical_json(step).replace(BUILD_ID_SENTINEL, step_ids[step["Name"]]))
            step.clear()
            step.update(replaced)
    files = {}
    for key, body in staged.files.items():
        owner = next((name for name in step_ids if _own_files_marker(name) in key), None)
        files[key.replace(BUILD_ID_SENTINEL, step_ids[owner] if owner else build_id)] = body
    text = canonical_json(definition).replace(BUILD_ID_SENTINEL, build_id)
    return BuiltDefinition(definition=json.loads(text), staged_files=files, build_id=build_id)


def tag_isolation_exemptions(definition: dict, *, pipeline_name: str) -> list[str]:
    """Tag every job that runs without network isolation with the exemption tag; returns those steps.

    The environment's IAM Deny lets a non-isolated job through only with this tag naming an exempt
    pipeline, so the tag is what makes a declared exemption work at run time. Validation still
    refuses the same steps unless the module declared the exemption.
    """
    tagged = []
    for step, _ in iter_steps(definition.get("Steps", [])):
        settings = network_isolation_settings(step)
        if not settings or all(value is True for _, value in settings):
            continue
        tags = step["Arguments"].setdefault("Tags", [])
        if not any(isinstance(t, dict) and t.get("Key") == NETWORK_ISOLATION_EXEMPTION_TAG for t in tags):
            tags.append({"Key": NETWORK_ISOLATION_EXEMPTION_TAG, "Value": pipeline_name})
        tagged.append(step["Name"])
    return tagged


def name_unnamed_training_jobs(definition: dict, *, ctx: BuildContext) -> list[str]:
    """Give Training steps the ``<pipeline>-<step>`` job name prefix the SDK dropped.

    Under a pipeline session ``ModelTrainer`` leaves ``TrainingJobName`` out, and the service would
    then name the job ``pipelines-...``, outside the execution role's ``<prefix>-*`` scope.
    """
    named = []
    for step, _ in iter_steps(definition.get("Steps", [])):
        arguments = step.get("Arguments")
        if step.get("Type") == "Training" and isinstance(arguments, dict) and not arguments.get("TrainingJobName"):
            arguments["TrainingJobName"] = ctx.job_name(step["Name"])
            named.append(step["Name"])
    return named


def finish_for_deployment(definition: dict, *, ctx: BuildContext, module_file: str | None) -> str:
    """Refuse generated ``@step`` names, add exemption tags and job names in place; the canonical text.

    ``ctx`` is the pipeline's own context (its ``pipeline_name`` set by the compiler).
    """
    unnamed = unnamed_function_steps(definition)
    if unnamed:
        raise PipelineDefinitionError(
            f"@step functions need an explicit name= (generated names change every build): {unnamed}",
            module_file=module_file,
            pipeline=ctx.pipeline_name,
            step=unnamed[0],
            field="name",
        )
    tag_isolation_exemptions(definition, pipeline_name=ctx.pipeline_name)
    name_unnamed_training_jobs(definition, ctx=ctx)
    return canonical_json(definition)
