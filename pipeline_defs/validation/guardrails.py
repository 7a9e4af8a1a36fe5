"""The guardrails every step that creates compute or stores data must carry unless its module exempted it.

The same rules are IAM Denies at run time (``stacks/guardrails/policies.py``); failing here names the
step and field at synth instead of a refused job at 3 a.m. :func:`check_guardrails` applies each step
type's policy (:mod:`.step_checks`), the platform's own subnets, security groups and key, and what a
Cleanup step may delete. Job names are checked too: they are the execution role's IAM scope. An
exemption no step needs is refused as well: it would silently turn a guardrail off (a pipeline-wide
network-isolation exemption turns isolation off for every job).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from base.errors import nearest_name_hint
from pipeline_defs.contract import iter_steps
from pipeline_defs.errors import DefinitionFailure
from pipeline_defs.schedules import Guardrail, GuardrailExemption, Schedule
from pipeline_defs.validation.graph import iter_nodes
from pipeline_defs.validation.step_checks import REFUSED_STEP_TYPES, STEP_POLICIES, tuning_job_definitions
from pipeline_defs.validation.step_guard import ParameterValues, StepGuard, has_value

JOB_NAME_FIELDS = {
    "Training": "TrainingJobName",
    "Processing": "ProcessingJobName",
    "QualityCheck": "ProcessingJobName",
    "ClarifyCheck": "ProcessingJobName",
    "Transform": "TransformJobName",
    "Model": "ModelName",
    "RegisterModel": "ModelPackageGroupName",
    "EndpointConfig": "EndpointConfigName",
    "Endpoint": "EndpointName",
    "InferenceComponent": "InferenceComponentName",
}


LINEAGE_NAMED_ENTITIES = {"Action": ("Actions", "ActionName"), "Context": ("Contexts", "ContextName")}
"""Lineage entities whose ARN carries their name, so the execution role's scope is ``<prefix>-*`` (an
artifact's ARN is a hash of its source instead)."""


def _lineage_names(arguments: dict) -> list[tuple[str, Any]]:
    """(field, name) of each action and context a Lineage step creates or names in an association."""
    named = [
        (f"{key}[{index}].{name_field}", entity.get(name_field))
        for key, name_field in LINEAGE_NAMED_ENTITIES.values()
        for index, entity in enumerate(arguments.get(key) or [])
    ]
    for index, association in enumerate(arguments.get("Associations") or []):
        for end in ("Source", "Destination"):
            reference = association.get(end) or {}
            if reference.get("Type") in LINEAGE_NAMED_ENTITIES and "Name" in reference:
                named.append((f"Associations[{index}].{end}.Name", reference["Name"]))
    return named


def _literal_head(name: Any) -> str | None:
    """The text a name is known to start with: a literal, or a ``Join``'s first value (with the
    separator when more values follow), as for a name made unique per execution."""
    join = name.get("Std:Join") if isinstance(name, dict) else None
    if isinstance(join, dict) and isinstance(join.get("On"), str) and isinstance(join.get("Values"), list) and join["Values"]:
        values = join["Values"]
        return values[0] + (join["On"] if len(values) > 1 else "") if isinstance(values[0], str) else None
    return name if isinstance(name, str) else None


def _starts_with(name: Any, prefix: str) -> bool:
    head = _literal_head(name)
    return head is not None and head.startswith(prefix)


PIPELINE_NAME_VARIABLE = {"Get": "Execution.PipelineName"}


def check_experiment_names(definition: dict, fail: DefinitionFailure, *, prefix: str, pipeline_name: str) -> None:
    """The experiment and trial a run records are the execution role's IAM scope (``<prefix>-*``);
    an absent experiment name is the pipeline's, an absent trial name the bare execution id."""
    config = definition.get("PipelineExperimentConfig")
    if config is None:
        return
    for field in ("ExperimentName", "TrialName"):
        name = config.get(field, PIPELINE_NAME_VARIABLE if field == "ExperimentName" else None)
        if name == PIPELINE_NAME_VARIABLE:
            name = pipeline_name
        if not _starts_with(name, f"{prefix}-"):
            raise fail(
                f"PipelineExperimentConfig.{field} is {config.get(field)!r}: experiment and trial names must start "
                f"with {prefix + '-'!r} (the execution role may only create those); building.new_pipeline names "
                f"the experiment after the pipeline and each trial Join('-', [{prefix!r}, execution id])",
                field=f"PipelineExperimentConfig.{field}",
            )


def check_job_names(definition: dict, fail: DefinitionFailure, *, prefix: str) -> None:
    """Job, model and model package group names are the execution role's IAM scope (``<prefix>-*``),
    and so are the names of lineage actions and contexts."""
    for step, _ in iter_steps(definition.get("Steps", [])):
        if step.get("Type") == "Lineage":
            for field, name in _lineage_names(step.get("Arguments") or {}):
                if not isinstance(name, str) or not name.startswith(f"{prefix}-"):
                    raise fail(
                        f"{field} is {name!r}: lineage action and context names must start with {prefix + '-'!r} "
                        "(the execution role may only create and associate those); use ctx.job_name(...)",
                        step=step.get("Name"),
                        field=field,
                    )
            continue
        field = JOB_NAME_FIELDS.get(step.get("Type", ""))
        if field is None:
            continue
        name = (step.get("Arguments") or {}).get(field)
        if not _starts_with(name, f"{prefix}-"):
            raise fail(
                f"{field} is {name!r}: job, model and model package group names must start with "
                f"{prefix + '-'!r} (the execution role may only create those); use ctx.job_name(step)",
                step=step.get("Name"),
                field=field,
            )


@dataclass(frozen=True)
class PlatformValues:
    """The only subnets, security groups and KMS key a job may name (the stacks' own), and the
    pipeline's own S3 prefix (``s3://<bucket>/<pipeline>/``), the only place a Cleanup step may delete."""

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    kms_key: str
    own_prefix: str | None = None


def _check_platform_values(arguments: dict, platform: PlatformValues, fail: DefinitionFailure, step: str) -> None:
    for node in iter_nodes(arguments):
        if not isinstance(node, dict):
            continue
        for key, allowed in (("Subnets", platform.subnet_ids), ("SecurityGroupIds", platform.security_group_ids)):
            values = node.get(key)
            if isinstance(values, list):
                foreign = [v for v in values if v not in allowed]
                if foreign:
                    raise fail(f"{key} {foreign} are not the platform's own {list(allowed)}", step=step, field=key)
        for key in ("KmsKeyId", "VolumeKmsKeyId", "encryptionKeyArn"):
            value = node.get(key)
            if isinstance(value, str) and value != platform.kms_key:
                raise fail(f"{key} {value!r} is not the platform's key {platform.kms_key!r}", step=step, field=key)


REMOTE_FUNCTION_BOOTSTRAP = "sagemaker_remote_function_bootstrap"
"""In the entry point of every ``@step`` job the SDK emits: those jobs cannot run network-isolated."""


def is_function_step(step: dict) -> bool:
    """A ``@step`` function's job, recognised by the SDK's bootstrap entry point."""
    algorithm = (step.get("Arguments") or {}).get("AlgorithmSpecification") or {}
    entrypoint = algorithm.get("ContainerEntrypoint") or []
    return step.get("Type") == "Training" and any(REMOTE_FUNCTION_BOOTSTRAP in str(part) for part in entrypoint)


def _runs_in_a_vpc(step: dict | None) -> bool:
    arguments = (step or {}).get("Arguments") or {}
    vpcs = [arguments.get("VpcConfig"), (arguments.get("NetworkConfig") or {}).get("VpcConfig")]
    vpcs += [job.get("VpcConfig") for _, job in tuning_job_definitions(arguments)]
    return any(has_value(vpc) for vpc in vpcs)


def _inside(uri: Any, *, own_prefix: str, source: str) -> bool:
    """A literal URI under the pipeline's prefix, a Join building one, or an output of the source step."""
    if isinstance(uri, str):
        return uri.startswith(own_prefix)
    if isinstance(uri, dict) and isinstance(uri.get("Get"), str):
        return uri["Get"].startswith(f"Steps.{source}.")
    join = uri.get("Std:Join") if isinstance(uri, dict) else None
    if not isinstance(join, dict) or join.get("On") != "/":
        return False
    values = join.get("Values") or []
    head = values[:3]
    return len(head) == 3 and all(isinstance(v, str) for v in head) and "/".join(head) + "/" == own_prefix


def _check_cleanup(step: dict, steps: dict[str, dict], fail: DefinitionFailure, own_prefix: str | None) -> None:
    """A Cleanup step deletes only what its sources wrote under the pipeline's prefix, of sources SageMaker can clean."""
    sources = (((step.get("Arguments") or {}).get("Resources") or {}).get("S3")) or []
    for index, source in enumerate(sources):
        name = source.get("StepName")
        if _runs_in_a_vpc(steps.get(name)):
            raise fail(
                f"SageMaker cannot clean up the outputs of step {name!r}: it runs in a VPC, as every job step here "
                "does; delete them in a Lambda step, or let an S3 lifecycle rule expire them",
                step=step["Name"],
                field=f"Resources.S3[{index}].StepName",
            )
        for position, uri in enumerate(source.get("S3Uris") or []):
            if own_prefix and not _inside(uri, own_prefix=own_prefix, source=name):
                raise fail(
                    f"{uri!r} is not under the pipeline's own prefix {own_prefix!r} nor an output of step {name!r}: "
                    "a Cleanup step deletes only what the pipeline wrote",
                    step=step["Name"],
                    field=f"Resources.S3[{index}].S3Uris[{position}]",
                )


def _describe(exemption: GuardrailExemption) -> str:
    return f"GUARDRAIL_EXEMPTIONS: {exemption.describe()}"


def check_exemption_steps(definition: dict, fail: DefinitionFailure, *, exemptions: tuple[GuardrailExemption, ...]) -> None:
    """Every step an exemption names is a step of the pipeline (a typo would leave the intended step unexempted)."""
    names = [step["Name"] for step, _ in iter_steps(definition.get("Steps", []))]
    for exemption in exemptions:
        unknown = [name for name in exemption.steps if name not in names]
        if unknown:
            raise fail(
                f"{_describe(exemption)} names {unknown[0]!r}, which is not a step of this pipeline"
                f"{nearest_name_hint(unknown[0], names)}; its steps are {sorted(names)}",
                field="GUARDRAIL_EXEMPTIONS",
            )


def check_exemptions_needed(
    definition: dict, fail: DefinitionFailure, *, exemptions: tuple[GuardrailExemption, ...], used: set[int]
) -> None:
    """Every exemption lets through a step that lacks its guardrail (``used``: their positions).

    A pipeline-wide network-isolation exemption also drops isolation from every job's defaults, so
    each job then "needs" it; it is kept only where a ``@step`` job cannot run isolated.
    """
    steps = [step for step, _ in iter_steps(definition.get("Steps", []))]
    for index, exemption in enumerate(exemptions):
        pipeline_wide_isolation = exemption.guardrail is Guardrail.NETWORK_ISOLATION and not exemption.steps
        if pipeline_wide_isolation and not any(is_function_step(step) for step in steps):
            raise fail(
                f"{_describe(exemption)} turns network isolation off for every job, yet no step is a @step "
                "function (the jobs that cannot run isolated): remove it, or limit it to the jobs that need "
                "it with steps=(...)",
                field="GUARDRAIL_EXEMPTIONS",
            )
        if index not in used:
            raise fail(
                f"{_describe(exemption)} is needed by no step: every step it covers carries the "
                f"{exemption.guardrail.value} guardrail (or none applies to it); remove the exemption",
                field="GUARDRAIL_EXEMPTIONS",
            )


def check_guardrails(
    definition: dict,
    fail: DefinitionFailure,
    *,
    exemptions: tuple[GuardrailExemption, ...],
    cost_tag_key: str,
    allowed_instance_types: tuple[str, ...],
    platform: PlatformValues | None,
    schedules: tuple[Schedule, ...] = (),
) -> None:
    """Exempted steps exist; each step's type policy: refusals first, then platform values, cost tag and
    the type's guardrails; then every exemption was needed.

    Instance types given as parameters are checked through their defaults and ``schedules``' values.
    """
    check_exemption_steps(definition, fail, exemptions=exemptions)
    used: set[int] = set()
    parameters = ParameterValues.of(definition, schedules)
    steps = [step for step, _ in iter_steps(definition.get("Steps", []))]
    by_name = {step["Name"]: step for step in steps}
    for step in steps:
        kind, name = step.get("Type"), step["Name"]
        arguments = step.get("Arguments") or {}
        policy = STEP_POLICIES.get(kind)
        if policy is None:
            raise fail(f"unknown step type {kind!r} (known: {sorted(STEP_POLICIES)})", step=name, field="Type")
        guard = StepGuard(
            fail=fail,
            step=name,
            exemptions=exemptions,
            allowed_instance_types=allowed_instance_types,
            parameters=parameters,
            used=used,
        )
        if kind in REFUSED_STEP_TYPES:
            policy.check(guard, arguments)
        if platform is not None and (policy.check or policy.tags):
            _check_platform_values(arguments, platform, fail, name)
        if policy.tags is not None:
            tags, field = policy.tags(arguments)
            guard.cost_tag(tags, cost_tag_key, field)
        if policy.check is not None:
            policy.check(guard, arguments)
        if kind == "Cleanup":
            _check_cleanup(step, by_name, fail, platform.own_prefix if platform else None)
    check_exemptions_needed(definition, fail, exemptions=exemptions, used=used)
