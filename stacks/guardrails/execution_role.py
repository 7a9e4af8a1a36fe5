"""The permission boundary every role of an environment carries, and the SageMaker execution role."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from base.config import EnvironmentConfig
from stacks.guardrails.policies import job_guardrail_statements
from stacks.nag import acknowledge_wildcards

STEP_FUNCTION_INFIX = "step"
"""Lambda functions that pipelines may invoke are named ``<prefix>-step-<name>``."""

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
)


EXECUTION_ROLE_WILDCARD_REASONS = {
    "ArtifactObjects": "Objects of this environment's own artifact bucket; pipelines write per-execution keys not known in advance.",
    "EnvironmentKey": "Data-key and re-encrypt variants on this environment's own key only, used by S3 and job volume encryption.",
    "EcrLogin": "ecr:GetAuthorizationToken supports no resource-level permissions.",
    "EcrPull": "SageMaker framework images live in AWS-owned accounts that differ per region; pulls stay in this region.",
    "JobLogs": "SageMaker names one log stream per job under the /aws/sagemaker/ log groups.",
    "JobMetrics": "cloudwatch:PutMetricData supports no resource-level permissions; a condition limits it to SageMaker namespaces.",
    "InvokeEnvironmentFunctions": "Lambda steps may invoke only this environment's step functions, named <prefix>-step-*; the upsert function is not among them.",
    "PipelineJobs": "Jobs and models are named per execution under the environment prefix (<pipeline>-<step>-<suffix>).",
    "ModelRegistry": "Model package groups are named per pipeline under the environment prefix; versions are numbered inside them.",
    "ExperimentTracking": "Trials and trial components are named after pipeline execution ids, which carry no prefix; experiments do.",
    "JobNetworkInterfaces": "SageMaker creates job network interfaces before their ids exist and EC2 describe calls support no "
    "resource-level permissions; the network guardrail Deny pins the subnets and security groups.",
}


class PermissionBoundary(Construct):
    """A managed policy applied as the boundary of every role the environment's stacks create."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, network_isolation_exempt: Sequence[str]
    ) -> None:
        super().__init__(scope, construct_id)
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            managed_policy_name=f"{config.resource_prefix}-permission-boundary",
            description=f"Ceiling and job guardrails for every role of {config.resource_prefix}",
            statements=[
                iam.PolicyStatement(sid="Ceiling", actions=list(BOUNDARY_CEILING_ACTIONS), resources=["*"]),
                *job_guardrail_statements(config=config, network_isolation_exempt=network_isolation_exempt),
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


class ExecutionRole(Construct):
    """The role SageMaker Pipelines and their jobs run as: it may do only what pipelines need."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        bucket: s3.IBucket,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        prefix = config.resource_prefix

        def arn(resource: str, service: str = "sagemaker") -> str:
            return f"arn:{stack.partition}:{service}:{stack.region}:{stack.account}:{resource}"

        self.role = iam.Role(
            self,
            "Role",
            role_name=f"{prefix}-sagemaker-execution",
            description=f"SageMaker Pipelines and jobs of {prefix}",
            assumed_by=iam.ServicePrincipal(
                "sagemaker.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
        )
        named = [f"{prefix}-*"]
        statements = [
            iam.PolicyStatement(
                sid="ArtifactObjects",
                actions=["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                resources=[bucket.arn_for_objects("*")],
            ),
            iam.PolicyStatement(
                sid="ArtifactBucket", actions=["s3:ListBucket", "s3:GetBucketLocation"], resources=[bucket.bucket_arn]
            ),
            iam.PolicyStatement(
                sid="EnvironmentKey",
                actions=["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                resources=[key.key_arn],
            ),
            iam.PolicyStatement(
                sid="EnvironmentKeyGrantsForJobVolumes",
                actions=["kms:CreateGrant"],
                resources=[key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
            iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            iam.PolicyStatement(
                sid="EcrPull",
                actions=["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                resources=[f"arn:{stack.partition}:ecr:{stack.region}:*:repository/*"],
            ),
            iam.PolicyStatement(
                sid="JobLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                resources=[arn("log-group:/aws/sagemaker/*", "logs")],
            ),
            iam.PolicyStatement(
                sid="JobMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "SageMaker*"]}},
            ),
            iam.PolicyStatement(
                sid="PassOnlyItselfToSageMaker",
                actions=["iam:PassRole"],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="InvokeEnvironmentFunctions",
                actions=["lambda:InvokeFunction"],
                resources=[arn(f"function:{prefix}-{STEP_FUNCTION_INFIX}-*", "lambda")],
            ),
            iam.PolicyStatement(
                sid="PipelineJobs",
                actions=[
                    "sagemaker:AddTags",
                    "sagemaker:CreateHyperParameterTuningJob",
                    "sagemaker:CreateModel",
                    "sagemaker:CreateProcessingJob",
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:CreateTransformJob",
                    "sagemaker:DescribeHyperParameterTuningJob",
                    "sagemaker:DescribeModel",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:DescribeTransformJob",
                    "sagemaker:StopHyperParameterTuningJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:StopTrainingJob",
                    "sagemaker:StopTransformJob",
                ],
                resources=[
                    arn(f"{kind}/{name}")
                    for kind in ("training-job", "processing-job", "transform-job", "hyper-parameter-tuning-job", "model")
                    for name in named
                ],
            ),
            iam.PolicyStatement(
                sid="ModelRegistry",
                actions=[
                    "sagemaker:AddTags",
                    "sagemaker:CreateModelPackage",
                    "sagemaker:CreateModelPackageGroup",
                    "sagemaker:DescribeModelPackage",
                    "sagemaker:DescribeModelPackageGroup",
                    "sagemaker:ListModelPackages",
                    "sagemaker:UpdateModelPackage",
                ],
                resources=[arn(f"model-package/{prefix}-*/*"), arn(f"model-package/{prefix}-*"), arn(f"model-package-group/{prefix}-*")],
            ),
            iam.PolicyStatement(
                sid="ExperimentTracking",
                actions=[
                    "sagemaker:AddTags",
                    "sagemaker:AssociateTrialComponent",
                    "sagemaker:CreateExperiment",
                    "sagemaker:CreateTrial",
                    "sagemaker:CreateTrialComponent",
                    "sagemaker:DescribeExperiment",
                    "sagemaker:DescribeTrial",
                    "sagemaker:DescribeTrialComponent",
                    "sagemaker:UpdateTrialComponent",
                ],
                # Trials are named after execution ids, which carry no environment prefix.
                resources=[
                    arn(f"experiment/{prefix}-*"),
                    arn("experiment-trial/*"),
                    arn("experiment-trial-component/*"),
                ],
            ),
            iam.PolicyStatement(
                sid="JobNetworkInterfaces",
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                ],
                resources=["*"],
            ),
        ]
        self.policy = iam.Policy(self, "Policy", statements=statements, roles=[self.role])
        acknowledge_wildcards(scope=self.policy, document=self.policy.document, reasons=EXECUTION_ROLE_WILDCARD_REASONS)
