"""Guardrails stack: the environment's key, artifact bucket, permission boundary and guardrail policies."""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy, Stack
from constructs import Construct

from stacks.guardrails.artifact_store import ArtifactStore
from base.config import EnvironmentConfig
from stacks.guardrails.boundary import PermissionBoundary


class GuardrailsStack(Stack):
    """Deployed first: every other stack of the environment encrypts with its key and carries its boundary."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        removal_policy: RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.artifact_store = ArtifactStore(
            self, "ArtifactStore", resource_prefix=config.resource_prefix, removal_policy=removal_policy
        )
        self.boundary = PermissionBoundary(self, "PermissionBoundary", config=config)
