"""The permission boundary every role of an environment carries: the ceiling and the job guardrails."""

from __future__ import annotations

import fnmatch

from aws_cdk import aws_iam as iam
from constructs import Construct

from base.config import EnvironmentConfig
from stacks.guardrails.policies import job_guardrail_statements
from stacks.nag import acknowledge_wildcards

# The ceiling of what any role of the platform may ever do; identity policies grant within it.
BOUNDARY_CEILING_ACTIONS = (
    "cloudwatch:PutMetricData",
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:DescribeAlarms",
    "ec2:AssignPrivateIpAddresses",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:Describe*",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:UnassignPrivateIpAddresses",
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetAuthorizationToken",
    "ecr:GetDownloadUrlForLayer",
    "events:PutEvents",
    "iam:PassRole",
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
    "lambda:GetFunction",
    "lambda:InvokeFunction",
    "logs:*",
    "s3:*",
    "sagemaker:*",
    "sns:Publish",
    "sqs:SendMessage",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    # What the execution roles are granted for the step types beyond jobs (stacks/pipelines/step_grants.py),
    # one action a line, sorted. The SageMaker ones are inside sagemaker:* above until that wildcard
    # gives way to an explicit list.
    "elasticmapreduce:AddJobFlowSteps",
    "elasticmapreduce:CancelSteps",
    "elasticmapreduce:DescribeCluster",
    "elasticmapreduce:DescribeStep",
    "elasticmapreduce:ListSteps",
    "emr-serverless:CancelJobRun",
    "emr-serverless:GetJobRun",
    "emr-serverless:StartJobRun",
    "sagemaker:AddAssociation",
    "sagemaker:AddTags",
    "sagemaker:CreateAction",
    "sagemaker:CreateArtifact",
    "sagemaker:CreateContext",
    "sagemaker:CreateEndpoint",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateInferenceComponent",
    "sagemaker:CreateModel",
    "sagemaker:CreateModelPackage",
    "sagemaker:CreateModelPackageGroup",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateTransformJob",
    "sagemaker:DescribeAction",
    "sagemaker:DescribeArtifact",
    "sagemaker:DescribeContext",
    "sagemaker:DescribeEndpoint",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:DescribeHyperParameterTuningJob",
    "sagemaker:DescribeInferenceComponent",
    "sagemaker:DescribeModel",
    "sagemaker:DescribeModelPackage",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:DescribeProcessingJob",
    "sagemaker:DescribeTrainingJob",
    "sagemaker:DescribeTransformJob",
    "sagemaker:ListActions",
    "sagemaker:ListArtifacts",
    "sagemaker:ListAssociations",
    "sagemaker:ListContexts",
    "sagemaker:ListModelPackages",
    "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
    "sagemaker:StopHyperParameterTuningJob",
    "sagemaker:StopProcessingJob",
    "sagemaker:StopTrainingJob",
    "sagemaker:StopTransformJob",
    "sagemaker:UpdateEndpoint",
)


def ceiling_actions() -> list[str]:
    """The ceiling as written into the policy: an action another entry's wildcard covers is left out,
    since a managed policy holds at most 6,144 characters."""

    def covered(action: str) -> bool:
        return any(
            other != action and "*" in other and fnmatch.fnmatchcase(action.lower(), other.lower())
            for other in BOUNDARY_CEILING_ACTIONS
        )

    return [action for action in BOUNDARY_CEILING_ACTIONS if not covered(action)]


class PermissionBoundary(Construct):
    """A managed policy applied as the boundary of every role the environment's stacks create."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            managed_policy_name=f"{config.resource_prefix}-permission-boundary",
            description=f"Ceiling and job guardrails for every role of {config.resource_prefix}",
            statements=[
                iam.PolicyStatement(sid="Ceiling", actions=ceiling_actions(), resources=["*"]),
                *job_guardrail_statements(config=config),
            ],
        )
        acknowledge_wildcards(
            scope=self.policy,
            document=self.policy.document,
            reasons={
                "Ceiling": "A permission boundary is a ceiling, not a grant: identity policies grant within it, "
                "and its Deny statements carry the job guardrails for every role of the environment."
            },
        )
