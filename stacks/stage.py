"""One Stage per environment: guardrails first, then the network jobs run in, then the pipelines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from aws_cdk import Environment, RemovalPolicy, Stage, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct

from base.config import APP_NAME, EnvironmentConfig
from stacks.guardrails_stack import GuardrailsStack
from stacks.network_stack import NetworkStack
from planning.compilation import compile_pipelines, with_isolation_exemptions
from stacks.pipelines_stack import PipelinesStack
from stacks.review_files import write_review_files
from planning.schedules import plan_schedules

if TYPE_CHECKING:
    from pipeline_defs.contract import CompiledPipeline


class PlatformStage(Stage):
    """Everything one environment deploys; stack names carry the environment so stages never collide."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        compiled: Sequence["CompiledPipeline"] | None = None,
    ) -> None:
        env = None if config.is_env_agnostic else Environment(account=config.account, region=config.region)
        super().__init__(scope, construct_id, env=env)
        removal_policy = RemovalPolicy.RETAIN if config.removal_policy == "retain" else RemovalPolicy.DESTROY
        prefix = config.resource_prefix
        self.compiled = tuple(compiled) if compiled is not None else compile_pipelines(config=config)
        config = with_isolation_exemptions(config=config, compiled=self.compiled)
        self.config = config
        self.schedule_plan = plan_schedules(config=config, compiled=self.compiled)
        write_review_files(outdir=Path(self.outdir), compiled=self.compiled)

        self.guardrails = GuardrailsStack(
            self,
            "Guardrails",
            stack_name=f"{prefix}-guardrails",
            description=f"{prefix}: KMS key, artifact bucket, permission boundary, SageMaker execution role",
            config=config,
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
            config=config,
            compiled=self.compiled,
            schedule_plan=self.schedule_plan,
            guardrails=self.guardrails,
            network_ids=self.network.ids,
            function_placement=self.network.function_placement,
            staging_dir=Path(self.outdir) / "pipeline-files",
            removal_policy=removal_policy,
        )

        iam.PermissionsBoundary.of(self).apply(self.guardrails.boundary.policy)
        Tags.of(self).add(config.cost_tag_key, config.cost_tag_value)
        Tags.of(self).add("Environment", config.name)
        Tags.of(self).add("Application", APP_NAME)
