"""One pipeline's own stack: its execution role, its job files and pipeline resource, its schedules.

The pipeline is the unit of deployment, least privilege and review: a change to one pipeline module
changes this stack's template only, and ``cdk deploy <stack>`` deploys that pipeline alone.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnRule, CfnRuleAssertion, Fn, RemovalPolicy, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from base.config import EnvironmentConfig
from base.naming import SHARED_PIPELINES_STACK_SUFFIX
from pipeline_defs import placeholders
from planning.access import FAN_OUT_CHILDREN_TAG
from planning.plan import PipelinePlan
from planning.staging import StagedPipelineFiles
from stacks.guardrails.artifact_store import artifact_bucket_name
from stacks.guardrails.stack import GuardrailsStack
from stacks.network.job_network import JobNetworkIds
from stacks.pipelines.deployed_pipeline import DeployedPipeline
from stacks.pipelines.execution_role import PipelineExecutionRole
from stacks.pipelines.services_stack import PipelineServicesStack
from stacks.scheduling.schedules import PipelineSchedules


class PipelineStack(Stack):
    """Deployed after the environment's guardrails, network and pipeline services, which it references."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipeline: PipelinePlan,
        config: EnvironmentConfig,
        guardrails: GuardrailsStack,
        network_ids: JobNetworkIds,
        services: PipelineServicesStack,
        staged: StagedPipelineFiles,
        removal_policy: RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        compiled = pipeline.compiled
        if compiled.signing_key_development_only and not config.is_env_agnostic:
            refuse_deployment_of_development_signing(self)
        key = guardrails.artifact_store.key
        # Imported by its fixed name, so grants on it need no cross-stack reference.
        bucket = s3.Bucket.from_bucket_name(self, "ArtifactBucket", artifact_bucket_name(resource_prefix=config.resource_prefix))
        function_arns = services.step_functions.function_arns
        self.execution_role = PipelineExecutionRole(
            self,
            "ExecutionRole",
            role_name=pipeline.role_name,
            pipeline_name=compiled.pipeline_name,
            resource_prefix=config.resource_prefix,
            bucket=bucket,
            key=key,
            lambda_function_arns=[function_arns[name] for name in pipeline.lambda_functions],
            subnet_ids=network_ids.subnet_ids,
            security_group_ids=network_ids.job_security_group_ids,
            network_isolation_exempt=pipeline.network_isolation_exempt,
            code_prefixes=pipeline.code_prefixes,
            image_repositories=compiled.image_repositories,
            step_types=pipeline.step_types,
            emr_clusters=pipeline.emr_clusters,
            emr_serverless_applications=pipeline.emr_serverless_applications,
            read_prefixes=pipeline.access.read_prefixes,
            write_prefixes=pipeline.access.write_prefixes,
        )
        values = {
            placeholders.EXECUTION_ROLE_NAME.name: self.execution_role.role.role_name,
            placeholders.ARTIFACT_BUCKET.name: bucket.bucket_name,
            placeholders.KMS_KEY_ARN.name: key.key_arn,
            placeholders.JOB_SECURITY_GROUP_ID.name: network_ids.job_security_group_ids[0],
            **{p.name: subnet for p, subnet in zip(placeholders.SUBNET_IDS, network_ids.subnet_ids)},
            **{placeholders.LAMBDA_FUNCTION_ARNS[name].name: arn for name, arn in function_arns.items()},
        }
        self.pipeline = DeployedPipeline(
            self,
            "Pipeline",
            compiled=compiled,
            service_token=services.provider.provider.service_token,
            role_arn=self.execution_role.role.role_arn,
            values=values,
            staged=staged,
            adopt_from=[f"{config.resource_prefix}-{SHARED_PIPELINES_STACK_SUFFIX}"],
            tags={
                config.cost_tag_key: config.cost_tag_value,
                "Environment": config.name,
                # Read by the fan-out step: the children this pipeline may start, set only by its stack.
                **({FAN_OUT_CHILDREN_TAG: " ".join(pipeline.access.child_pipelines)} if pipeline.access.child_pipelines else {}),
            },
            retain_on_delete=removal_policy == RemovalPolicy.RETAIN,
            max_parallel_steps=compiled.max_parallel_steps,
        )
        # Its role's policies are in place before the pipeline exists, so no execution runs without them.
        self.pipeline.node.add_dependency(self.execution_role)
        dead_letters = services.schedules.dead_letters
        guard = services.schedules.guard
        self.schedules = PipelineSchedules(
            self,
            "Schedules",
            plan=pipeline.schedules,
            pipeline_arn=self.pipeline.pipeline_arn,
            dead_letters_arn=dead_letters.queue_arn if dead_letters is not None else None,
            guard_function_arn=guard.function.function_arn if guard is not None else None,
            key=key,
        )


DEVELOPMENT_SIGNING_RULE_ID = "DevelopmentSigningKey"


def refuse_deployment_of_development_signing(stack: Stack) -> None:
    """A rule that fails every create and update of ``stack``: its ``@step`` payloads carry signatures
    by the published development key, which must never reach an environment with an account."""
    CfnRule(
        stack,
        DEVELOPMENT_SIGNING_RULE_ID,
        assertions=[
            CfnRuleAssertion(
                assert_=Fn.condition_equals("signed-with-the-development-key", "signed-with-the-secret-seed"),
                assert_description=(
                    "Synthesized without PIPELINE_DEFS_SIGNING_SEED: @step payloads are signed with the published "
                    "development key. Synthesize with the seed and deploy that assembly."
                ),
            )
        ],
    )
