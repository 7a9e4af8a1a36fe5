"""Where SageMaker jobs run: private isolated subnets, their security groups and VPC endpoints."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from base.config import ExistingVpc
from stacks.guardrails.perimeter import image_endpoint_statement, interface_endpoint_statement
from stacks.nag import acknowledge

INTERFACE_ENDPOINTS = {
    "SageMakerApi": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    "SageMakerRuntime": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
}
IMAGE_ENDPOINTS = frozenset({"EcrApi", "EcrDocker"})
"""Endpoints whose resources may be in AWS's accounts (SageMaker's own images): pulls only, any registry."""


@dataclass(frozen=True)
class JobNetworkIds:
    """The ids other stacks place jobs and functions with (tokens until deploy)."""

    vpc_id: str
    subnet_ids: tuple[str, ...]
    job_security_group_ids: tuple[str, ...]


class JobNetwork(Construct):
    """A VPC with no route to the internet: isolated subnets, endpoints, flow logs, locked security groups."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cidr: str,
        max_azs: int,
        key: kms.IKey,
        artifact_bucket: s3.IBucket,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=max_azs,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="jobs", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=20)
            ],
            restrict_default_security_group=True,
        )
        flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            encryption_key=key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=removal_policy,
        )
        flow_log = self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        # Only this account's flow logs may assume the delivery role (confused-deputy guard).
        flow_log.node.find_child("IAMRole").node.default_child.add_property_override(
            "AssumeRolePolicyDocument.Statement.0.Condition",
            {
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:ec2:{stack.region}:{stack.account}:vpc-flow-log/*"},
            },
        )
        subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

        self.endpoint_security_group = ec2.SecurityGroup(
            self, "EndpointSecurityGroup", vpc=self.vpc, description="VPC interface endpoints", allow_all_outbound=False
        )
        self.job_security_group = ec2.SecurityGroup(
            self, "JobSecurityGroup", vpc=self.vpc, description="SageMaker jobs", allow_all_outbound=False
        )
        self.job_security_group.add_ingress_rule(
            self.job_security_group, ec2.Port.all_traffic(), "Between instances of a multi-instance job"
        )
        self.job_security_group.add_egress_rule(
            self.job_security_group, ec2.Port.all_traffic(), "Between instances of a multi-instance job"
        )
        self.job_security_group.add_egress_rule(
            self.endpoint_security_group, ec2.Port.tcp(443), "AWS APIs through the interface endpoints"
        )
        self.endpoint_security_group.add_ingress_rule(
            self.job_security_group, ec2.Port.tcp(443), "HTTPS from SageMaker jobs"
        )
        # Platform functions that call only AWS APIs with endpoints here run in the VPC too.
        self.function_security_group = ec2.SecurityGroup(
            self, "FunctionSecurityGroup", vpc=self.vpc, description="Platform Lambda functions", allow_all_outbound=False
        )
        self.function_security_group.add_egress_rule(
            self.endpoint_security_group, ec2.Port.tcp(443), "AWS APIs through the interface endpoints"
        )
        self.endpoint_security_group.add_ingress_rule(
            self.function_security_group, ec2.Port.tcp(443), "HTTPS from platform functions"
        )

        for name, service in INTERFACE_ENDPOINTS.items():
            endpoint = self.vpc.add_interface_endpoint(
                name, service=service, subnets=subnets, security_groups=[self.endpoint_security_group], open=False, private_dns_enabled=True
            )
            endpoint.add_to_policy(
                image_endpoint_statement(stack=stack) if name in IMAGE_ENDPOINTS else interface_endpoint_statement(stack=stack)
            )
        s3_endpoint = self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[subnets])
        s3_endpoint.add_to_policy(
            iam.PolicyStatement(
                sid="ArtifactBucket",
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListBucket", "s3:GetBucketLocation"],
                resources=[artifact_bucket.bucket_arn, artifact_bucket.arn_for_objects("*")],
                conditions={"StringEquals": {"aws:PrincipalAccount": stack.account}},
            )
        )
        s3_endpoint.add_to_policy(
            iam.PolicyStatement(
                sid="EcrImageLayers",
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject"],
                resources=[f"arn:{stack.partition}:s3:::prod-{stack.region}-starport-layer-bucket/*"],
            )
        )
        # The S3 prefix list id differs per region and is not an attribute of the endpoint: read it at deploy.
        prefix_list = cr.AwsCustomResource(
            self,
            "S3PrefixList",
            on_update=cr.AwsSdkCall(
                service="EC2",
                action="describePrefixLists",
                parameters={"Filters": [{"Name": "prefix-list-name", "Values": [f"com.amazonaws.{stack.region}.s3"]}]},
                physical_resource_id=cr.PhysicalResourceId.of(f"s3-prefix-list-{stack.region}"),
                output_paths=["PrefixLists.0.PrefixListId"],
            ),
            policy=cr.AwsCustomResourcePolicy.from_sdk_calls(resources=cr.AwsCustomResourcePolicy.ANY_RESOURCE),
            install_latest_aws_sdk=False,
            log_group=logs.LogGroup(
                self, "S3PrefixListLogs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=removal_policy, encryption_key=key
            ),
        )
        acknowledge(
            scope=prefix_list,
            rule="AwsSolutions-IAM5[Resource::*]",
            reason="ec2:DescribePrefixLists supports no resource-level permissions; the call is read-only.",
        )
        acknowledge(
            scope=stack.node.find_child("AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", "")),
            rule="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            reason="CDK's AwsCustomResource function gets AWSLambdaBasicExecutionRole: logs:CreateLogGroup, CreateLogStream and "
            "PutLogEvents on every log group of the account, not only its own. Accepted: it runs only CDK's SDK-call handler, "
            "during deployments of this stack, and logs to the encrypted group given to it.",
        )
        self.job_security_group.add_egress_rule(
            ec2.Peer.prefix_list(prefix_list.get_response_field("PrefixLists.0.PrefixListId")),
            ec2.Port.tcp(443),
            "Amazon S3 through the gateway endpoint",
        )
        self.ids = JobNetworkIds(
            vpc_id=self.vpc.vpc_id,
            subnet_ids=tuple(self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids),
            job_security_group_ids=(self.job_security_group.security_group_id,),
        )


def existing_job_network_ids(*, existing: ExistingVpc) -> JobNetworkIds:
    """Ids of a VPC the platform does not own, taken verbatim from context (no lookup at synth)."""
    return JobNetworkIds(
        vpc_id=existing.vpc_id,
        subnet_ids=existing.subnet_ids,
        job_security_group_ids=existing.security_group_ids,
    )
