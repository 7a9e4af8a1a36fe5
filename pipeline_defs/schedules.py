"""Schedules and guardrail exemptions a pipeline module declares next to its builder."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True)
class Schedule:
    """An EventBridge schedule the stacks create for a pipeline, carried as declared.

    ``timezone`` (an IANA name) makes it an EventBridge Scheduler schedule, since rules run in UTC
    only; ``skip_if_running`` starts an execution only when none of the pipeline is running.
    Environments override ``enabled``, ``expression``, ``timezone`` and parameter values in
    ``cdk.json``; the stacks validate the result.
    """

    name: str
    expression: str
    parameter_values: Mapping[str, str | int | float | bool] = field(default_factory=dict)
    enabled: bool = True
    timezone: str | None = None
    skip_if_running: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameter_values", MappingProxyType(dict(self.parameter_values)))


class Guardrail(str, enum.Enum):
    """Defaults every job step gets unless a pipeline opts out explicitly."""

    NETWORK_ISOLATION = "network-isolation"
    VPC = "vpc"
    VOLUME_KMS_KEY = "volume-kms-key"
    OUTPUT_KMS_KEY = "output-kms-key"
    INTER_CONTAINER_ENCRYPTION = "inter-container-encryption"
    COST_TAG = "cost-tag"


@dataclass(frozen=True)
class GuardrailExemption:
    """An explicit opt-out, visible in the compile result and in review.

    ``steps`` limits the exemption to those step names; empty means the whole pipeline.
    """

    guardrail: Guardrail
    reason: str
    steps: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.guardrail, Guardrail):
            raise TypeError(f"guardrail must be a Guardrail, got {self.guardrail!r}")
        if not self.reason or not self.reason.strip():
            raise ValueError(f"exemption of {self.guardrail.value} needs a reason")

    def covers(self, step_name: str) -> bool:
        return not self.steps or step_name in self.steps
