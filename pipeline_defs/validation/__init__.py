"""Synth-time checks of a compiled definition; every message names pipeline, step and field.

:func:`validate_definition` raises for the first problem, checking in this order:

* size and placeholders (here);
* step and parameter names (:mod:`.graph`);
* AWS's published JSON schema (April 2025) where it is current, amended only by the known gaps
  (:mod:`.schema`, :mod:`.known_gaps`): the fields the current SDK emits that the schema predates;
* each job step's arguments as the API request they are, against the pinned botocore service
  model (:mod:`.service_model`);
* what no schema checks: references, cycles (:mod:`.graph`), job, experiment and trial names
  inside the execution role's scope and the guardrails every step that creates compute or stores data carries unless
  exempted (:mod:`.guardrails`, one policy per step type in :mod:`.step_checks`).

Pure Python (no SDK): a definition from anywhere can be checked.
"""

from __future__ import annotations

import functools
import json

from pipeline_defs import placeholders
from pipeline_defs.contract import iter_steps
from pipeline_defs.errors import DefinitionFailure, PipelineDefinitionError
from pipeline_defs.schedules import GuardrailExemption, Schedule
from pipeline_defs.validation.graph import check_cycles, check_names, check_references, own_arguments
from pipeline_defs.validation.guardrails import PlatformValues, check_experiment_names, check_guardrails, check_job_names
from pipeline_defs.validation.schema import check_schema
from pipeline_defs.validation.service_model import check_service_requests

MAX_DEFINITION_CHARACTERS = 1_048_576
"""SageMaker's limit on a pipeline definition."""


def _check_placeholders(definition_text: str, definition: dict, fail: DefinitionFailure) -> None:
    unknown = placeholders.unknown_names(definition_text)
    if not unknown:
        return
    name = unknown[0]
    token = "${" + name + "}"
    for step, _ in iter_steps(definition.get("Steps", [])):
        if token in json.dumps(own_arguments(step)):
            raise fail(f"placeholder {token} is not one the stacks resolve (known: {sorted(placeholders.NAMES)})", step=step.get("Name"), field="Arguments")
    raise fail(f"placeholder {token} is not one the stacks resolve (known: {sorted(placeholders.NAMES)})")


def validate_definition(
    definition: dict,
    *,
    definition_text: str,
    pipeline_name: str,
    module_file: str | None,
    exemptions: tuple[GuardrailExemption, ...] = (),
    allowed_instance_types: tuple[str, ...] = (),
    cost_tag_key: str,
    platform: PlatformValues | None = None,
    job_name_prefix: str | None = None,
    schedules: tuple[Schedule, ...] = (),
) -> None:
    """Raise :class:`PipelineDefinitionError` for the first problem found.

    ``schedules`` are the module's own: instance types given as parameters are checked through them.
    """
    fail: DefinitionFailure = functools.partial(PipelineDefinitionError, pipeline=pipeline_name, module_file=module_file)
    if len(definition_text) > MAX_DEFINITION_CHARACTERS:
        raise fail(f"definition has {len(definition_text)} characters; the limit is {MAX_DEFINITION_CHARACTERS}")
    _check_placeholders(definition_text, definition, fail)
    parameter_names = check_names(definition, fail)
    check_schema(definition, fail)
    check_service_requests(definition, fail)
    graph = check_references(definition, fail, parameter_names=parameter_names)
    check_cycles(graph, fail)
    if job_name_prefix:
        check_job_names(definition, fail, prefix=job_name_prefix)
        check_experiment_names(definition, fail, prefix=job_name_prefix, pipeline_name=pipeline_name)
    check_guardrails(
        definition,
        fail,
        exemptions=exemptions,
        cost_tag_key=cost_tag_key,
        allowed_instance_types=allowed_instance_types,
        platform=platform,
        schedules=schedules,
    )
