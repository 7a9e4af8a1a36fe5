"""One Stage per environment: guardrails, network, pipeline services, then one stack per pipeline."""

from __future__ import annotations

from typing import Mapping

from aws_cdk import Aspects, Environment, RemovalPolicy, Stage, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct

from base.naming import APP_NAME, ENVIRONMENT_TAG, SHARED_PIPELINES_STACK_SUFFIX
from planning.plan import EnvironmentPlan
from planning.staging import StagedPipelineFiles
from stacks.guardrails.boundary import AttachGuardrails
from stacks.guardrails.stack import GuardrailsStack
from stacks.network.stack import NetworkStack
from stacks.pipelines.pipeline_stack import PipelineStack
from stacks.pipelines.services_stack import PipelineServicesStack


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
            description=f"{prefix}: KMS key, artifact bucket, permission boundary",
            config=config,
            removal_policy=removal_policy,
        )
        self.network = NetworkStack(
            self,
            "Network",
            stack_name=f"{prefix}-network",
            description=f"{prefix}: private job VPC, endpoints, flow logs",
            config=config,
            key=self.guardrails.artifact_store.key,
            artifact_bucket=self.guardrails.artifact_store.bucket,
            removal_policy=removal_policy,
        )
        # Construct id and stack name kept from when this stack also held the pipelines: renaming replaces it.
        self.services = PipelineServicesStack(
            self,
            "Pipelines",
            stack_name=f"{prefix}-{SHARED_PIPELINES_STACK_SUFFIX}",
            description=f"{prefix}: pipeline upsert provider, Lambda step functions, notifications, schedule services",
            plan=plan,
            guardrails=self.guardrails,
            function_placement=self.network.function_placement,
            removal_policy=removal_policy,
        )
        self.pipelines = {
            pipeline.compiled.module_pipeline_name: PipelineStack(
                self,
                pipeline.construct_id,
                stack_name=pipeline.stack_name,
                description=f"{prefix}: SageMaker pipeline {pipeline.compiled.pipeline_name}, its role, job files and schedules",
                pipeline=pipeline,
                config=config,
                guardrails=self.guardrails,
                network_ids=self.network.ids,
                services=self.services,
                staged=staged_files[pipeline.compiled.pipeline_name],
                removal_policy=removal_policy,
            )
            for pipeline in plan.pipeline_plans
        }

        iam.PermissionsBoundary.of(self).apply(self.guardrails.boundary.policy)
        Aspects.of(self).add(AttachGuardrails(policies=self.guardrails.boundary.guardrails))
        Tags.of(self).add(config.cost_tag_key, config.cost_tag_value)
        Tags.of(self).add("Environment", config.name)
        Tags.of(self).add("Application", APP_NAME)
        Tags.of(self).add(ENVIRONMENT_TAG, config.resource_prefix)
