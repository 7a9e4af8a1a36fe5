"""Validation against AWS's published pipeline definition schema, where it is current.

The schema (April 2025) predates SDK 3.27. It still checks the top level, the parameters, every
step's envelope (name, type, dependencies, retry policies, cache config, property files) and
the arguments of the pipeline service's own step types (Condition, Fail, Lambda, ...). Where an
API defines a step's arguments, :mod:`.service_model` checks them against the pinned botocore
model instead, and the schema sees them as any object. What the SDK emits that the schema still
rejects is amended by the known gaps (:mod:`.known_gaps`), each listed and tested.

Each step is checked against its type's schema definition separately (nested steps apart from
the step holding them), so a message names the step and the field rather than the whole document.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from pathlib import Path
from typing import Any

import jsonschema

from pipeline_defs.context import PACKAGE_ROOT
from pipeline_defs.contract import NESTED_STEPS, iter_steps
from pipeline_defs.errors import DefinitionFailure, PipelineDefinitionError
from pipeline_defs.validation.known_gaps import KNOWN_GAPS
from pipeline_defs.validation.service_model import STEP_REQUESTS

SCHEMA_ENV = "PIPELINE_DEFS_SCHEMA"
# AWS's published schema (aws-sagemaker-mlops/sagemaker-model-building-pipeline-definition-JSON-schema,
# commit b4012b0, April 2025), kept in the repository so any clone validates on its own.
SCHEMA_PATH = Path(os.environ.get(SCHEMA_ENV) or PACKAGE_ROOT / "schema" / "pipeline-definition.schema.json")

STEP_SCHEMA_DEFINITIONS = {
    "Condition": "ConditionStep",
    "Training": "TrainingStep",
    "Processing": "ProcessingStep",
    "Transform": "TransformStep",
    "Model": "CreateModelStep",
    "RegisterModel": "RegisterModelStep",
    "Lambda": "LambdaStep",
    "Callback": "CallbackStep",
    "Tuning": "TuningStep",
    "ClarifyCheck": "ClarifyCheckStep",
    "QualityCheck": "QualityCheckStep",
    "EMR": "EMRStep",
    "Fail": "FailStep",
    "AutoML": "AutoMLStep",
    "Endpoint": "EndpointStep",
    "EndpointConfig": "EndpointConfigStep",
    # Added by known gaps: the published schema predates them.
    "ForEach": "ForEachStep",
    "Cleanup": "CleanupStep",
    "Lineage": "LineageStep",
    "InferenceComponent": "InferenceComponentStep",
    "EMRServerless": "EMRServerlessStep",
}


@functools.lru_cache(maxsize=1)
def published_schema() -> dict:
    """AWS's published schema, from pipeline_defs/schema (or $PIPELINE_DEFS_SCHEMA)."""
    if not SCHEMA_PATH.is_file():
        raise PipelineDefinitionError(
            f"pipeline definition schema not found at {SCHEMA_PATH}; set {SCHEMA_ENV} to its path"
        )
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


SCHEMA_NOTE = (
    "AWS's published pipeline definition schema of April 2025, older than SDK 3.27: if your module "
    "does not set this field, the SDK wrote it and the schema is out of date there; record it as a "
    "known gap in pipeline_defs/validation/known_gaps.py"
)


def schema_in_scope() -> dict:
    """The published schema, without the arguments of step types :mod:`.service_model` checks."""
    schema = copy.deepcopy(published_schema())
    for kind, definition_name in STEP_SCHEMA_DEFINITIONS.items():
        request = STEP_REQUESTS.get(kind)
        if request is not None and request.covers_all_arguments and definition_name in schema["definitions"]:
            schema["definitions"][definition_name]["properties"]["Arguments"] = {"type": "object"}
    return schema


def schema_with_gaps(gap_ids: set[str] | frozenset[str]) -> dict:
    """:func:`schema_in_scope` amended by the known gaps named (the tests show each one needed)."""
    schema = schema_in_scope()
    for gap in KNOWN_GAPS:
        if gap.gap_id in gap_ids:
            gap.amend(schema)
    return schema


@functools.lru_cache(maxsize=1)
def amended_schema() -> dict:
    """The schema in scope with exactly the :data:`KNOWN_GAPS` amendments applied."""
    return schema_with_gaps({gap.gap_id for gap in KNOWN_GAPS})


@functools.lru_cache(maxsize=64)
def _validator(definition_name: str | None, *, amended: bool = True) -> jsonschema.Draft7Validator:
    schema = amended_schema() if amended else schema_in_scope()
    if definition_name is None:
        return jsonschema.Draft7Validator(schema)
    return jsonschema.Draft7Validator(
        {"$ref": f"#/definitions/{definition_name}", "definitions": schema["definitions"]}
    )


def schema_errors(instance: Any, definition_name: str | None, *, amended: bool = True) -> list[tuple[str, str]]:
    """Schema errors as (field path, message), descending into oneOf/anyOf to the closest match."""
    errors = list(_validator(definition_name, amended=amended).iter_errors(instance))
    found = []
    for error in errors:
        best = jsonschema.exceptions.best_match([error])
        while best.context:
            best = jsonschema.exceptions.best_match(best.context)
        field = "/".join(str(p) for p in best.absolute_path) or "(root)"
        found.append((field, best.message[:300]))
    return found


def _without_nested_steps(step: dict, fail: DefinitionFailure) -> dict:
    """A step holding others (:data:`NESTED_STEPS`) with them left out; they are checked on their own.

    Condition branches may hold only the step types the schema lists for them.
    """
    kind = step.get("Type")
    if kind not in NESTED_STEPS:
        return step
    instance = copy.deepcopy(step)
    arguments = instance.get("Arguments") or {}
    for key in NESTED_STEPS[kind]:
        if kind == "Condition":
            for child in arguments.get(key, []):
                if child.get("Type") not in _branch_step_types():
                    raise fail(
                        f"step type {child.get('Type')!r} is not allowed in a condition branch "
                        f"(allowed: {sorted(_branch_step_types())})",
                        step=child.get("Name"),
                        field="Type",
                    )
        if key in arguments:
            arguments[key] = []
    return instance


def check_schema(definition: dict, fail: DefinitionFailure) -> None:
    """The top level, then each step on its own (a step without the steps it holds)."""
    top = {key: [] if key == "Steps" else value for key, value in definition.items()}
    for field, message in schema_errors(top, None):
        raise fail(f"schema: {message} ({SCHEMA_NOTE})", field=field)
    for step, _ in iter_steps(definition["Steps"]):
        kind = step.get("Type")
        definition_name = STEP_SCHEMA_DEFINITIONS.get(kind)
        if definition_name is None:
            raise fail(
                f"unknown step type {kind!r} (known: {sorted(STEP_SCHEMA_DEFINITIONS)})", step=step.get("Name"), field="Type"
            )
        for field, message in schema_errors(_without_nested_steps(step, fail), definition_name):
            raise fail(f"schema: {message} ({SCHEMA_NOTE})", step=step.get("Name"), field=field)


@functools.lru_cache(maxsize=1)
def _branch_step_types() -> frozenset[str]:
    items = amended_schema()["definitions"]["ConditionStep"]["properties"]["Arguments"]["properties"]
    names = {ref["$ref"].rsplit("/", 1)[-1] for ref in items["IfSteps"]["items"]["oneOf"]}
    return frozenset(kind for kind, name in STEP_SCHEMA_DEFINITIONS.items() if name in names)
