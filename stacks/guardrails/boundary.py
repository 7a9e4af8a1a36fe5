"""The permission boundary every role of an environment carries (the ceiling), and the guardrail Denies."""

from __future__ import annotations

from typing import Mapping

import jsii
from aws_cdk import Aws, CfnResource, IAspect, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from base.config import EnvironmentConfig
from stacks.guardrails.policies import job_guardrail_statements, serving_guardrail_statements
from stacks.nag import acknowledge_wildcards

BASIC_EXECUTION_POLICY_ARN = {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}

# The ceiling of what any role of the environment may ever do, action by action: identity policies
# grant within it, so a future grant of ``sagemaker:*`` still yields only these. Each entry is granted
# to some role today (tests/stacks/test_boundary_ceiling.py); add an action here when a role needs it.
BOUNDARY_CEILING_ACTIONS = (
    # Platform functions' metrics and their network interfaces in the job VPC (stacks/functions/function_role.py),
    # and CDK's default-security-group restriction.
    "cloudwatch:PutMetricData",
    "ec2:AssignPrivateIpAddresses",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribePrefixLists",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:UnassignPrivateIpAddresses",
    # Job images.
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetAuthorizationToken",
    "ecr:GetDownloadUrlForLayer",
    # EMR and EMR Serverless steps (stacks/pipelines/step_grants.py).
    "elasticmapreduce:AddJobFlowSteps",
    "elasticmapreduce:CancelSteps",
    "elasticmapreduce:DescribeCluster",
    "elasticmapreduce:DescribeStep",
    "elasticmapreduce:ListSteps",
    "emr-serverless:CancelJobRun",
    "emr-serverless:GetJobRun",
    "emr-serverless:StartJobRun",
    "iam:PassRole",
    # The environment key (its key policy narrows further).
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "lambda:GetFunction",
    "lambda:InvokeFunction",
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
    # Artifact objects.
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:ListBucket",
    "s3:PutObject",
    # Pipelines and the jobs, models, experiments and model versions their steps create.
    "sagemaker:AddAssociation",
    "sagemaker:AddTags",
    "sagemaker:AssociateTrialComponent",
    "sagemaker:CreateAction",
    "sagemaker:CreateArtifact",
    "sagemaker:CreateContext",
    "sagemaker:CreateEndpoint",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:CreateExperiment",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateInferenceComponent",
    "sagemaker:CreateModel",
    "sagemaker:CreateModelPackage",
    "sagemaker:CreateModelPackageGroup",
    "sagemaker:CreatePipeline",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateTransformJob",
    "sagemaker:CreateTrial",
    "sagemaker:CreateTrialComponent",
    "sagemaker:DeletePipeline",
    "sagemaker:DeleteTags",
    "sagemaker:DescribeAction",
    "sagemaker:DescribeArtifact",
    "sagemaker:DescribeContext",
    "sagemaker:DescribeEndpoint",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:DescribeExperiment",
    "sagemaker:DescribeHyperParameterTuningJob",
    "sagemaker:DescribeInferenceComponent",
    "sagemaker:DescribeModel",
    "sagemaker:DescribeModelPackage",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:DescribePipeline",
    "sagemaker:DescribePipelineExecution",
    "sagemaker:DescribeProcessingJob",
    "sagemaker:DescribeTrainingJob",
    "sagemaker:DescribeTransformJob",
    "sagemaker:DescribeTrial",
    "sagemaker:DescribeTrialComponent",
    "sagemaker:ListActions",
    "sagemaker:ListArtifacts",
    "sagemaker:ListAssociations",
    "sagemaker:ListContexts",
    "sagemaker:ListModelPackages",
    "sagemaker:ListPipelineExecutions",
    "sagemaker:ListPipelines",
    "sagemaker:ListTags",
    "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
    "sagemaker:StartPipelineExecution",
    "sagemaker:StopHyperParameterTuningJob",
    "sagemaker:StopPipelineExecution",
    "sagemaker:StopProcessingJob",
    "sagemaker:StopTrainingJob",
    "sagemaker:StopTransformJob",
    "sagemaker:UpdateEndpoint",
    "sagemaker:UpdatePipeline",
    "sagemaker:UpdateTrialComponent",
    # Dead letters.
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:SendMessage",
)


class PermissionBoundary(Construct):
    """The ceiling of every role the environment's stacks create, and the guardrail Denies beside it.

    The Denies are managed policies of their own (``guardrails``, by name), attached to every role: a
    Deny holds wherever it sits, and a permission boundary (one policy of at most 6,144 characters)
    then has room for a ceiling listed action by action.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            managed_policy_name=f"{config.resource_prefix}-permission-boundary",
            description=f"Ceiling for every role of {config.resource_prefix}",
            statements=[iam.PolicyStatement(sid="Ceiling", actions=list(BOUNDARY_CEILING_ACTIONS), resources=["*"])],
        )
        acknowledge_wildcards(
            scope=self.policy,
            document=self.policy.document,
            reasons={
                "Ceiling": "A permission boundary is a ceiling, not a grant: identity policies grant within it, "
                "and it lists only actions some role of the environment is granted."
            },
        )
        # Two policies, each within the 6,144 characters of a managed policy: the job Denies, and the
        # Denies for what deployment and EMR Serverless steps create.
        self.guardrails = {
            f"{config.resource_prefix}-{suffix}": iam.ManagedPolicy(
                self,
                construct,
                managed_policy_name=f"{config.resource_prefix}-{suffix}",
                description=f"{what} (Deny only) attached to every role of {config.resource_prefix}",
                statements=statements,
            )
            for construct, suffix, what, statements in (
                ("JobGuardrails", "job-guardrails", "Job guardrails", job_guardrail_statements(config=config)),
                ("ServingGuardrails", "serving-guardrails", "Endpoint and EMR Serverless guardrails", serving_guardrail_statements(config=config)),
            )
        }


@jsii.implements(IAspect)
class AttachGuardrails:
    """Attaches the guardrail policies to every role of a stage, CDK's own provider roles included.

    By ARN (the names are fixed), so no stack exports them; every stack of the stage deploys after the
    guardrails stack, which holds the policies.
    """

    def __init__(self, *, policies: Mapping[str, iam.ManagedPolicy]) -> None:
        """``policies`` by their fixed names."""
        self._policies = dict(policies)

    def _arns_for(self, node: IConstruct) -> dict[str, str]:
        """Each policy's own reference in its stack (so roles there wait for it), its ARN elsewhere, by construct id."""
        return {
            policy.node.id: (
                policy.managed_policy_arn
                if Stack.of(node) is Stack.of(policy)
                else f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:policy/{name}"
            )
            for name, policy in self._policies.items()
        }

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, iam.Role):
            for construct, arn in self._arns_for(node).items():
                node.add_managed_policy(iam.ManagedPolicy.from_managed_policy_arn(node, construct, arn))
        elif isinstance(node, CfnResource) and node.cfn_resource_type == "AWS::IAM::Role" and not isinstance(node, iam.CfnRole):
            # CDK's CustomResourceProvider roles: their only managed policy is the basic execution role.
            node.add_property_override("ManagedPolicyArns", [BASIC_EXECUTION_POLICY_ARN, *self._arns_for(node).values()])
