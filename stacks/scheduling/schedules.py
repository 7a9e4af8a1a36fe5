"""Scheduled executions: EventBridge rules (UTC), Scheduler schedules (time zones), an overlap guard.

``aws_events`` has no L2 target for SageMaker pipelines (its target config lacks the pipeline
parameters), so rules are ``CfnRule``; a schedule with a time zone is an EventBridge Scheduler
``CfnSchedule``. Both retry, send what they cannot deliver to one encrypted dead-letter queue, and
an alarm on that queue notifies the environment's topic.
"""

from __future__ import annotations

import json
from typing import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.nag import acknowledge, acknowledge_grants
from planning.schedules import PlannedSchedule
from stacks.functions.lambda_step_targets import FunctionPlacement, HandlerFunction

RETRY_ATTEMPTS = 3
MAX_EVENT_AGE = Duration.hours(2)


def _logical(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


class PipelineSchedules(Construct):
    """One rule or schedule per deployed PlannedSchedule, each with a role that may start only its pipeline."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resource_prefix: str,
        plan: Sequence[PlannedSchedule],
        pipeline_arns: Mapping[str, str],
        key: kms.IKey,
        topic: sns.ITopic,
        removal_policy: RemovalPolicy,
        placement: FunctionPlacement | None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        deployed = [p for p in plan if p.deployed]
        self.rules: dict[str, events.CfnRule] = {}
        self.schedules: dict[str, scheduler.CfnSchedule] = {}
        if not deployed:
            return
        self.dead_letters = self._dead_letter_queue(
            "DeadLetters", name=f"{resource_prefix}-schedule-dead-letters", holds="the schedules'", key=key, removal_policy=removal_policy
        )
        alarm = cloudwatch.Alarm(
            self,
            "DeadLettersAlarm",
            alarm_name=f"{resource_prefix}-schedule-dead-letters",
            alarm_description="A scheduled pipeline start could not be delivered; see the dead-letter queue.",
            metric=self.dead_letters.metric_approximate_number_of_messages_visible(period=Duration.minutes(5), statistic="Maximum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))

        self.guard: HandlerFunction | None = None
        if any(p.skip_if_running for p in deployed):
            guard_dead_letters = self._dead_letter_queue(
                "GuardDeadLetters", name=f"{resource_prefix}-schedule-guard-dead-letters", holds="the guard function's", key=key, removal_policy=removal_policy
            )
            self.guard = HandlerFunction(
                self,
                "Guard",
                resource_prefix=resource_prefix,
                name="schedule-guard",
                folder="schedule_guard",
                description="Starts a scheduled pipeline execution only when none is running",
                timeout=Duration.seconds(60),
                reserved_concurrency=2,
                removal_policy=removal_policy,
                dead_letter_queue=guard_dead_letters,
                placement=placement,
            )
            # Lambda writes failed asynchronous events with the function's role: it needs the queue's key too.
            guard_dead_letters.grant_send_messages(self.guard.function)
            acknowledge_grants(
                role=self.guard.function.role,
                reason="Data-key variants on the environment key only, which encrypts the guard's dead-letter queue.",
            )
            guarded = sorted({pipeline_arns[p.pipeline_name] for p in deployed if p.skip_if_running}, key=str)
            self.guard.function.add_to_role_policy(
                iam.PolicyStatement(
                    sid="StartGuardedPipelines",
                    actions=["sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution"],
                    resources=guarded,
                )
            )

        for planned in deployed:
            arn = pipeline_arns[planned.pipeline_name]
            if planned.timezone:
                self.schedules[planned.resource_name] = self._scheduler(planned=planned, pipeline_arn=arn, stack=stack)
            else:
                self.rules[planned.resource_name] = self._rule(planned=planned, pipeline_arn=arn, stack=stack)

    def _dead_letter_queue(self, construct_id: str, *, name: str, holds: str, key: kms.IKey, removal_policy: RemovalPolicy) -> sqs.Queue:
        """KMS-encrypted, TLS-only, two weeks of retention: long enough to notice and replay."""
        queue = sqs.Queue(
            self,
            construct_id,
            queue_name=name,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=removal_policy,
        )
        acknowledge(scope=queue, rule="AwsSolutions-SQS3", reason=f"This queue is {holds} dead-letter queue; it has none of its own.")
        return queue

    def _guard_input(self, planned: PlannedSchedule, *, delivery_id: str) -> str:
        template = {"pipeline_name": planned.pipeline_name, "schedule": planned.schedule_name, "parameters": [{"Name": k, "Value": v} for k, v in sorted(planned.parameter_values.items())]}
        return json.dumps(template)[:-1] + f', "delivery_id": "{delivery_id}"}}'

    def _role(self, *, planned: PlannedSchedule, service: str, pipeline_arn: str, stack: Stack) -> iam.Role:
        role = iam.Role(
            self,
            f"{_logical(planned.resource_name)}Role",
            description=f"{service} starts {planned.pipeline_name} on schedule {planned.schedule_name}",
            assumed_by=iam.ServicePrincipal(service, conditions={"StringEquals": {"aws:SourceAccount": stack.account}}),
        )
        if planned.skip_if_running:
            role.add_to_policy(iam.PolicyStatement(sid="InvokeGuard", actions=["lambda:InvokeFunction"], resources=[self.guard.function.function_arn]))
        else:
            role.add_to_policy(iam.PolicyStatement(sid="StartThisPipeline", actions=["sagemaker:StartPipelineExecution"], resources=[pipeline_arn]))
        return role

    def _rule(self, *, planned: PlannedSchedule, pipeline_arn: str, stack: Stack) -> events.CfnRule:
        retry = events.CfnRule.RetryPolicyProperty(maximum_retry_attempts=RETRY_ATTEMPTS, maximum_event_age_in_seconds=int(MAX_EVENT_AGE.to_seconds()))
        dead_letters = events.CfnRule.DeadLetterConfigProperty(arn=self.dead_letters.queue_arn)
        if planned.skip_if_running:
            target = events.CfnRule.TargetProperty(
                id="Guard",
                arn=self.guard.function.function_arn,
                retry_policy=retry,
                dead_letter_config=dead_letters,
                input_transformer=events.CfnRule.InputTransformerProperty(
                    input_paths_map={"id": "$.id"}, input_template=self._guard_input(planned, delivery_id="<id>")
                ),
            )
        else:
            target = events.CfnRule.TargetProperty(
                id="Pipeline",
                arn=pipeline_arn,
                role_arn=self._role(planned=planned, service="events.amazonaws.com", pipeline_arn=pipeline_arn, stack=stack).role_arn,
                retry_policy=retry,
                dead_letter_config=dead_letters,
                sage_maker_pipeline_parameters=events.CfnRule.SageMakerPipelineParametersProperty(
                    pipeline_parameter_list=[
                        events.CfnRule.SageMakerPipelineParameterProperty(name=k, value=v) for k, v in sorted(planned.parameter_values.items())
                    ]
                ),
            )
        rule = events.CfnRule(
            self,
            _logical(planned.resource_name),
            name=planned.resource_name,
            description=f"Starts {planned.pipeline_name} ({planned.schedule_name}, UTC)",
            schedule_expression=planned.expression,
            state="ENABLED",
            targets=[target],
        )
        if planned.skip_if_running:
            self.guard.function.add_permission(
                f"{_logical(planned.resource_name)}Invoke",
                principal=iam.ServicePrincipal("events.amazonaws.com"),
                source_arn=rule.attr_arn,
                source_account=stack.account,
            )
        self.dead_letters.add_to_resource_policy(self._queue_statement(source_arn=rule.attr_arn))
        return rule

    def _queue_statement(self, *, source_arn: str) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            actions=["sqs:SendMessage"],
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            resources=[self.dead_letters.queue_arn],
            conditions={"ArnEquals": {"aws:SourceArn": source_arn}},
        )

    def _scheduler(self, *, planned: PlannedSchedule, pipeline_arn: str, stack: Stack) -> scheduler.CfnSchedule:
        role = self._role(planned=planned, service="scheduler.amazonaws.com", pipeline_arn=pipeline_arn, stack=stack)
        # Scheduler writes undeliverable starts to the queue with the schedule's own role.
        self.dead_letters.grant_send_messages(role)
        acknowledge_grants(
            role=role,
            reason="Data-key variants on the environment key only, which encrypts the dead-letter queue this schedule writes to.",
        )
        common = {
            "role_arn": role.role_arn,
            "retry_policy": scheduler.CfnSchedule.RetryPolicyProperty(
                maximum_retry_attempts=RETRY_ATTEMPTS, maximum_event_age_in_seconds=int(MAX_EVENT_AGE.to_seconds())
            ),
            "dead_letter_config": scheduler.CfnSchedule.DeadLetterConfigProperty(arn=self.dead_letters.queue_arn),
        }
        if planned.skip_if_running:
            target = scheduler.CfnSchedule.TargetProperty(
                arn=self.guard.function.function_arn, input=self._guard_input(planned, delivery_id="<aws.scheduler.scheduled-time>"), **common
            )
        else:
            target = scheduler.CfnSchedule.TargetProperty(
                arn=pipeline_arn,
                sage_maker_pipeline_parameters=scheduler.CfnSchedule.SageMakerPipelineParametersProperty(
                    pipeline_parameter_list=[
                        scheduler.CfnSchedule.SageMakerPipelineParameterProperty(name=k, value=v) for k, v in sorted(planned.parameter_values.items())
                    ]
                ),
                **common,
            )
        return scheduler.CfnSchedule(
            self,
            _logical(planned.resource_name),
            name=planned.resource_name,
            description=f"Starts {planned.pipeline_name} ({planned.schedule_name}, {planned.timezone})",
            schedule_expression=planned.expression,
            schedule_expression_timezone=planned.timezone,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=target,
        )
