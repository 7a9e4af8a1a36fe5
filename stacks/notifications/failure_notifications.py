"""Failure notifications: pipeline executions of this environment that fail or stop, to an encrypted topic."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Stack
import jsii
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

EXECUTION_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"
NOTIFIED_STATUSES = ("Failed", "Stopped")


@jsii.implements(events.IRuleTarget)
class _TopicTarget:
    """The topic as a rule target, without CDK's unconditioned publish grant (the topic grants per source)."""

    def __init__(self, *, topic: sns.ITopic, message: events.RuleTargetInput) -> None:
        self._topic = topic
        self._message = message

    def bind(self, _rule: events.IRule, _id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._topic.topic_arn, input=self._message)


class FailureNotifications(Construct):
    """A topic (environment key, TLS only) with the context's email subscribers, and the rule that feeds it."""

    def __init__(
        self, scope: Construct, construct_id: str, *, resource_prefix: str, key: kms.IKey, emails: Sequence[str]
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=f"{resource_prefix}-pipeline-alerts",
            display_name=f"{resource_prefix} pipeline alerts",
            master_key=key,
            enforce_ssl=True,
        )
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self.rule = events.Rule(
            self,
            "ExecutionFailed",
            rule_name=f"{resource_prefix}-pipeline-execution-failed",
            description=f"Failed or stopped executions of {resource_prefix}-* pipelines",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[EXECUTION_STATUS_CHANGE],
                detail={
                    "currentPipelineExecutionStatus": list(NOTIFIED_STATUSES),
                    "pipelineArn": [{"prefix": f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}:pipeline/{resource_prefix}-"}],
                },
            ),
        )
        self.rule.add_target(
            _TopicTarget(
                topic=self.topic,
                message=events.RuleTargetInput.from_text(
                    f"Pipeline execution {events.EventField.from_path('$.detail.pipelineExecutionArn')} "
                    f"is {events.EventField.from_path('$.detail.currentPipelineExecutionStatus')} "
                    f"(was {events.EventField.from_path('$.detail.previousPipelineExecutionStatus')})."
                ),
            )
        )
        # Each publisher only for its own source: this rule, and this environment's alarms.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="FailureRulePublishes",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"ArnEquals": {"aws:SourceArn": self.rule.rule_arn}},
            )
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EnvironmentAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:{resource_prefix}-*"},
                    "StringEquals": {"aws:SourceAccount": stack.account},
                },
            )
        )
