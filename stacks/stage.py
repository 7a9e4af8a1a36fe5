"""One Stage per environment: guardrails first, then the network jobs run in, then the pipelines."""

from __future__ import annotations

from typing import Mapping

from aws_cdk import Environment, RemovalPolicy, Stage, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct

from base.naming import APP_NAME
from planning.plan import EnvironmentPlan
from planning.staging import StagedPipelineFiles
from stacks.guardrails.stack import GuardrailsStack
from stacks.network.stack import NetworkStack
from stacks.pipelines.stack import PipelinesStack


class PlatformStage(Stage):
    """Everything one environment deploys, rendered from its plan; stack names carry the environment."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: EnvironmentPlan,
        staged_files: Mapping[str, StagedPipelineFiles],
    ) -> None:
        config = plan.config
        env = None if config.is_env_agnostic else Environment(account=config.account, region=config.region)
        super().__init__(scope, construct_id, env=env)
        self.plan = plan
        removal_policy = RemovalPolicy.RETAIN if config.removal_policy == "retain" else RemovalPolicy.DESTROY
        prefix = config.resource_prefix

        self.guardrails = GuardrailsStack(
            self,
            "Guardrails",
            stack_name=f"{prefix}-guardrails",
            description=f"{prefix}: KMS key, artifact bucket, permission boundary, SageMaker execution role",
            config=config,
            network_isolation_exempt=plan.network_isolation_exempt,
            removal_policy=removal_policy,
        )
        self.network = NetworkStack(
            self,
            "Network",
            stack_name=f"{prefix}-network",
            description=f"{prefix}: private job VPC, endpoints, flow logs, job network guardrail",
            config=config,
            key=self.guardrails.artifact_store.key,
            artifact_bucket=self.guardrails.artifact_store.bucket,
            execution_role=self.guardrails.execution_role.role,
            removal_policy=removal_policy,
        )

        self.pipelines = PipelinesStack(
            self,
            "Pipelines",
            stack_name=f"{prefix}-pipelines",
            description=f"{prefix}: SageMaker pipelines, their job files and the upsert custom resource",
            plan=plan,
            staged_files=staged_files,
            guardrails=self.guardrails,
            network_ids=self.network.ids,
            function_placement=self.network.function_placement,
            removal_policy=removal_policy,
        )

        iam.PermissionsBoundary.of(self).apply(self.guardrails.boundary.policy)
        Tags.of(self).add(config.cost_tag_key, config.cost_tag_value)
        Tags.of(self).add("Environment", config.name)
        Tags.of(self).add("Application", APP_NAME)
