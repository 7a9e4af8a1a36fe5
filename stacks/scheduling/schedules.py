"""Scheduled executions: EventBridge Scheduler schedules (in UTC or a time zone), an overlap guard.

Every schedule is a Scheduler ``CfnSchedule``: Scheduler allows a million schedules per account,
EventBridge rules 300 per event bus, and platforms run hundreds of pipelines. Each schedule retries,
sends what it cannot deliver to one encrypted dead-letter queue through its own role, and an alarm
on that queue notifies the environment's topic.

The environment's shared parts (:class:`ScheduleServices`) stay the same size whatever the number
of pipelines; each pipeline stack holds its own schedules and their roles (:class:`PipelineSchedules`).
"""

from __future__ import annotations

import json
from typing import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.nag import acknowledge, acknowledge_grants, acknowledge_wildcards, wildcard_action
from planning.schedules import PlannedSchedule
from stacks.functions.lambda_step_targets import FunctionPlacement, HandlerFunction

RETRY_ATTEMPTS = 3
MAX_EVENT_AGE = Duration.hours(2)


def _logical(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


class ScheduleServices(Construct):
    """The environment's dead-letter queue with its alarm, and the overlap guard, shared by every pipeline."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resource_prefix: str,
        plan: Sequence[PlannedSchedule],
        key: kms.IKey,
        topic: sns.ITopic,
        removal_policy: RemovalPolicy,
        placement: FunctionPlacement | None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        deployed = [p for p in plan if p.deployed]
        self.dead_letters: sqs.Queue | None = None
        self.guard: HandlerFunction | None = None
        if not deployed:
            return
        self.dead_letters = self._dead_letter_queue(
            "DeadLetters", name=f"{resource_prefix}-schedule-dead-letters", key=key, removal_policy=removal_policy
        )
        # cdk-nag recognises a queue as a dead-letter queue from a Lambda function or a redrive policy, not from a schedule.
        acknowledge(
            scope=self.dead_letters,
            rule="AwsSolutions-SQS3",
            reason="This queue is the dead-letter queue of the environment's schedules (their DeadLetterConfig); it has none of its own.",
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

        if any(p.skip_if_running for p in deployed):
            guard_dead_letters = self._dead_letter_queue(
                "GuardDeadLetters", name=f"{resource_prefix}-schedule-guard-dead-letters", key=key, removal_policy=removal_policy
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
                key=key,
                dead_letter_queue=guard_dead_letters,
                placement=placement,
            )
            # Lambda writes failed asynchronous events with the function's role: it needs the queue's key too.
            guard_dead_letters.grant_send_messages(self.guard.function)
            key_variants = "Data-key and re-encrypt variants on the environment key only (named by ARN), which encrypts the guard's dead-letter queue."
            acknowledge_grants(
                policy=self.guard.function.role.node.find_child("DefaultPolicy"),
                findings={wildcard_action("kms:GenerateDataKey*"): key_variants, wildcard_action("kms:ReEncrypt*"): key_variants},
            )
            policy = iam.Policy(
                self,
                "GuardPolicy",
                roles=[self.guard.function.role],
                statements=[
                    iam.PolicyStatement(
                        sid="StartEnvironmentPipelines",
                        actions=["sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution"],
                        resources=[f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}:pipeline/{resource_prefix}-*"],
                    )
                ],
            )
            acknowledge_wildcards(
                scope=policy,
                document=policy.document,
                reasons={
                    "StartEnvironmentPipelines": "The guard starts the pipeline a schedule of this environment names; "
                    "one statement for all of them keeps the role within IAM's size limit at any number of pipelines."
                },
            )

    def _dead_letter_queue(self, construct_id: str, *, name: str, key: kms.IKey, removal_policy: RemovalPolicy) -> sqs.Queue:
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
        return queue


class PipelineSchedules(Construct):
    """One rule or schedule per deployed PlannedSchedule of one pipeline, each with a role that may start only it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: Sequence[PlannedSchedule],
        pipeline_arn: str,
        dead_letters_arn: str | None,
        guard_function_arn: str | None,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.schedules: dict[str, scheduler.CfnSchedule] = {}
        self._dead_letters_arn = dead_letters_arn
        self._guard_arn = guard_function_arn
        self._key = key
        for planned in (p for p in plan if p.deployed):
            if dead_letters_arn is None or (planned.skip_if_running and guard_function_arn is None):
                raise ValueError(f"schedule {planned.resource_name}: the environment's schedule services were not planned for it")
            self.schedules[planned.resource_name] = self._scheduler(planned=planned, pipeline_arn=pipeline_arn, stack=stack)

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
            role.add_to_policy(iam.PolicyStatement(sid="InvokeGuard", actions=["lambda:InvokeFunction"], resources=[self._guard_arn]))
        else:
            role.add_to_policy(iam.PolicyStatement(sid="StartThisPipeline", actions=["sagemaker:StartPipelineExecution"], resources=[pipeline_arn]))
        return role

    def _scheduler(self, *, planned: PlannedSchedule, pipeline_arn: str, stack: Stack) -> scheduler.CfnSchedule:
        role = self._role(planned=planned, service="scheduler.amazonaws.com", pipeline_arn=pipeline_arn, stack=stack)
        # Scheduler writes undeliverable starts to the queue with the schedule's own role, not a queue policy.
        role.add_to_policy(iam.PolicyStatement(sid="DeadLetters", actions=["sqs:SendMessage"], resources=[self._dead_letters_arn]))
        role.add_to_policy(
            iam.PolicyStatement(sid="DeadLettersKey", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[self._key.key_arn])
        )
        common = {
            "role_arn": role.role_arn,
            "retry_policy": scheduler.CfnSchedule.RetryPolicyProperty(
                maximum_retry_attempts=RETRY_ATTEMPTS, maximum_event_age_in_seconds=int(MAX_EVENT_AGE.to_seconds())
            ),
            "dead_letter_config": scheduler.CfnSchedule.DeadLetterConfigProperty(arn=self._dead_letters_arn),
        }
        if planned.skip_if_running:
            target = scheduler.CfnSchedule.TargetProperty(
                arn=self._guard_arn, input=self._guard_input(planned, delivery_id="<aws.scheduler.scheduled-time>"), **common
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
            description=f"Starts {planned.pipeline_name} ({planned.schedule_name}, {planned.timezone or 'UTC'})",
            schedule_expression=planned.expression,
            schedule_expression_timezone=planned.timezone,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=target,
        )
