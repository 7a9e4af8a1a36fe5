"""The guardrails every job and model step must carry unless its module exempted it, checked before deploy.

The same rules are IAM Denies at run time (``stacks/guardrails/policies.py``); failing here names the
step and field at synth instead of a refused job at 3 a.m. Job names are checked too: they are the
execution role's IAM scope. An exemption no step needs is refused as well: it would silently turn
a guardrail off (a pipeline-wide network-isolation exemption turns isolation off for every job).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from base.errors import nearest_name_hint
from pipeline_defs.contract import has_nvme_storage, iter_steps
from pipeline_defs.errors import DefinitionFailure
from pipeline_defs.schedules import Guardrail, GuardrailExemption
from pipeline_defs.validation.graph import iter_nodes

JOB_NAME_FIELDS = {
    "Training": "TrainingJobName",
    "Processing": "ProcessingJobName",
    "Transform": "TransformJobName",
    "Model": "ModelName",
    "RegisterModel": "ModelPackageGroupName",
}


def check_job_names(definition: dict, fail: DefinitionFailure, *, prefix: str) -> None:
    """Job, model and model package group names are the execution role's IAM scope (``<prefix>-*``)."""
    for step, _ in iter_steps(definition.get("Steps", [])):
        field = JOB_NAME_FIELDS.get(step.get("Type", ""))
        if field is None:
            continue
        name = (step.get("Arguments") or {}).get(field)
        if not isinstance(name, str) or not name.startswith(f"{prefix}-"):
            raise fail(
                f"{field} is {name!r}: job, model and model package group names must start with "
                f"{prefix + '-'!r} (the execution role may only create those); use ctx.job_name(step)",
                step=step.get("Name"),
                field=field,
            )


def _has_value(value: Any) -> bool:
    return value not in (None, "", [], {})


@dataclass(frozen=True)
class PlatformValues:
    """The only subnets, security groups and KMS key a job may name (the stacks' own)."""

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    kms_key: str


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
        for key in ("KmsKeyId", "VolumeKmsKeyId"):
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


@dataclass(frozen=True)
class _StepGuard:
    """The checks of one job or model step, its exemptions applied; each raises for the first problem.

    ``used`` collects the exemptions (by position) that let a missing guardrail through.
    """

    fail: DefinitionFailure
    step: str
    exemptions: tuple[GuardrailExemption, ...]
    allowed_instance_types: tuple[str, ...]
    used: set[int] = field(default_factory=set)

    def _covering(self, guardrail: Guardrail) -> list[int]:
        return [i for i, e in enumerate(self.exemptions) if e.guardrail is guardrail and e.covers(self.step)]

    def require(self, guardrail: Guardrail, ok: bool, field: str, message: str) -> None:
        if ok:
            return
        covering = self._covering(guardrail)
        if not covering:
            raise self.fail(
                f"{message} (guardrail {guardrail.value}; exempt it explicitly with a reason)", step=self.step, field=field
            )
        self.used.update(covering)

    def vpc(self, vpc: dict, field: str) -> None:
        has_vpc = _has_value(vpc.get("Subnets")) and _has_value(vpc.get("SecurityGroupIds"))
        self.require(Guardrail.VPC, has_vpc, field, "no VPC subnets and security groups")

    def isolation(self, value: Any, field: str) -> None:
        self.require(Guardrail.NETWORK_ISOLATION, value is True, field, "network isolation is off")

    def inter_container_encryption(self, value: Any, field: str) -> None:
        self.require(Guardrail.INTER_CONTAINER_ENCRYPTION, value is True, field, "inter-container traffic encryption is off")

    def output_key(self, ok: bool, field: str) -> None:
        self.require(Guardrail.OUTPUT_KMS_KEY, ok, field, "no output KMS key")

    def instance_type(self, value: Any, field: str) -> None:
        allowed = self.allowed_instance_types
        if allowed and isinstance(value, str) and value not in allowed:
            raise self.fail(f"instance type {value!r} is not in the environment's allowlist {list(allowed)}", step=self.step, field=field)

    def volume_key(self, instance_type: Any, volume_key: Any, field: str) -> None:
        """A volume key everywhere, except on NVMe types, where SageMaker refuses one."""
        if has_nvme_storage(instance_type):
            if _has_value(volume_key):
                raise self.fail(
                    f"SageMaker refuses a volume KMS key on {instance_type} (local NVMe storage, encrypted "
                    f"by hardware): exempt the pipeline from {Guardrail.VOLUME_KMS_KEY.value}",
                    step=self.step,
                    field=field,
                )
            self.used.update(self._covering(Guardrail.VOLUME_KMS_KEY))
            return
        self.require(Guardrail.VOLUME_KMS_KEY, _has_value(volume_key), field, "no volume KMS key")


def _check_processing(guard: _StepGuard, arguments: dict) -> None:
    network = arguments.get("NetworkConfig") or {}
    cluster = (arguments.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    output = arguments.get("ProcessingOutputConfig") or {}
    guard.instance_type(cluster.get("InstanceType"), "ProcessingResources.ClusterConfig.InstanceType")
    guard.vpc(network.get("VpcConfig") or {}, "NetworkConfig.VpcConfig")
    guard.volume_key(cluster.get("InstanceType"), cluster.get("VolumeKmsKeyId"), "ProcessingResources.ClusterConfig.VolumeKmsKeyId")
    guard.output_key(not (output.get("Outputs") or []) or _has_value(output.get("KmsKeyId")), "ProcessingOutputConfig.KmsKeyId")
    guard.isolation(network.get("EnableNetworkIsolation"), "NetworkConfig.EnableNetworkIsolation")
    guard.inter_container_encryption(
        network.get("EnableInterContainerTrafficEncryption"), "NetworkConfig.EnableInterContainerTrafficEncryption"
    )


def _check_training(guard: _StepGuard, arguments: dict) -> None:
    resources = arguments.get("ResourceConfig") or {}
    guard.instance_type(resources.get("InstanceType"), "ResourceConfig.InstanceType")
    guard.vpc(arguments.get("VpcConfig") or {}, "VpcConfig")
    guard.volume_key(resources.get("InstanceType"), resources.get("VolumeKmsKeyId"), "ResourceConfig.VolumeKmsKeyId")
    guard.output_key(_has_value((arguments.get("OutputDataConfig") or {}).get("KmsKeyId")), "OutputDataConfig.KmsKeyId")
    guard.isolation(arguments.get("EnableNetworkIsolation"), "EnableNetworkIsolation")
    guard.inter_container_encryption(arguments.get("EnableInterContainerTrafficEncryption"), "EnableInterContainerTrafficEncryption")
    if resources.get("KeepAlivePeriodInSeconds") not in (None, 0):
        raise guard.fail(
            "warm pools are off on this platform: KeepAlivePeriodInSeconds must be 0",
            step=guard.step,
            field="ResourceConfig.KeepAlivePeriodInSeconds",
        )


def _check_transform(guard: _StepGuard, arguments: dict) -> None:
    resources = arguments.get("TransformResources") or {}
    guard.instance_type(resources.get("InstanceType"), "TransformResources.InstanceType")
    guard.volume_key(resources.get("InstanceType"), resources.get("VolumeKmsKeyId"), "TransformResources.VolumeKmsKeyId")
    guard.output_key(_has_value((arguments.get("TransformOutput") or {}).get("KmsKeyId")), "TransformOutput.KmsKeyId")


def _check_model(guard: _StepGuard, arguments: dict) -> None:
    guard.vpc(arguments.get("VpcConfig") or {}, "VpcConfig")
    guard.isolation(arguments.get("EnableNetworkIsolation"), "EnableNetworkIsolation")


_STEP_CHECKS: dict[str, Callable[[_StepGuard, dict], None]] = {
    "Processing": _check_processing,
    "Training": _check_training,
    "Transform": _check_transform,
    "Model": _check_model,
}


def _describe(exemption: GuardrailExemption) -> str:
    scope = f"steps {list(exemption.steps)}" if exemption.steps else "the whole pipeline"
    return f"GUARDRAIL_EXEMPTIONS: the {exemption.guardrail.value} exemption for {scope}"


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
) -> None:
    """Exempted steps exist; platform values, cost tag, each step type's guardrails; then every exemption was needed."""
    check_exemption_steps(definition, fail, exemptions=exemptions)
    used: set[int] = set()
    for step, _ in iter_steps(definition.get("Steps", [])):
        kind, name = step.get("Type"), step["Name"]
        arguments = step.get("Arguments") or {}
        if kind not in _STEP_CHECKS:
            continue
        if platform is not None:
            _check_platform_values(arguments, platform, fail, name)
        guard = _StepGuard(fail=fail, step=name, exemptions=exemptions, allowed_instance_types=allowed_instance_types, used=used)
        tags = arguments.get("Tags") or []
        guard.require(
            Guardrail.COST_TAG,
            any(isinstance(t, dict) and t.get("Key") == cost_tag_key for t in tags),
            "Tags",
            f"cost tag {cost_tag_key!r} missing",
        )
        _STEP_CHECKS[kind](guard, arguments)
    check_exemptions_needed(definition, fail, exemptions=exemptions, used=used)
