"""Pipelines stack: every compiled pipeline of the environment, upserted by one custom resource provider."""

from __future__ import annotations

from typing import Any, Mapping

from aws_cdk import Aws, CfnRule, CfnRuleAssertion, Fn, RemovalPolicy, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from pipeline_defs import placeholders
from planning.plan import EnvironmentPlan
from planning.staging import StagedPipelineFiles
from stacks.guardrails.artifact_store import artifact_bucket_name
from stacks.pipelines.deployed_pipeline import DeployedPipeline
from stacks.guardrails.stack import GuardrailsStack
from stacks.network.job_network import JobNetworkIds
from stacks.pipelines.upsert_provider import PipelineUpsertProvider
from stacks.nag import acknowledge, acknowledge_grants
from stacks.notifications.failure_notifications import FailureNotifications
from stacks.scheduling.schedules import PipelineSchedules
from stacks.functions.lambda_step_targets import BASIC_EXECUTION_ROLE_FINDING, FunctionPlacement, LambdaStepTargets

MAX_PARALLEL_STEPS = 10


class PipelinesStack(Stack):
    """Deployed last: the pipelines reference the guardrails' role, key and bucket and the network's ids."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: EnvironmentPlan,
        staged_files: Mapping[str, StagedPipelineFiles],
        guardrails: GuardrailsStack,
        network_ids: JobNetworkIds,
        function_placement: FunctionPlacement | None,
        removal_policy: RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        config, compiled = plan.config, plan.pipelines
        store = guardrails.artifact_store
        role = guardrails.execution_role.role
        # Imported by its fixed name, so grants on it need no cross-stack reference.
        bucket = s3.Bucket.from_bucket_name(self, "ArtifactBucket", artifact_bucket_name(resource_prefix=config.resource_prefix))
        regions = sorted({c.region for c in compiled if not c.region_is_pinned})
        if regions:
            # Image URIs in the definitions are regional: an env-agnostic stage must deploy where it compiled.
            CfnRule(
                self,
                "DeployRegionMatchesDefinitions",
                assertions=[
                    CfnRuleAssertion(
                        assert_=Fn.condition_equals(Aws.REGION, regions[0]),
                        assert_description=f"The pipelines of {config.name} were compiled for {regions[0]}; deploy them there.",
                    )
                ],
            )
        self.provider = PipelineUpsertProvider(
            self,
            "Upsert",
            resource_prefix=config.resource_prefix,
            execution_role=role,
            removal_policy=removal_policy,
        )
        self.step_functions = LambdaStepTargets(
            self,
            "StepFunctions",  # the construct id is part of deployed logical ids: keep it
            resource_prefix=config.resource_prefix,
            removal_policy=removal_policy,
            placement=function_placement,
        )
        values = {
            placeholders.EXECUTION_ROLE_NAME.name: role.role_name,
            placeholders.ARTIFACT_BUCKET.name: bucket.bucket_name,
            placeholders.KMS_KEY_ARN.name: store.key.key_arn,
            placeholders.JOB_SECURITY_GROUP_ID.name: network_ids.job_security_group_ids[0],
            **{placeholder.name: subnet for placeholder, subnet in zip(placeholders.SUBNET_IDS, network_ids.subnet_ids)},
            **self.step_functions.placeholder_values,
        }
        tags = {config.cost_tag_key: config.cost_tag_value, "Environment": config.name}
        self.pipelines = {
            item.module_pipeline_name: DeployedPipeline(
                self,
                _construct_id(item.module_pipeline_name),
                compiled=item,
                service_token=self.provider.provider.service_token,
                upsert_function=self.provider.function,
                role_arn=role.role_arn,
                values=values,
                bucket=bucket,
                key=store.key,
                staged=staged_files[item.pipeline_name],
                tags=tags,
                retain_on_delete=removal_policy == RemovalPolicy.RETAIN,
                max_parallel_steps=MAX_PARALLEL_STEPS,
            )
            for item in compiled
        }
        self.notifications = FailureNotifications(
            self, "Notifications", resource_prefix=config.resource_prefix, key=store.key, emails=config.notification_emails
        )
        self.schedules = PipelineSchedules(
            self,
            "Schedules",
            resource_prefix=config.resource_prefix,
            plan=plan.schedules,
            pipeline_arns={item.pipeline_name: self.pipelines[item.module_pipeline_name].pipeline_arn for item in compiled},
            key=store.key,
            topic=self.notifications.topic,
            removal_policy=removal_policy,
            placement=function_placement,
        )
        for child in self.node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment"):
                acknowledge_bucket_deployment(function=child)


def acknowledge_bucket_deployment(*, function: IConstruct) -> None:
    """CDK's shared BucketDeployment function: its managed-policy, runtime and grant findings."""
    acknowledge(
        scope=function,
        rule=BASIC_EXECUTION_ROLE_FINDING,
        reason="CDK's BucketDeployment function writes only its own logs with this policy.",
    )
    acknowledge(
        scope=function,
        rule="AwsSolutions-L1",
        reason="CDK's BucketDeployment function pins its Python runtime to match its AWS CLI layer; it moves with aws-cdk-lib.",
    )
    acknowledge_grants(
        role=function.node.find_child("ServiceRole"),
        reason="CDK's BucketDeployment grants: read the CDK asset bucket, write job files into this environment's "
        "artifact bucket, and data-key operations on the environment key; nothing beyond those two buckets.",
    )


def _construct_id(module_pipeline_name: str) -> str:
    """``train-evaluate-register`` → ``TrainEvaluateRegister``: readable logical ids in cdk diff."""
    return "".join(part.capitalize() for part in module_pipeline_name.replace("_", "-").split("-"))
