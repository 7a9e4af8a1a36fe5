"""The checks one step's guardrails are made of, its exemptions applied; each raises for the first problem.

Every step type's checks (:mod:`.step_checks`) are composed of these, so a missing VPC, key or tag
reads the same whatever the step type. An instance type given as a pipeline parameter is checked
through every value it can take at synth: the parameter's default and the module's schedules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from pipeline_defs.contract import has_nvme_storage
from pipeline_defs.errors import DefinitionFailure
from pipeline_defs.schedules import Guardrail, GuardrailExemption, Schedule


def has_value(value: Any) -> bool:
    return value not in (None, "", [], {})


@dataclass(frozen=True)
class ParameterValues:
    """The values a pipeline parameter takes that synth knows: its default and each schedule's value."""

    defaults: Mapping[str, Any] = field(default_factory=dict)
    schedules: tuple[Schedule, ...] = ()

    @classmethod
    def of(cls, definition: dict, schedules: tuple[Schedule, ...]) -> "ParameterValues":
        defaults = {p.get("Name"): p.get("DefaultValue") for p in definition.get("Parameters", []) if "DefaultValue" in p}
        return cls(defaults=defaults, schedules=tuple(schedules))

    def candidates(self, value: Any) -> list[tuple[str, Any]]:
        """(where it comes from, value) for a literal, or for each known value of a parameter ``Get``."""
        target = value.get("Get") if isinstance(value, dict) else None
        if not (isinstance(target, str) and target.startswith("Parameters.")):
            return [("", value)]
        name = target.split(".", 1)[1]
        found = [(f" (default of parameter {name})", self.defaults[name])] if name in self.defaults else []
        found += [
            (f" (parameter {name} in schedule {schedule.name!r})", schedule.parameter_values[name])
            for schedule in self.schedules
            if name in schedule.parameter_values
        ]
        return found


@dataclass(frozen=True)
class StepGuard:
    """The checks of one step; ``fail`` names the pipeline and module, ``step`` the step.

    ``used`` collects the exemptions (by position) that let a missing guardrail through, so an
    exemption no step needs can be refused.
    """

    fail: DefinitionFailure
    step: str
    exemptions: tuple[GuardrailExemption, ...]
    allowed_instance_types: tuple[str, ...]
    parameters: ParameterValues = ParameterValues()
    used: set[int] = field(default_factory=set)

    def refuse(self, message: str, field: str) -> None:
        raise self.fail(message, step=self.step, field=field)

    def _covering(self, guardrail: Guardrail) -> list[int]:
        return [i for i, e in enumerate(self.exemptions) if e.guardrail is guardrail and e.covers(self.step)]

    def require(self, guardrail: Guardrail, ok: bool, field: str, message: str) -> None:
        if ok:
            return
        covering = self._covering(guardrail)
        if not covering:
            self.refuse(f"{message} (guardrail {guardrail.value}; exempt it explicitly with a reason)", field)
        self.used.update(covering)

    def vpc(self, vpc: Any, field: str) -> None:
        vpc = vpc if isinstance(vpc, dict) else {}
        has_vpc = has_value(vpc.get("Subnets")) and has_value(vpc.get("SecurityGroupIds"))
        self.require(Guardrail.VPC, has_vpc, field, "no VPC subnets and security groups")

    def isolation(self, value: Any, field: str) -> None:
        self.require(Guardrail.NETWORK_ISOLATION, value is True, field, "network isolation is off")

    def inter_container_encryption(self, value: Any, field: str) -> None:
        self.require(Guardrail.INTER_CONTAINER_ENCRYPTION, value is True, field, "inter-container traffic encryption is off")

    def output_key(self, ok: bool, field: str) -> None:
        self.require(Guardrail.OUTPUT_KMS_KEY, ok, field, "no output KMS key")

    def cost_tag(self, tags: Mapping[str, Any], key: str, field: str) -> None:
        self.require(Guardrail.COST_TAG, key in tags, field, f"cost tag {key!r} missing")

    def instance_type(self, value: Any, field: str) -> None:
        """A literal type, or every known value of the parameter giving it, inside the allowlist."""
        allowed = self.allowed_instance_types
        for source, candidate in self.parameters.candidates(value):
            if allowed and isinstance(candidate, str) and candidate not in allowed:
                self.refuse(f"instance type {candidate!r}{source} is not in the environment's allowlist {list(allowed)}", field)

    def volume_key(self, instance_types: Iterable[Any], volume_key: Any, field: str) -> None:
        """A volume key everywhere, except where every instance type has NVMe storage: SageMaker
        refuses a volume key on those, so a key beside any of them fails."""
        candidates = [c for value in instance_types for c in self.parameters.candidates(value)]
        nvme = [(source, c) for source, c in candidates if has_nvme_storage(c)]
        if nvme and has_value(volume_key):
            source, instance_type = nvme[0]
            self.refuse(
                f"SageMaker refuses a volume KMS key on {instance_type}{source} (local NVMe storage, encrypted "
                f"by hardware): exempt the pipeline from {Guardrail.VOLUME_KMS_KEY.value}",
                field,
            )
        if candidates and len(nvme) == len(candidates):
            self.used.update(self._covering(Guardrail.VOLUME_KMS_KEY))
            return
        self.require(Guardrail.VOLUME_KMS_KEY, has_value(volume_key), field, "no volume KMS key")
