"""The data perimeter: who may use the environment's key, its artifact bucket and its VPC endpoints.

Each resource policy is read from the synthesized templates and asked, through the offline IAM
evaluator, about the request that must pass and the neighbouring request that must not.
"""

from __future__ import annotations

from typing import Any

import pytest

from base.naming import ENVIRONMENT_TAG
from support.assembly import Assembly, StackTemplate
from support.iam_evaluator import Request, resource_policy_sids
from support.environments import TEST_ACCOUNT

PREFIX = "smp-prod"
REGION = "eu-west-1"
FOREIGN_ACCOUNT = "999999999999"


def _role(name: str, *, account: str = TEST_ACCOUNT, environment: str | None = PREFIX) -> dict[str, Any]:
    context: dict[str, Any] = {"aws:PrincipalArn": f"arn:aws:iam::{account}:role/{name}", "aws:PrincipalAccount": account}
    if environment is not None:
        context[f"aws:PrincipalTag/{ENVIRONMENT_TAG}"] = environment
    context["aws:PrincipalIsAWSService"] = "false"
    return context


PIPELINE_ROLE = _role("smp-prod-train-evaluate-register-exec")
OTHER_ENVIRONMENTS_ROLE = _role("smp-sandbox-train-exec", environment="smp-sandbox")
UNTAGGED_ADMIN = _role("AWSReservedSSO_Admin_0123", environment=None)
FOREIGN_ROLE = _role("smp-prod-train-exec", account=FOREIGN_ACCOUNT)
DEPLOY_ROLE = _role(f"cdk-hnb659fds-cfn-exec-role-{TEST_ACCOUNT}-{REGION}", environment=None)
OTHER_REGIONS_DEPLOY_ROLE = _role(f"cdk-hnb659fds-cfn-exec-role-{TEST_ACCOUNT}-us-east-1", environment=None)


def _policy(assembly: Assembly, stack: StackTemplate, resource_type: str, fragment: str, field: str) -> dict[str, Any]:
    logical_id = stack.logical_id(resource_type, fragment)
    return assembly.resolve(stack, stack.template["Resources"][logical_id]["Properties"][field])


@pytest.fixture(scope="module")
def guardrails(assembly: Assembly) -> StackTemplate:
    return assembly.stack("smp-prod-guardrails")


@pytest.fixture(scope="module")
def key_policy(assembly: Assembly, guardrails: StackTemplate) -> dict[str, Any]:
    return _policy(assembly, guardrails, "AWS::KMS::Key", "ArtifactStore/Key", "KeyPolicy")


@pytest.fixture(scope="module")
def key_arn(assembly: Assembly, guardrails: StackTemplate) -> str:
    return assembly.resolve(guardrails, {"Fn::GetAtt": [guardrails.logical_id("AWS::KMS::Key", "ArtifactStore/Key"), "Arn"]})


@pytest.fixture(scope="module")
def bucket_policy(assembly: Assembly, guardrails: StackTemplate) -> dict[str, Any]:
    return _policy(assembly, guardrails, "AWS::S3::BucketPolicy", "ArtifactStore/Artifacts/Policy", "PolicyDocument")


BUCKET = f"arn:aws:s3:::{PREFIX}-artifacts-{TEST_ACCOUNT}-{REGION}"


def _bucket_denies(policy: dict, action: str, caller: dict, **keys: str) -> list[str]:
    resource = BUCKET if action == "s3:ListBucket" else f"{BUCKET}/smp-prod-train/model.tar.gz"
    return resource_policy_sids(policy, Request(action, resource, {**caller, **keys}), effect="Deny")


# --- artifact bucket -----------------------------------------------------------------------------


def test_writes_with_the_bucket_default_or_the_environment_key_pass(bucket_policy: dict, key_arn: str) -> None:
    assert _bucket_denies(bucket_policy, "s3:PutObject", PIPELINE_ROLE) == []
    assert _bucket_denies(
        bucket_policy,
        "s3:PutObject",
        PIPELINE_ROLE,
        **{"s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn},
    ) == []


@pytest.mark.parametrize(
    ("headers", "sid"),
    [
        ({"s3:x-amz-server-side-encryption-customer-algorithm": "AES256"}, "DenyCustomerProvidedKeys"),
        ({"s3:x-amz-server-side-encryption": "AES256"}, "DenyWritesWithoutTheEnvironmentKey"),
        ({"s3:x-amz-server-side-encryption": "aws:kms:dsse"}, "DenyWritesWithoutTheEnvironmentKey"),
        (
            {"s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": f"arn:aws:kms:{REGION}:{FOREIGN_ACCOUNT}:key/x"},
            "DenyWritesWithAnotherKey",
        ),
    ],
)
def test_writes_with_another_encryption_are_denied_even_to_the_environments_roles(bucket_policy: dict, headers: dict, sid: str) -> None:
    assert _bucket_denies(bucket_policy, "s3:PutObject", PIPELINE_ROLE, **headers) == [sid]


@pytest.mark.parametrize("action", ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "s3:PutBucketPolicy"])
@pytest.mark.parametrize("caller", [UNTAGGED_ADMIN, OTHER_ENVIRONMENTS_ROLE, OTHER_REGIONS_DEPLOY_ROLE], ids=["untagged", "other-env", "other-region-deploy"])
def test_principals_outside_the_environment_are_denied(bucket_policy: dict, action: str, caller: dict) -> None:
    assert _bucket_denies(bucket_policy, action, caller) == ["DenyPrincipalsOutsideTheEnvironment"]


@pytest.mark.parametrize("action", ["s3:GetObject", "s3:PutObject", "s3:ListBucket"])
def test_another_account_is_denied_even_with_the_environments_tag_and_a_deploy_roles_name(bucket_policy: dict, action: str) -> None:
    foreign_deploy = _role(f"cdk-hnb659fds-cfn-exec-role-{TEST_ACCOUNT}-{REGION}", account=FOREIGN_ACCOUNT, environment=PREFIX)
    assert _bucket_denies(bucket_policy, action, FOREIGN_ROLE) == ["DenyOtherAccounts"]
    assert "DenyOtherAccounts" in _bucket_denies(bucket_policy, action, foreign_deploy)


@pytest.mark.parametrize("caller", [PIPELINE_ROLE, DEPLOY_ROLE], ids=["environment-role", "deploy-role"])
def test_the_environments_roles_and_its_deployment_pass(bucket_policy: dict, caller: dict) -> None:
    for action in ("s3:GetObject", "s3:PutObject", "s3:ListBucket"):
        assert _bucket_denies(bucket_policy, action, caller) == []


def test_aws_services_acting_as_themselves_pass(bucket_policy: dict) -> None:
    service = {"aws:PrincipalServiceName": "logging.s3.amazonaws.com", "aws:PrincipalIsAWSService": "true"}
    assert _bucket_denies(bucket_policy, "s3:GetObject", service) == []


def test_the_sandboxs_object_auto_deletion_role_is_the_only_untagged_role_admitted(assembly: Assembly) -> None:
    stack = assembly.stack("smp-sandbox-guardrails")
    policy = _policy(assembly, stack, "AWS::S3::BucketPolicy", "ArtifactStore/Artifacts/Policy", "PolicyDocument")
    (deny,) = [s for s in policy["Statement"] if s.get("Sid") == "DenyPrincipalsOutsideTheEnvironment"]
    exempt = deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert len(exempt) == 2 and any("CustomS3AutoDeleteObjects" in arn for arn in exempt)
    # prod retains its bucket: no auto-deletion role, so only the deployment roles.
    prod = _policy(assembly, assembly.stack("smp-prod-guardrails"), "AWS::S3::BucketPolicy", "ArtifactStore/Artifacts/Policy", "PolicyDocument")
    (prod_deny,) = [s for s in prod["Statement"] if s.get("Sid") == "DenyPrincipalsOutsideTheEnvironment"]
    assert prod_deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [f"arn:aws:iam::{TEST_ACCOUNT}:role/cdk-*-{TEST_ACCOUNT}-{REGION}"]


# --- key -----------------------------------------------------------------------------------------


def _key_allows(policy: dict, action: str, caller: dict, **keys: str) -> list[str]:
    return resource_policy_sids(policy, Request(action, "*", {"kms:CallerAccount": caller.get("aws:PrincipalAccount", ""), **caller, **keys}), effect="Allow")


def test_no_statement_gives_anyone_every_kms_action(key_policy: dict) -> None:
    for statement in key_policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not [a for a in actions if "*" in a], statement.get("Sid")


@pytest.mark.parametrize("service", ["s3", "sagemaker", "sqs", "sns"])
def test_the_environments_roles_use_the_key_through_its_services(key_policy: dict, service: str) -> None:
    via = {"kms:ViaService": f"{service}.{REGION}.amazonaws.com"}
    assert _key_allows(key_policy, "kms:Decrypt", PIPELINE_ROLE, **via) == ["EnvironmentRolesThroughItsServices"]
    assert _key_allows(key_policy, "kms:GenerateDataKey", PIPELINE_ROLE, **via) == ["EnvironmentRolesThroughItsServices"]


@pytest.mark.parametrize(
    ("caller", "via"),
    [
        (PIPELINE_ROLE, None),  # directly, from a job's own code
        (PIPELINE_ROLE, f"lambda.{REGION}.amazonaws.com"),
        (PIPELINE_ROLE, f"s3.us-east-1.amazonaws.com"),
        (OTHER_ENVIRONMENTS_ROLE, f"s3.{REGION}.amazonaws.com"),
        (UNTAGGED_ADMIN, f"s3.{REGION}.amazonaws.com"),
        (FOREIGN_ROLE, f"s3.{REGION}.amazonaws.com"),
    ],
    ids=["direct", "other-service", "other-region", "other-env", "untagged-admin", "foreign"],
)
def test_no_one_else_and_no_other_path_decrypts(key_policy: dict, caller: dict, via: str | None) -> None:
    keys = {"kms:ViaService": via} if via else {}
    assert _key_allows(key_policy, "kms:Decrypt", caller, **keys) == []


def test_administrators_manage_the_key_but_cannot_use_it(key_policy: dict) -> None:
    assert _key_allows(key_policy, "kms:PutKeyPolicy", UNTAGGED_ADMIN) == ["KeyAdministration"]
    assert _key_allows(key_policy, "kms:ScheduleKeyDeletion", UNTAGGED_ADMIN) == ["KeyAdministration"]
    assert _key_allows(key_policy, "kms:PutKeyPolicy", FOREIGN_ROLE) == []
    for action in ("kms:Decrypt", "kms:Encrypt", "kms:ReEncryptFrom", "kms:CreateGrant", "kms:GenerateDataKey"):
        assert _key_allows(key_policy, action, UNTAGGED_ADMIN, **{"kms:ViaService": f"s3.{REGION}.amazonaws.com"}) == [], action


def test_job_volume_grants_only_through_sagemaker_for_aws_resources(key_policy: dict) -> None:
    via = {"kms:ViaService": f"sagemaker.{REGION}.amazonaws.com"}
    assert _key_allows(key_policy, "kms:CreateGrant", PIPELINE_ROLE, **via, **{"kms:GrantIsForAWSResource": "true"}) == ["EnvironmentRolesGrantJobVolumes"]
    assert _key_allows(key_policy, "kms:CreateGrant", PIPELINE_ROLE, **via, **{"kms:GrantIsForAWSResource": "false"}) == []
    assert _key_allows(key_policy, "kms:CreateGrant", PIPELINE_ROLE, **{"kms:GrantIsForAWSResource": "true"}) == []


def _service(name: str, **keys: str) -> dict:
    return {"aws:PrincipalServiceName": name, **keys}


def test_services_use_the_key_only_for_the_environments_own_sources(key_policy: dict) -> None:
    logs = f"logs.{REGION}.amazonaws.com"
    own_log_group = {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{TEST_ACCOUNT}:log-group:{PREFIX}-pipelines-upsert"}
    other_log_group = {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{TEST_ACCOUNT}:log-group:/aws/lambda/other"}
    assert _key_allows(key_policy, "kms:Encrypt", _service(logs, **own_log_group)) == ["CloudWatchLogsForTheEnvironmentsLogGroups"]
    assert _key_allows(key_policy, "kms:Encrypt", _service(logs, **other_log_group)) == []
    own_rule = {"aws:SourceAccount": TEST_ACCOUNT, "aws:SourceArn": f"arn:aws:events:{REGION}:{TEST_ACCOUNT}:rule/{PREFIX}-pipeline-execution-failed"}
    assert _key_allows(key_policy, "kms:GenerateDataKey", _service("events.amazonaws.com", **own_rule)) == ["FailureRuleDeliversToTheTopic"]
    for other in (
        {"aws:SourceAccount": TEST_ACCOUNT, "aws:SourceArn": f"arn:aws:events:{REGION}:{TEST_ACCOUNT}:rule/someone-elses"},
        {"aws:SourceAccount": FOREIGN_ACCOUNT, "aws:SourceArn": f"arn:aws:events:{REGION}:{FOREIGN_ACCOUNT}:rule/{PREFIX}-x"},
        {},
    ):
        assert _key_allows(key_policy, "kms:GenerateDataKey", _service("events.amazonaws.com", **other)) == [], other
    own_alarm = {"aws:SourceAccount": TEST_ACCOUNT, "aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{TEST_ACCOUNT}:alarm:{PREFIX}-schedule-dead-letters"}
    assert _key_allows(key_policy, "kms:Decrypt", _service("cloudwatch.amazonaws.com", **own_alarm)) == ["EnvironmentAlarmsNotifyTheTopic"]
    assert _key_allows(key_policy, "kms:Decrypt", _service("cloudwatch.amazonaws.com", **{"aws:SourceAccount": TEST_ACCOUNT})) == []


# --- VPC endpoints -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint_policies(assembly: Assembly) -> dict[str, dict]:
    stack = assembly.stack("smp-prod-network")
    return {
        logical_id: assembly.resolve(stack, resource["Properties"].get("PolicyDocument"))
        for logical_id, resource in stack.resources("AWS::EC2::VPCEndpoint").items()
        if resource["Properties"].get("VpcEndpointType") == "Interface"
    }


def _endpoint_allows(policy: dict, action: str, resource: str, caller: dict, **keys: str) -> bool:
    return bool(resource_policy_sids(policy, Request(action, resource, {**caller, **keys}), effect="Allow"))


def test_every_interface_endpoint_admits_only_this_accounts_principals_and_resources(endpoint_policies: dict) -> None:
    from stacks.network.job_network import IMAGE_ENDPOINTS, INTERFACE_ENDPOINTS

    assert len(endpoint_policies) == len(INTERFACE_ENDPOINTS)
    assert all(endpoint_policies.values()), [k for k, v in endpoint_policies.items() if not v]
    own_logs = f"arn:aws:logs:{REGION}:{TEST_ACCOUNT}:log-group:/aws/sagemaker/TrainingJobs"
    foreign_logs = f"arn:aws:logs:{REGION}:{FOREIGN_ACCOUNT}:log-group:exfil"
    for logical_id, policy in endpoint_policies.items():
        if any(logical_id.startswith(f"JobNetworkVpc{name}") for name in IMAGE_ENDPOINTS):
            continue
        assert _endpoint_allows(policy, "logs:PutLogEvents", own_logs, PIPELINE_ROLE, **{"aws:ResourceAccount": TEST_ACCOUNT}), logical_id
        assert not _endpoint_allows(policy, "logs:PutLogEvents", foreign_logs, PIPELINE_ROLE, **{"aws:ResourceAccount": FOREIGN_ACCOUNT}), logical_id
        assert not _endpoint_allows(policy, "logs:PutLogEvents", own_logs, FOREIGN_ROLE, **{"aws:ResourceAccount": TEST_ACCOUNT}), logical_id
        # Calls without a resource (PutMetricData, GetCallerIdentity) carry no resource account.
        assert _endpoint_allows(policy, "cloudwatch:PutMetricData", "*", PIPELINE_ROLE), logical_id
        assert not _endpoint_allows(policy, "cloudwatch:PutMetricData", "*", FOREIGN_ROLE), logical_id


def test_image_endpoints_pull_from_any_registry_for_this_account_only(endpoint_policies: dict) -> None:
    from stacks.network.job_network import IMAGE_ENDPOINTS

    image = {k: v for k, v in endpoint_policies.items() if any(k.startswith(f"JobNetworkVpc{name}") for name in IMAGE_ENDPOINTS)}
    assert len(image) == len(IMAGE_ENDPOINTS)
    aws_image = f"arn:aws:ecr:{REGION}:763104351884:repository/pytorch-training"
    for logical_id, policy in image.items():
        assert _endpoint_allows(policy, "ecr:BatchGetImage", aws_image, PIPELINE_ROLE), logical_id
        assert not _endpoint_allows(policy, "ecr:BatchGetImage", aws_image, FOREIGN_ROLE), logical_id
        assert not _endpoint_allows(policy, "ecr:PutImage", f"arn:aws:ecr:{REGION}:{TEST_ACCOUNT}:repository/x", PIPELINE_ROLE), logical_id
