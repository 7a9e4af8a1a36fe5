"""Template-level assertions on the network and guardrails stacks of the real app."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

from support.environments import PLAN_DAY, app_context
from base.config import EnvironmentConfig, ExistingVpc
from app import add_environment
from pipeline_defs.loader import module_files
from planning.plan import plan_environment
from support.assembly import Assembly

INTERFACE_SERVICES = {"sagemaker.api", "sagemaker.runtime", "sts", "logs", "monitoring", "ecr.api", "ecr.dkr", "kms"}


@pytest.fixture(scope="module")
def sandbox_network(assembly: Assembly) -> assertions.Template:
    return assertions.Template.from_json(assembly.stack("smp-sandbox-network").template)


@pytest.fixture(scope="module")
def sandbox_guardrails(assembly: Assembly) -> assertions.Template:
    return assertions.Template.from_json(assembly.stack("smp-sandbox-guardrails").template)


def test_vpc_has_only_isolated_subnets_and_no_internet_path(sandbox_network: assertions.Template) -> None:
    sandbox_network.resource_count_is("AWS::EC2::VPC", 1)
    sandbox_network.resource_count_is("AWS::EC2::Subnet", 2)
    sandbox_network.resource_count_is("AWS::EC2::InternetGateway", 0)
    sandbox_network.resource_count_is("AWS::EC2::NatGateway", 0)
    sandbox_network.resource_count_is("AWS::EC2::EgressOnlyInternetGateway", 0)
    for subnet in sandbox_network.find_resources("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    for route in sandbox_network.find_resources("AWS::EC2::Route").values():
        assert "GatewayId" not in route["Properties"] and "NatGatewayId" not in route["Properties"]
    sandbox_network.has_resource("Custom::VpcRestrictDefaultSG", {})


def test_flow_logs_go_to_a_kms_encrypted_log_group(sandbox_network: assertions.Template) -> None:
    sandbox_network.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"})
    (flow_log,) = sandbox_network.find_resources("AWS::EC2::FlowLog").values()
    group = sandbox_network.find_resources("AWS::Logs::LogGroup")[flow_log["Properties"]["LogGroupName"]["Ref"]]
    assert "KmsKeyId" in group["Properties"]
    assert group["Properties"]["RetentionInDays"] == 365


def test_endpoints_cover_every_service_jobs_call(sandbox_network: assertions.Template) -> None:
    endpoints = sandbox_network.find_resources("AWS::EC2::VPCEndpoint")
    services = set()
    for endpoint in endpoints.values():
        name = endpoint["Properties"]["ServiceName"]
        text = name if isinstance(name, str) else "".join(p if isinstance(p, str) else "" for p in name["Fn::Join"][1])
        services.add(text.rsplit(".amazonaws.com", 1)[0].split("com.amazonaws.")[-1].lstrip("."))
        if endpoint["Properties"].get("VpcEndpointType") == "Interface":
            assert endpoint["Properties"]["PrivateDnsEnabled"] is True
    assert {s.split(".", 1)[-1] if s.count(".") else s for s in services} >= {"s3"}
    assert any(s.endswith("s3") for s in services)
    for service in INTERFACE_SERVICES:
        assert any(s.endswith(service) for s in services), (service, services)


def test_s3_gateway_endpoint_policy_names_only_the_artifact_bucket_and_ecr_layers(assembly: Assembly) -> None:
    network = assembly.stack("smp-sandbox-network")
    (gateway,) = [e for e in network.resources("AWS::EC2::VPCEndpoint").values() if e["Properties"].get("VpcEndpointType") == "Gateway"]
    policy = assembly.resolve(network, gateway["Properties"]["PolicyDocument"])
    resources = sorted(r for s in policy["Statement"] for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]))
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    bucket = f"arn:aws:s3:::smp-sandbox-artifacts-{network.account}-{network.region}"
    assert resources == sorted([bucket, bucket + "/*", f"arn:aws:s3:::prod-{network.region}-starport-layer-bucket/*"])


def test_job_security_group_talks_only_to_itself_endpoints_and_s3(assembly: Assembly) -> None:
    network = assembly.stack("smp-sandbox-network")
    job_sg = network.logical_id("AWS::EC2::SecurityGroup", "JobSecurityGroup")
    endpoint_sg = network.logical_id("AWS::EC2::SecurityGroup", "EndpointSecurityGroup")
    group = network.template["Resources"][job_sg]["Properties"]
    assert group.get("SecurityGroupIngress", []) == []
    inline_egress = group.get("SecurityGroupEgress", [])
    assert all(rule.get("CidrIp") == "255.255.255.255/32" for rule in inline_egress)  # CDK's "no egress" marker
    egress = [r["Properties"] for r in network.resources("AWS::EC2::SecurityGroupEgress").values() if r["Properties"]["GroupId"] == {"Fn::GetAtt": [job_sg, "GroupId"]}]
    targets = sorted(
        ("self" if e.get("DestinationSecurityGroupId") == {"Fn::GetAtt": [job_sg, "GroupId"]} else "endpoints" if e.get("DestinationSecurityGroupId") == {"Fn::GetAtt": [endpoint_sg, "GroupId"]} else "s3" if "DestinationPrefixListId" in e else "other", e["IpProtocol"], e.get("FromPort"))
        for e in egress
    )
    assert targets == [("endpoints", "tcp", 443), ("s3", "tcp", 443), ("self", "-1", None)]
    ingress = [r["Properties"] for r in network.resources("AWS::EC2::SecurityGroupIngress").values()]
    job_ingress = [i for i in ingress if i["GroupId"] == {"Fn::GetAtt": [job_sg, "GroupId"]}]
    endpoint_ingress = [i for i in ingress if i["GroupId"] == {"Fn::GetAtt": [endpoint_sg, "GroupId"]}]
    assert [i["SourceSecurityGroupId"] for i in job_ingress] == [{"Fn::GetAtt": [job_sg, "GroupId"]}]
    function_sg = network.logical_id("AWS::EC2::SecurityGroup", "FunctionSecurityGroup")
    assert sorted((i["SourceSecurityGroupId"]["Fn::GetAtt"][0], i["FromPort"]) for i in endpoint_ingress) == sorted([(job_sg, 443), (function_sg, 443)])


def test_artifact_bucket_is_encrypted_versioned_logged_and_private(sandbox_guardrails: assertions.Template) -> None:
    sandbox_guardrails.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"BucketKeyEnabled": True, "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": assertions.Match.any_value()}}
                ]
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "LoggingConfiguration": {"DestinationBucketName": assertions.Match.any_value(), "LogFilePrefix": "artifacts/"},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "LifecycleConfiguration": {"Rules": assertions.Match.array_with([assertions.Match.object_like({"NoncurrentVersionExpiration": {"NoncurrentDays": 90}})])},
        },
    )
    policies = sandbox_guardrails.find_resources("AWS::S3::BucketPolicy")
    assert len(policies) == 2
    for policy in policies.values():
        assert any(
            s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        )
    sandbox_guardrails.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_every_role_of_every_stack_carries_the_boundary(assembly: Assembly) -> None:
    roles = 0
    for stack in assembly.stacks.values():
        for logical_id, role in stack.resources("AWS::IAM::Role").items():
            roles += 1
            boundary = assembly.resolve(stack, role["Properties"].get("PermissionsBoundary"))
            env = stack.name.split("-")[1]
            assert boundary == f"arn:aws:iam::{stack.account}:policy/smp-{env}-permission-boundary", (stack.name, logical_id)
    assert roles >= 8


def test_removal_policy_follows_the_environment(assembly: Assembly) -> None:
    prod = assembly.stack("smp-prod-guardrails")
    sandbox = assembly.stack("smp-sandbox-guardrails")
    assert {r["DeletionPolicy"] for r in prod.resources("AWS::S3::Bucket").values()} == {"Retain"}
    assert {r["DeletionPolicy"] for r in sandbox.resources("AWS::S3::Bucket").values()} == {"Delete"}
    assert len(sandbox.resources("Custom::S3AutoDeleteObjects")) == 2
    assert prod.resources("Custom::S3AutoDeleteObjects") == {}


def test_prod_spans_three_azs_from_the_committed_context(assembly: Assembly) -> None:
    network = assembly.stack("smp-prod-network")
    zones = sorted(s["Properties"]["AvailabilityZone"] for s in network.resources("AWS::EC2::Subnet").values())
    assert zones == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


def test_existing_vpc_creates_no_network_and_pins_its_ids() -> None:
    app = cdk.App(context=app_context())
    config = EnvironmentConfig(
        name="shared",
        existing_vpc=ExistingVpc(
            vpc_id="vpc-0123456789abcdef0",
            subnet_ids=("subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"),
            security_group_ids=("sg-0bbbbbbbbbbbbbbb1",),
            availability_zones=("eu-west-1a", "eu-west-1b"),
        ),
    )
    stage = add_environment(app=app, plan=plan_environment(today=PLAN_DAY, config=config))
    network = assertions.Template.from_stack(stage.network)
    network.resource_count_is("AWS::EC2::VPC", 0)
    network.resource_count_is("AWS::EC2::VPCEndpoint", 0)
    network.resource_count_is("AWS::IAM::Policy", 0)
    # Every pipeline's own role is pinned to the given ids, verbatim.
    assert len(stage.pipelines) == len(module_files())
    for pipeline_stack in stage.pipelines.values():
        assertions.Template.from_stack(pipeline_stack).has_resource_properties(
            "AWS::IAM::Policy",
            {
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Sid": "DenyForeignSubnets",
                            "Effect": "Deny",
                            "Action": assertions.Match.any_value(),
                            "Resource": "*",
                            "Condition": {"ForAnyValue:StringNotEquals": {"sagemaker:VpcSubnets": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]}},
                        },
                        {
                            "Sid": "DenyForeignSecurityGroups",
                            "Effect": "Deny",
                            "Action": assertions.Match.any_value(),
                            "Resource": "*",
                            "Condition": {"ForAnyValue:StringNotEquals": {"sagemaker:VpcSecurityGroupIds": ["sg-0bbbbbbbbbbbbbbb1"]}},
                        },
                    ],
                    "Version": "2012-10-17",
                }
            },
        )
    assert stage.network.ids.subnet_ids == ("subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2")


def test_every_log_group_is_encrypted_with_the_environment_key_which_serves_only_its_own_log_groups(assembly: Assembly) -> None:
    for env in ("sandbox", "prod"):
        guardrails = assembly.stack(f"smp-{env}-guardrails")
        key_id = guardrails.logical_id("AWS::KMS::Key", "ArtifactStore/Key")
        key_arn = assembly.resolve(guardrails, {"Fn::GetAtt": [key_id, "Arn"]})
        groups = 0
        for name, stack in assembly.stacks.items():
            if not name.startswith(f"smp-{env}-"):
                continue
            for logical_id, group in stack.resources("AWS::Logs::LogGroup").items():
                assert assembly.resolve(stack, group["Properties"].get("KmsKeyId")) == key_arn, (name, logical_id)
                groups += 1
        assert groups >= 6
        policy = guardrails.template["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
        (logs_statement,) = [s for s in policy if s.get("Sid") == "CloudWatchLogsForTheEnvironmentsLogGroups"]
        (pattern,) = assembly.resolve(guardrails, logs_statement["Condition"]["ArnLike"]).values()
        assert pattern.endswith(f":log-group:smp-{env}-*"), pattern
