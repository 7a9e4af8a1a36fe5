"""Guardrails stack: the environment's key, artifact bucket, permission boundary and execution role."""

from __future__ import annotations

from typing import Any, Sequence

from aws_cdk import RemovalPolicy, Stack
from constructs import Construct

from stacks.guardrails.artifact_store import ArtifactStore
from base.config import EnvironmentConfig
from stacks.guardrails.execution_role import ExecutionRole, PermissionBoundary


class GuardrailsStack(Stack):
    """Deployed first: every other stack of the environment encrypts with its key and carries its boundary."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network_isolation_exempt: Sequence[str],
        removal_policy: RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.artifact_store = ArtifactStore(
            self, "ArtifactStore", resource_prefix=config.resource_prefix, removal_policy=removal_policy
        )
        self.boundary = PermissionBoundary(
            self, "PermissionBoundary", config=config, network_isolation_exempt=network_isolation_exempt
        )
        self.execution_role = ExecutionRole(
            self, "ExecutionRole", config=config, bucket=self.artifact_store.bucket, key=self.artifact_store.key
        )
