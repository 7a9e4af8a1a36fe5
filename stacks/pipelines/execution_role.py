"""One pipeline's own execution role: its own S3 prefix, its own Lambda steps, passing only itself.

Least privilege per pipeline: another pipeline's role cannot read, write or delete under this
pipeline's prefix, no role may invoke a Lambda step its definition does not use, and no role may
start a job, deploy or touch lineage unless its definition has a step of that type (``step_grants``).
"""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Stack, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from base.images import EcrRepository
from pipeline_defs.contract import NETWORK_ISOLATION_EXEMPTION_TAG
from stacks.guardrails.policies import EXEMPT_ROLE_TAG_VALUE, network_guardrail_statements
from stacks.nag import acknowledge_wildcards
from stacks.pipelines.step_grants import EMR_SERVERLESS_PRINCIPAL, STEP_GRANT_WILDCARD_REASONS, step_grant_statements

EXECUTION_ROLE_WILDCARD_REASONS = {
    "OwnPrefixObjects": "Objects under this pipeline's own prefix of the environment's artifact bucket; executions write keys not known in advance.",
    "DeclaredReads": "Objects under the prefixes the pipeline's module declares in DATA_ACCESS.read, checked at synth against every other pipeline's code.",
    "DeclaredWrites": "Objects under the prefixes the pipeline's module declares in DATA_ACCESS.write, checked at synth to lie outside every other pipeline's prefix.",
    "EnvironmentKey": "Data-key and re-encrypt variants on this environment's own key only, used by S3 and job volume encryption.",
    "EcrLogin": "ecr:GetAuthorizationToken supports no resource-level permissions.",
    "JobLogs": "SageMaker names one log stream per job under the /aws/sagemaker/ log groups.",
    "JobMetrics": "cloudwatch:PutMetricData supports no resource-level permissions; a condition limits it to SageMaker namespaces.",
    **STEP_GRANT_WILDCARD_REASONS,
    "ExperimentTracking": "Experiments, trials and trial components named with the environment prefix (experiment and trial names checked at synth).",
    "JobTrialComponents": "A job's trial component is named after the job, and a tuning job's training jobs are named by SageMaker; "
    "association also needs one of this environment's trials.",
    "JobNetworkInterfaces": "A job's network interfaces have no id before SageMaker creates them; the subnets and security groups are the environment's.",
    "JobNetworkInterfaceUse": "Interfaces have no id before SageMaker creates them; ec2:Subnet limits these to interfaces in the environment's subnets.",
    "JobNetworkLookups": "EC2 describe calls support no resource-level permissions.",
}


def code_patterns(*, code_prefixes: Sequence[str]) -> list[str]:
    """Object-key patterns covering ``code_prefixes``, one per build: ``<pipeline>/*/<build>/*`` where
    several directories share a build (every step of a ``@step`` pipeline), so the policy stays small."""
    by_build: dict[tuple[str, str], list[str]] = {}
    patterns = []
    for prefix in code_prefixes:
        parts = prefix.split("/")
        if len(parts) == 4 and parts[3] == "":
            by_build.setdefault((parts[0], parts[2]), []).append(prefix)
        else:
            patterns.append(prefix)
    for (pipeline, build), prefixes in by_build.items():
        patterns.extend([f"{pipeline}/*/{build}/"] if len(prefixes) > 1 else prefixes)
    return sorted(p + "*" if p.endswith("/") else p for p in patterns)


class PipelineExecutionRole(Construct):
    """The role one SageMaker pipeline and its jobs run as."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role_name: str,
        pipeline_name: str,
        resource_prefix: str,
        bucket: s3.IBucket,
        key: kms.IKey,
        lambda_function_arns: Sequence[str],
        subnet_ids: Sequence[str],
        security_group_ids: Sequence[str],
        network_isolation_exempt: bool,
        code_prefixes: Sequence[str],
        image_repositories: Sequence[EcrRepository],
        step_types: Sequence[str],
        emr_clusters: Sequence[str] = (),
        emr_serverless_applications: Sequence[str] = (),
        read_prefixes: Sequence[str] = (),
        write_prefixes: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        def arn(resource: str, service: str = "sagemaker") -> str:
            return f"arn:{stack.partition}:{service}:{stack.region}:{stack.account}:{resource}"

        subnet_arns = [arn(f"subnet/{subnet}", "ec2") for subnet in subnet_ids]
        same_account = {"StringEquals": {"aws:SourceAccount": stack.account}}
        principals = [iam.ServicePrincipal("sagemaker.amazonaws.com", conditions=same_account)]
        if "EMRServerless" in step_types:
            # Its EMR Serverless job runs run as this role too (the definition names it as their runtime role).
            principals.append(iam.ServicePrincipal(EMR_SERVERLESS_PRINCIPAL, conditions=same_account))
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            description=f"SageMaker pipeline {pipeline_name} and its jobs",
            assumed_by=iam.CompositePrincipal(*principals) if len(principals) > 1 else principals[0],
        )
        if network_isolation_exempt:
            # Read by the job guardrails' isolation Deny; no role of the environment may tag roles.
            Tags.of(self.role).add(NETWORK_ISOLATION_EXEMPTION_TAG, EXEMPT_ROLE_TAG_VALUE)
        statements = [
            iam.PolicyStatement(
                sid="OwnPrefixObjects",
                actions=["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                resources=[bucket.arn_for_objects(f"{pipeline_name}/*")],
            ),
            iam.PolicyStatement(
                sid="OwnPrefixListing",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={
                    "StringLike": {
                        "s3:prefix": [pipeline_name, f"{pipeline_name}/*", *(f"{p}*" for p in (*read_prefixes, *write_prefixes))]
                    }
                },
            ),
            iam.PolicyStatement(sid="ArtifactBucketLocation", actions=["s3:GetBucketLocation"], resources=[bucket.bucket_arn]),
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
            # Only the repositories its definition's images live in: an image of another repository or account does not pull.
            *(
                [
                    iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
                    iam.PolicyStatement(
                        sid="EcrPull",
                        actions=["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                        resources=[repository.arn(partition=stack.partition) for repository in image_repositories],
                    ),
                ]
                if image_repositories
                else []
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
            # Experiments are named after the pipeline and trials <prefix>-<execution id> (checked at
            # synth), so neither reaches another environment's.
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
                resources=[
                    arn(f"experiment/{resource_prefix}-*"),
                    arn(f"experiment-trial/{resource_prefix}-*"),
                    arn(f"experiment-trial-component/{resource_prefix}-*"),
                ],
            ),
            # A job's trial component is named after the job, and SageMaker names a tuning job's
            # training jobs itself: any component may be read and joined to this environment's trials.
            iam.PolicyStatement(
                sid="JobTrialComponents",
                actions=["sagemaker:AssociateTrialComponent", "sagemaker:DescribeTrialComponent"],
                resources=[arn("experiment-trial-component/*")],
            ),
            # SageMaker creates a job's interfaces with this role: only in the environment's subnets,
            # with its security groups, and only those interfaces may be shared or deleted.
            iam.PolicyStatement(
                sid="JobNetworkInterfaces",
                actions=["ec2:CreateNetworkInterface"],
                resources=[
                    arn("network-interface/*", "ec2"),
                    *subnet_arns,
                    *(arn(f"security-group/{group}", "ec2") for group in security_group_ids),
                ],
            ),
            iam.PolicyStatement(
                sid="JobNetworkInterfaceUse",
                actions=[
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                ],
                resources=[arn("network-interface/*", "ec2")],
                conditions={"ArnEquals": {"ec2:Subnet": subnet_arns}},
            ),
            iam.PolicyStatement(
                sid="JobNetworkLookups",
                actions=[
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                ],
                resources=["*"],
            ),
        ]
        statements += step_grant_statements(
            step_types=step_types,
            arn=arn,
            resource_prefix=resource_prefix,
            role_arn=self.role.role_arn,
            pipeline_name=pipeline_name,
            emr_clusters=emr_clusters,
            emr_serverless_applications=emr_serverless_applications,
        )
        if read_prefixes:
            statements.append(
                iam.PolicyStatement(
                    sid="DeclaredReads",
                    actions=["s3:GetObject", "s3:GetObjectVersion"],
                    resources=[bucket.arn_for_objects(f"{p}*") for p in read_prefixes],
                )
            )
        if write_prefixes:
            statements.append(
                iam.PolicyStatement(
                    sid="DeclaredWrites",
                    actions=["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                    resources=[bucket.arn_for_objects(f"{p}*") for p in write_prefixes],
                )
            )
        if lambda_function_arns:
            statements.append(
                iam.PolicyStatement(
                    sid="InvokeOwnLambdaSteps", actions=["lambda:InvokeFunction"], resources=list(lambda_function_arns)
                )
            )
        self.policy = iam.Policy(self, "Policy", statements=statements, roles=[self.role])
        acknowledge_wildcards(scope=self.policy, document=self.policy.document, reasons=EXECUTION_ROLE_WILDCARD_REASONS)
        if code_prefixes:
            # The deployment writes these; a job of this pipeline must not change what later executions run.
            self.policy.add_statements(
                iam.PolicyStatement(
                    sid="ProtectOwnCode",
                    effect=iam.Effect.DENY,
                    actions=["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
                    resources=[bucket.arn_for_objects(pattern) for pattern in code_patterns(code_prefixes=code_prefixes)],
                )
            )
        self.network_guardrail = iam.Policy(
            self,
            "JobNetworkGuardrail",
            roles=[self.role],
            statements=network_guardrail_statements(subnet_ids=subnet_ids, security_group_ids=security_group_ids),
        )
