"""The data perimeter's resource policies, built in a bare stack and decided by the offline IAM evaluator:
for each caller (the environment's role, another environment's, an untagged administrator, a foreign
account, the deployment role, an AWS service) and each request exactly which statements name it and
apply, with every condition key absent or wrong in turn."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from base.naming import ENVIRONMENT_TAG
from stacks.guardrails.perimeter import (
    bucket_perimeter_statements,
    image_endpoint_statement,
    interface_endpoint_statement,
    key_policy_statements,
)
from support.iam_evaluator import Request, resource_policy_sids
from support.statements import ACCOUNT, REGION, arn, concrete

PREFIX = "smp-prod"
FOREIGN = "999999999999"
BUCKET = "arn:aws:s3:::smp-prod-artifacts"
KEY = arn("key/k", "kms")
MAINTENANCE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/smp-prod-guardrails-AutoDeleteObjects"


def _role(name: str, *, account: str = ACCOUNT, environment: str | None = PREFIX) -> dict[str, Any]:
    context: dict[str, Any] = {"aws:PrincipalArn": f"arn:aws:iam::{account}:role/{name}", "aws:PrincipalAccount": account, "aws:PrincipalIsAWSService": "false"}
    if environment is not None:
        context[f"aws:PrincipalTag/{ENVIRONMENT_TAG}"] = environment
    return context


PIPELINE_ROLE = _role("smp-prod-train-exec")
OTHER_ENVIRONMENTS_ROLE = _role("smp-sandbox-train-exec", environment="smp-sandbox")
UNTAGGED_ADMIN = _role("AWSReservedSSO_Admin_0123", environment=None)
FOREIGN_ROLE = _role("smp-prod-train-exec", account=FOREIGN)
DEPLOY_ROLE = _role(f"cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-{REGION}", environment=None)
OTHER_REGIONS_DEPLOY_ROLE = _role(f"cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-us-east-1", environment=None)
FOREIGN_DEPLOY_ROLE = _role(f"cdk-hnb659fds-cfn-exec-role-{FOREIGN}-{REGION}", account=FOREIGN, environment=None)
MAINTENANCE = {**_role("smp-prod-guardrails-AutoDeleteObjects", environment=None), "aws:PrincipalArn": MAINTENANCE_ROLE}
SERVICE = {"aws:PrincipalIsAWSService": "true"}


def _document(*statements: Any) -> dict:
    stack = cdk.Stack(cdk.App(), "Perimeter")
    return {"Statement": [concrete(stack.resolve(statement.to_statement_json())) for statement in statements]}


def _key_policy() -> dict:
    """Built inside each test (cheap), so the build counts in the test's own time and every test exercises
    the builders it checks."""
    stack = cdk.Stack(cdk.App(), "Perimeter")
    return {"Statement": [concrete(stack.resolve(s.to_statement_json())) for s in key_policy_statements(stack=stack, resource_prefix=PREFIX)]}


def _bucket_policy() -> dict:
    stack = cdk.Stack(cdk.App(), "Perimeter")
    statements = bucket_perimeter_statements(stack=stack, bucket_arn=BUCKET, key_arn=KEY, resource_prefix=PREFIX, maintenance_role_arns=[MAINTENANCE_ROLE])
    return {"Statement": [concrete(stack.resolve(s.to_statement_json())) for s in statements]}


def _sids(policy: dict, action: str, resource: str, context: dict, *, effect: str = "Allow") -> list[str]:
    return resource_policy_sids(policy, Request(action=action, resource=resource, context=context), effect=effect)


ADMINISTRATION = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]
USAGE = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"]


@pytest.mark.parametrize("action", ADMINISTRATION)
def test_the_accounts_principals_administer_the_key(action: str) -> None:
    key_policy = _key_policy()
    assert _sids(key_policy, action, KEY, UNTAGGED_ADMIN) == ["KeyAdministration"]
    assert _sids(key_policy, action, KEY, FOREIGN_ROLE) == []


def test_describing_the_key_is_administration_and_the_environments_own() -> None:
    key_policy = _key_policy()
    assert _sids(key_policy, "kms:DescribeKey", KEY, UNTAGGED_ADMIN) == ["KeyAdministration"]
    assert _sids(key_policy, "kms:DescribeKey", KEY, PIPELINE_ROLE) == ["KeyAdministration", "EnvironmentRolesDescribeTheKey"]
    assert _sids(key_policy, "kms:DescribeKey", KEY, OTHER_ENVIRONMENTS_ROLE) == ["KeyAdministration"]
    assert _sids(key_policy, "kms:DescribeKey", KEY, FOREIGN_ROLE) == []


def _via(service: str, *, region: str = REGION, caller: str = ACCOUNT) -> dict:
    return {"kms:ViaService": f"{service}.{region}.amazonaws.com", "kms:CallerAccount": caller}


@pytest.mark.parametrize("action", USAGE)
def test_only_the_environments_roles_use_the_key_and_only_through_its_services(action: str) -> None:
    key_policy = _key_policy()
    for service in ("s3", "sagemaker", "sns", "sqs"):
        assert _sids(key_policy, action, KEY, {**PIPELINE_ROLE, **_via(service)}) == ["EnvironmentRolesThroughItsServices"]
    assert _sids(key_policy, action, KEY, {**PIPELINE_ROLE, **_via("lambda")}) == []
    assert _sids(key_policy, action, KEY, {**PIPELINE_ROLE, **_via("s3", region="us-east-1")}) == []
    assert _sids(key_policy, action, KEY, {**PIPELINE_ROLE, **_via("s3", caller=FOREIGN)}) == []
    assert _sids(key_policy, action, KEY, {**PIPELINE_ROLE, "kms:CallerAccount": ACCOUNT}) == []
    assert _sids(key_policy, action, KEY, {**PIPELINE_ROLE, "kms:ViaService": f"s3.{REGION}.amazonaws.com"}) == []
    assert _sids(key_policy, action, KEY, PIPELINE_ROLE) == []
    # Administrators, other environments and other accounts never use it.
    for caller in (UNTAGGED_ADMIN, OTHER_ENVIRONMENTS_ROLE, DEPLOY_ROLE, FOREIGN_ROLE):
        assert _sids(key_policy, action, KEY, {**caller, **_via("s3")}) == []


@pytest.mark.parametrize("action", ["kms:GenerateDataKeyPair", "kms:Sign", "kms:CreateGrant", "kms:RetireGrant"])
def test_no_other_key_use_for_the_environments_roles(action: str) -> None:
    key_policy = _key_policy()
    assert _sids(key_policy, action, KEY, {**PIPELINE_ROLE, **_via("s3")}) == []


@pytest.mark.parametrize(
    ("caller", "context", "sids"),
    [
        (PIPELINE_ROLE, {**_via("sagemaker"), "kms:GrantIsForAWSResource": "true"}, ["EnvironmentRolesGrantJobVolumes"]),
        (PIPELINE_ROLE, {**_via("sagemaker"), "kms:GrantIsForAWSResource": "false"}, []),
        (PIPELINE_ROLE, _via("sagemaker"), []),
        (PIPELINE_ROLE, {**_via("s3"), "kms:GrantIsForAWSResource": "true"}, []),
        (PIPELINE_ROLE, {**_via("sagemaker", region="us-east-1"), "kms:GrantIsForAWSResource": "true"}, []),
        (PIPELINE_ROLE, {"kms:GrantIsForAWSResource": "true"}, []),
        (OTHER_ENVIRONMENTS_ROLE, {**_via("sagemaker"), "kms:GrantIsForAWSResource": "true"}, []),
        (UNTAGGED_ADMIN, {**_via("sagemaker"), "kms:GrantIsForAWSResource": "true"}, []),
        (FOREIGN_ROLE, {**_via("sagemaker"), "kms:GrantIsForAWSResource": "true"}, []),
    ],
)
def test_key_grants_only_for_the_environments_job_volumes(caller: dict, context: dict, sids: list[str]) -> None:
    key_policy = _key_policy()
    assert _sids(key_policy, "kms:CreateGrant", KEY, {**caller, **context}) == sids


def _service(name: str, **context: str) -> dict:
    return {"aws:PrincipalServiceName": name, **context}


LOG_GROUP_CONTEXT = "kms:EncryptionContext:aws:logs:arn"


@pytest.mark.parametrize("action", ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo"])
def test_cloudwatch_logs_uses_the_key_for_the_environments_log_groups_only(action: str) -> None:
    key_policy = _key_policy()
    logs = f"logs.{REGION}.amazonaws.com"
    own = arn("log-group:smp-prod-fan-out", "logs")
    assert _sids(key_policy, action, KEY, _service(logs, **{LOG_GROUP_CONTEXT: own})) == ["CloudWatchLogsForTheEnvironmentsLogGroups"]
    for other in (arn("log-group:smp-sandbox-fan-out", "logs"), arn("log-group:smp-prod-x", "logs", account=FOREIGN), arn("log-group:smp-prod-x", "logs", region="us-east-1")):
        assert _sids(key_policy, action, KEY, _service(logs, **{LOG_GROUP_CONTEXT: other})) == []
    assert _sids(key_policy, action, KEY, _service(logs)) == []
    assert _sids(key_policy, action, KEY, _service("logs.us-east-1.amazonaws.com", **{LOG_GROUP_CONTEXT: own})) == []


def test_cloudwatch_logs_does_nothing_else_with_the_key() -> None:
    key_policy = _key_policy()
    context = _service(f"logs.{REGION}.amazonaws.com", **{LOG_GROUP_CONTEXT: arn("log-group:smp-prod-fan-out", "logs")})
    for action in ("kms:CreateGrant", "kms:GenerateDataKeyWithoutPlaintext", "kms:ScheduleKeyDeletion"):
        assert _sids(key_policy, action, KEY, context) == []


@pytest.mark.parametrize(
    ("service", "sid", "source"),
    [
        ("events.amazonaws.com", "FailureRuleDeliversToTheTopic", "rule/{prefix}-pipeline-failures"),
        ("cloudwatch.amazonaws.com", "EnvironmentAlarmsNotifyTheTopic", "alarm:{prefix}-dead-letters"),
    ],
)
def test_events_and_alarms_encrypt_for_the_environments_own_sources_only(service: str, sid: str, source: str) -> None:
    key_policy = _key_policy()
    kind = service.split(".")[0]
    own = arn(source.format(prefix=PREFIX), kind)
    for action in ("kms:Decrypt", "kms:GenerateDataKey"):
        assert _sids(key_policy, action, KEY, _service(service, **{"aws:SourceAccount": ACCOUNT, "aws:SourceArn": own})) == [sid]
        assert _sids(key_policy, action, KEY, _service(service, **{"aws:SourceAccount": FOREIGN, "aws:SourceArn": own})) == []
        assert _sids(key_policy, action, KEY, _service(service, **{"aws:SourceArn": own})) == []
        assert _sids(key_policy, action, KEY, _service(service, **{"aws:SourceAccount": ACCOUNT})) == []
        for other in (arn(source.format(prefix="smp-sandbox"), kind), arn(source.format(prefix=PREFIX), kind, account=FOREIGN), arn(source.format(prefix=PREFIX), kind, region="us-east-1")):
            assert _sids(key_policy, action, KEY, _service(service, **{"aws:SourceAccount": ACCOUNT, "aws:SourceArn": other})) == []
    for action in ("kms:Encrypt", "kms:CreateGrant", "kms:ReEncryptFrom"):
        assert _sids(key_policy, action, KEY, _service(service, **{"aws:SourceAccount": ACCOUNT, "aws:SourceArn": own})) == []
    # Neither service acts for the other's sources.
    other_service = "cloudwatch.amazonaws.com" if kind == "events" else "events.amazonaws.com"
    assert _sids(key_policy, "kms:Decrypt", KEY, _service(other_service, **{"aws:SourceAccount": ACCOUNT, "aws:SourceArn": own})) == []


def test_every_key_statement_is_an_allow_on_the_key_itself() -> None:
    key_policy = _key_policy()
    assert [(s["Sid"], s["Effect"], s["Resource"]) for s in key_policy["Statement"]] == [
        (sid, "Allow", "*")
        for sid in (
            "KeyAdministration",
            "EnvironmentRolesThroughItsServices",
            "EnvironmentRolesDescribeTheKey",
            "EnvironmentRolesGrantJobVolumes",
            "CloudWatchLogsForTheEnvironmentsLogGroups",
            "FailureRuleDeliversToTheTopic",
            "EnvironmentAlarmsNotifyTheTopic",
        )
    ]


OBJECT = f"{BUCKET}/smp-prod-train/run-1/x"


@pytest.mark.parametrize(
    ("headers", "denied"),
    [
        ({}, []),
        ({"s3:x-amz-server-side-encryption": "aws:kms"}, []),
        ({"s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": KEY}, []),
        ({"s3:x-amz-server-side-encryption": "AES256"}, ["DenyWritesWithoutTheEnvironmentKey"]),
        ({"s3:x-amz-server-side-encryption": "aws:kms:dsse"}, ["DenyWritesWithoutTheEnvironmentKey"]),
        ({"s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": arn("key/other", "kms")}, ["DenyWritesWithAnotherKey"]),
        ({"s3:x-amz-server-side-encryption-aws-kms-key-id": arn("key/other", "kms")}, ["DenyWritesWithAnotherKey"]),
        ({"s3:x-amz-server-side-encryption-customer-algorithm": "AES256"}, ["DenyCustomerProvidedKeys"]),
    ],
)
def test_writes_use_the_environment_key_or_the_buckets_default(headers: dict, denied: list[str]) -> None:
    bucket_policy = _bucket_policy()
    assert _sids(bucket_policy, "s3:PutObject", OBJECT, {**PIPELINE_ROLE, **headers}, effect="Deny") == denied
    assert _sids(bucket_policy, "s3:PutObject", OBJECT, {**DEPLOY_ROLE, **headers}, effect="Deny") == denied
    # Only writes carry the headers: a read given them is not refused for them.
    assert _sids(bucket_policy, "s3:GetObject", OBJECT, {**PIPELINE_ROLE, **headers}, effect="Deny") == []
    assert _sids(bucket_policy, "s3:PutObject", "arn:aws:s3:::another-bucket/x", {**PIPELINE_ROLE, **headers}, effect="Deny") == []


@pytest.mark.parametrize(
    ("caller", "denied"),
    [
        (PIPELINE_ROLE, []),
        (DEPLOY_ROLE, []),
        (MAINTENANCE, []),
        (SERVICE, []),
        ({**SERVICE, "aws:PrincipalAccount": FOREIGN}, []),
        (OTHER_ENVIRONMENTS_ROLE, ["DenyPrincipalsOutsideTheEnvironment"]),
        (UNTAGGED_ADMIN, ["DenyPrincipalsOutsideTheEnvironment"]),
        (OTHER_REGIONS_DEPLOY_ROLE, ["DenyPrincipalsOutsideTheEnvironment"]),
        ({**_role("smp-prod-other-AutoDeleteObjects", environment=None)}, ["DenyPrincipalsOutsideTheEnvironment"]),
        ({**PIPELINE_ROLE, "aws:PrincipalTag/" + ENVIRONMENT_TAG: "smp-prod-x"}, ["DenyPrincipalsOutsideTheEnvironment"]),
        (FOREIGN_ROLE, ["DenyOtherAccounts"]),
        (FOREIGN_DEPLOY_ROLE, ["DenyOtherAccounts", "DenyPrincipalsOutsideTheEnvironment"]),
        ({**_role("x", account=FOREIGN, environment=None)}, ["DenyOtherAccounts", "DenyPrincipalsOutsideTheEnvironment"]),
    ],
)
def test_only_the_environment_the_deployment_and_aws_services_reach_the_bucket(caller: dict, denied: list[str]) -> None:
    bucket_policy = _bucket_policy()
    for action in ("s3:GetObject", "s3:ListBucket", "s3:DeleteObject", "s3:PutBucketPolicy"):
        for resource in (BUCKET, OBJECT):
            assert _sids(bucket_policy, action, resource, caller, effect="Deny") == denied
    assert _sids(bucket_policy, "s3:GetObject", "arn:aws:s3:::another-bucket/x", caller, effect="Deny") == []
    assert _sids(bucket_policy, "s3:GetObject", "arn:aws:s3:::smp-prod-artifacts-2/x", caller, effect="Deny") == []


def test_a_service_acting_without_saying_so_is_judged_as_a_principal() -> None:
    """``aws:PrincipalIsAWSService`` absent: IfExists lets the Denies hold on account and tag."""
    bucket_policy = _bucket_policy()
    caller = {"aws:PrincipalArn": f"arn:aws:iam::{FOREIGN}:role/x", "aws:PrincipalAccount": FOREIGN}
    assert _sids(bucket_policy, "s3:GetObject", OBJECT, caller, effect="Deny") == ["DenyOtherAccounts", "DenyPrincipalsOutsideTheEnvironment"]


def test_every_bucket_statement_is_a_deny_for_everyone() -> None:
    bucket_policy = _bucket_policy()
    objects_only = ("DenyCustomerProvidedKeys", "DenyWritesWithoutTheEnvironmentKey", "DenyWritesWithAnotherKey")
    assert [(s["Sid"], s["Effect"], s["Principal"], s["Resource"]) for s in bucket_policy["Statement"]] == [
        (sid, "Deny", {"AWS": "*"}, f"{BUCKET}/*" if sid in objects_only else [BUCKET, f"{BUCKET}/*"])
        for sid in (*objects_only, "DenyOtherAccounts", "DenyPrincipalsOutsideTheEnvironment")
    ]


def test_without_maintenance_roles_only_the_deployment_roles_are_let_through() -> None:
    stack = cdk.Stack(cdk.App(), "Perimeter")
    statements = bucket_perimeter_statements(stack=stack, bucket_arn=BUCKET, key_arn=KEY, resource_prefix=PREFIX)
    policy = {"Statement": [concrete(stack.resolve(s.to_statement_json())) for s in statements]}
    assert _sids(policy, "s3:DeleteObject", OBJECT, MAINTENANCE, effect="Deny") == ["DenyPrincipalsOutsideTheEnvironment"]
    assert _sids(policy, "s3:DeleteObject", OBJECT, DEPLOY_ROLE, effect="Deny") == []


@pytest.mark.parametrize(
    ("caller", "resource_account", "sids"),
    [
        (PIPELINE_ROLE, ACCOUNT, ["OwnAccountOnly"]),
        (PIPELINE_ROLE, None, ["OwnAccountOnly"]),
        (UNTAGGED_ADMIN, ACCOUNT, ["OwnAccountOnly"]),
        (PIPELINE_ROLE, FOREIGN, []),
        (FOREIGN_ROLE, ACCOUNT, []),
        (FOREIGN_ROLE, None, []),
    ],
)
def test_interface_endpoints_carry_this_accounts_principals_to_this_accounts_resources(caller: dict, resource_account: str | None, sids: list[str]) -> None:
    policy = _document(interface_endpoint_statement(stack=cdk.Stack(cdk.App(), "Endpoint")))
    context = caller if resource_account is None else {**caller, "aws:ResourceAccount": resource_account}
    for action, resource in (("sagemaker:CreateTrainingJob", arn("training-job/smp-prod-x")), ("cloudwatch:PutMetricData", "*"), ("sts:AssumeRole", "*")):
        assert _sids(policy, action, resource, context) == sids
    assert [(s["Sid"], s["Effect"], s["Principal"], s["Resource"]) for s in policy["Statement"]] == [("OwnAccountOnly", "Allow", {"AWS": "*"}, "*")]


@pytest.mark.parametrize("action", ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer"])
def test_image_endpoints_let_this_account_pull_from_any_registry(action: str) -> None:
    policy = _document(image_endpoint_statement(stack=cdk.Stack(cdk.App(), "Endpoint")))
    for registry in (ACCOUNT, "763104351884"):
        assert _sids(policy, action, arn("repository/smp/train", "ecr", account=registry), PIPELINE_ROLE) == ["OwnAccountPullsOnly"]
    assert _sids(policy, action, arn("repository/smp/train", "ecr"), FOREIGN_ROLE) == []
    assert [(s["Sid"], s["Effect"], s["Principal"], s["Resource"]) for s in policy["Statement"]] == [("OwnAccountPullsOnly", "Allow", {"AWS": "*"}, "*")]


@pytest.mark.parametrize("action", ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:DeleteRepository", "ecr:SetRepositoryPolicy"])
def test_image_endpoints_never_push(action: str) -> None:
    policy = _document(image_endpoint_statement(stack=cdk.Stack(cdk.App(), "Endpoint")))
    assert _sids(policy, action, arn("repository/smp/train", "ecr"), PIPELINE_ROLE) == []
