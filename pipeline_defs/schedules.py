"""Schedules and guardrail exemptions a pipeline module declares next to its builder."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from base.expiry import expiry_problem, owner_problem


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


@dataclass(frozen=True, kw_only=True)
class GuardrailExemption:
    """An explicit opt-out, visible in the compile result and in review, that someone answers for until a date.

    ``owner`` names the team or contact that renews or removes it; ``expires`` (``"YYYY-MM-DD"``)
    is the last day it holds: synth refuses it from the next day (UTC). ``steps`` limits the
    exemption to those step names; empty means the whole pipeline.
    """

    guardrail: Guardrail
    reason: str
    owner: str
    expires: str
    steps: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.guardrail, Guardrail):
            raise TypeError(f"guardrail must be a Guardrail, got {self.guardrail!r}")
        if not self.reason or not self.reason.strip():
            raise ValueError(f"exemption of {self.guardrail.value} needs a reason")
        for name, problem in (("owner", owner_problem(self.owner)), ("expires", expiry_problem(self.expires))):
            if problem:
                raise ValueError(f"exemption of {self.guardrail.value}: {name} {problem}")

    def covers(self, step_name: str) -> bool:
        return not self.steps or step_name in self.steps

    def describe(self) -> str:
        """How messages name it: guardrail and scope."""
        scope = f"steps {list(self.steps)}" if self.steps else "the whole pipeline"
        return f"the {self.guardrail.value} exemption for {scope}"


@dataclass(frozen=True)
class DataAccess:
    """S3 key prefixes of the environment's artifact bucket a pipeline reads or writes beyond its own.

    Declared as ``DATA_ACCESS`` next to the builder; the pipeline's role gets exactly these, and a
    change to them shows in review as a security change. Prefixes are keys inside the environment's
    bucket ending in ``/``, e.g. ``"shared/reference-data/"``: never another bucket, never another
    pipeline's code, and never a write into another pipeline's prefix.
    """

    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for field_name in ("read", "write"):
            value = getattr(self, field_name)
            if isinstance(value, str) or not all(isinstance(p, str) for p in value):
                raise TypeError(f"DataAccess.{field_name} must be a tuple of key prefixes, got {value!r}")
            object.__setattr__(self, field_name, tuple(value))
