"""The environment's pipeline services: the upsert provider, Lambda step functions, notifications, schedule services.

Shared by every pipeline stack, and the same size whatever the number of pipelines: nothing here is
added per pipeline or per schedule.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnRule, CfnRuleAssertion, CustomResource, Fn, RemovalPolicy, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from base.naming import HANDOVER_RESOURCE_TYPE
from planning.plan import EnvironmentPlan
from stacks.functions.lambda_step_targets import FunctionPlacement, LambdaStepTargets
from stacks.guardrails.artifact_store import artifact_bucket_name
from stacks.guardrails.stack import GuardrailsStack
from stacks.notifications.failure_notifications import FailureNotifications
from stacks.pipelines.upsert_provider import PipelineUpsertProvider
from stacks.scheduling.schedules import ScheduleServices


class PipelineServicesStack(Stack):
    """Deployed before the pipeline stacks, which reference its provider, functions, queue and guard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: EnvironmentPlan,
        guardrails: GuardrailsStack,
        function_placement: FunctionPlacement | None,
        removal_policy: RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        config = plan.config
        store = guardrails.artifact_store
        regions = sorted({c.region for c in plan.pipelines if not c.region_is_pinned})
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
            # Imported by its fixed name: the grant needs no cross-stack reference.
            artifact_bucket=s3.Bucket.from_bucket_name(
                self, "ArtifactBucket", artifact_bucket_name(resource_prefix=config.resource_prefix)
            ),
            key=store.key,
            removal_policy=removal_policy,
        )
        # Pipelines this stack created before each had its own stack move to theirs before the cleanup
        # phase deletes their old resources here; the same size at any number of pipelines.
        self.handover = CustomResource(
            self,
            "Handover",
            service_token=self.provider.provider.service_token,
            resource_type=HANDOVER_RESOURCE_TYPE,
            properties={"PipelineNamePrefix": f"{config.resource_prefix}-", "ResourcePrefix": config.resource_prefix},
        )
        self.step_functions = LambdaStepTargets(
            self,
            "StepFunctions",  # the construct id is part of deployed logical ids: keep it
            resource_prefix=config.resource_prefix,
            removal_policy=removal_policy,
            key=store.key,
            placement=function_placement,
        )
        self.notifications = FailureNotifications(
            self, "Notifications", resource_prefix=config.resource_prefix, key=store.key, emails=config.notification_emails
        )
        self.schedules = ScheduleServices(
            self,
            "Schedules",
            resource_prefix=config.resource_prefix,
            plan=plan.schedules,
            key=store.key,
            topic=self.notifications.topic,
            removal_policy=removal_policy,
            placement=function_placement,
        )
