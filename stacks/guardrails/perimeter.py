"""The environment's data perimeter: who may use its key, its artifact bucket and its VPC endpoints.

"The environment's roles" are the roles tagged ``smp:environment=<prefix>`` by its stage. No role of
the environment may tag roles, so a role cannot make itself one; the account's CDK bootstrap roles
deploy, and AWS services act only for this environment's own sources.
"""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam

from base.naming import ENVIRONMENT_TAG

# Services through which the environment's roles use the key: the artifact bucket, job volumes,
# dead-letter queues and the alert topic. Logs, EventBridge and CloudWatch use it as themselves.
KEY_SERVICES = ("s3", "sagemaker", "sns", "sqs")
KEY_USAGE_ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
# Manage, never use: the account's administrators (through IAM) keep control of the key without
# being able to decrypt what the environment stores.
KEY_ADMINISTRATION_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
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
)


def environment_principal_conditions(*, resource_prefix: str) -> dict:
    """The request is by one of the environment's roles (its stage tags them)."""
    return {"StringEquals": {f"aws:PrincipalTag/{ENVIRONMENT_TAG}": resource_prefix}}


def deployment_role_pattern(*, stack: Stack) -> str:
    """The CDK bootstrap roles of this account and region (any qualifier)."""
    return f"arn:{stack.partition}:iam::{stack.account}:role/cdk-*-{stack.account}-{stack.region}"


def key_policy_statements(*, stack: Stack, resource_prefix: str) -> list[iam.PolicyStatement]:
    """The whole key policy: administration for the account, use only by the environment."""
    account = iam.AccountRootPrincipal()
    own_roles = environment_principal_conditions(resource_prefix=resource_prefix)
    region, partition, account_id = stack.region, stack.partition, stack.account
    return [
        iam.PolicyStatement(sid="KeyAdministration", principals=[account], actions=list(KEY_ADMINISTRATION_ACTIONS), resources=["*"]),
        iam.PolicyStatement(
            sid="EnvironmentRolesThroughItsServices",
            principals=[account],
            actions=list(KEY_USAGE_ACTIONS),
            resources=["*"],
            conditions={
                "StringEquals": {
                    **own_roles["StringEquals"],
                    "kms:CallerAccount": account_id,
                    "kms:ViaService": [f"{service}.{region}.amazonaws.com" for service in KEY_SERVICES],
                },
            },
        ),
        iam.PolicyStatement(
            sid="EnvironmentRolesDescribeTheKey",
            principals=[account],
            actions=["kms:DescribeKey"],
            resources=["*"],
            conditions=own_roles,
        ),
        iam.PolicyStatement(
            sid="EnvironmentRolesGrantJobVolumes",
            principals=[account],
            actions=["kms:CreateGrant"],
            resources=["*"],
            conditions={
                "StringEquals": {**own_roles["StringEquals"], "kms:ViaService": f"sagemaker.{region}.amazonaws.com"},
                "Bool": {"kms:GrantIsForAWSResource": "true"},
            },
        ),
        iam.PolicyStatement(
            sid="CloudWatchLogsForTheEnvironmentsLogGroups",
            principals=[iam.ServicePrincipal(f"logs.{region}.amazonaws.com")],
            actions=["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo"],
            resources=["*"],
            conditions={
                "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:log-group:{resource_prefix}-*"}
            },
        ),
        _service_for_own_sources(
            sid="FailureRuleDeliversToTheTopic",
            service="events.amazonaws.com",
            account_id=account_id,
            source_pattern=f"arn:{partition}:events:{region}:{account_id}:rule/{resource_prefix}-*",
        ),
        _service_for_own_sources(
            sid="EnvironmentAlarmsNotifyTheTopic",
            service="cloudwatch.amazonaws.com",
            account_id=account_id,
            source_pattern=f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:{resource_prefix}-*",
        ),
    ]


def _service_for_own_sources(*, sid: str, service: str, account_id: str, source_pattern: str) -> iam.PolicyStatement:
    """A service that writes to the encrypted topic, only for this account's sources matching the pattern."""
    return iam.PolicyStatement(
        sid=sid,
        principals=[iam.ServicePrincipal(service)],
        actions=["kms:Decrypt", "kms:GenerateDataKey"],
        resources=["*"],
        conditions={"StringEquals": {"aws:SourceAccount": account_id}, "ArnLike": {"aws:SourceArn": source_pattern}},
    )


def bucket_perimeter_statements(
    *, stack: Stack, bucket_arn: str, key_arn: str, resource_prefix: str, maintenance_role_arns: Sequence[str] = ()
) -> list[iam.PolicyStatement]:
    """Denies on the artifact bucket: customer-provided keys, any key but the environment's, and anyone
    but the environment's roles, the deployment roles and AWS services (``maintenance_role_arns``: CDK's
    own helpers that cannot carry the tag, such as the sandbox's object auto-deletion)."""
    objects = f"{bucket_arn}/*"
    return [
        _anyone_denied(
            sid="DenyCustomerProvidedKeys",
            actions=["s3:PutObject"],
            resources=[objects],
            conditions={"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}},
        ),
        # Without the headers the bucket's default (the environment key) applies; with them, only that key.
        # (Not ...IfExists: in a Deny, an absent key would make it hold.)
        _anyone_denied(
            sid="DenyWritesWithoutTheEnvironmentKey",
            actions=["s3:PutObject"],
            resources=[objects],
            conditions={
                "Null": {"s3:x-amz-server-side-encryption": "false"},
                "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
            },
        ),
        _anyone_denied(
            sid="DenyWritesWithAnotherKey",
            actions=["s3:PutObject"],
            resources=[objects],
            conditions={
                "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
                "StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn},
            },
        ),
        # Another account could tag its own roles like the environment's: refuse every other account first.
        _anyone_denied(
            sid="DenyOtherAccounts",
            actions=["s3:*"],
            resources=[bucket_arn, objects],
            conditions={
                "StringNotEquals": {"aws:PrincipalAccount": stack.account},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        ),
        _anyone_denied(
            sid="DenyPrincipalsOutsideTheEnvironment",
            actions=["s3:*"],
            resources=[bucket_arn, objects],
            conditions={
                "StringNotEquals": {f"aws:PrincipalTag/{ENVIRONMENT_TAG}": resource_prefix},
                "ArnNotLike": {"aws:PrincipalArn": [deployment_role_pattern(stack=stack), *maintenance_role_arns]},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        ),
    ]


def _anyone_denied(*, sid: str, actions: Sequence[str], resources: Sequence[str], conditions: dict) -> iam.PolicyStatement:
    """A bucket policy Deny that applies to every principal the conditions pick out."""
    return iam.PolicyStatement(
        sid=sid, effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()], actions=list(actions), resources=list(resources), conditions=conditions
    )


def interface_endpoint_statement(*, stack: Stack) -> iam.PolicyStatement:
    """What an interface endpoint carries: this account's principals, on this account's resources.

    ``aws:ResourceAccount`` is absent for calls without a resource (``PutMetricData``,
    ``GetAuthorizationToken``), hence IfExists; ECR's endpoints leave it out (see ``ECR_ENDPOINTS``).
    """
    return iam.PolicyStatement(
        sid="OwnAccountOnly",
        principals=[iam.AnyPrincipal()],
        actions=["*"],
        resources=["*"],
        conditions={
            "StringEquals": {"aws:PrincipalAccount": stack.account},
            "StringEqualsIfExists": {"aws:ResourceAccount": stack.account},
        },
    )


def image_endpoint_statement(*, stack: Stack) -> iam.PolicyStatement:
    """ECR's endpoints: this account's principals, pulling only (SageMaker's own images live in AWS's accounts)."""
    return iam.PolicyStatement(
        sid="OwnAccountPullsOnly",
        principals=[iam.AnyPrincipal()],
        actions=[
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetAuthorizationToken",
            "ecr:GetDownloadUrlForLayer",
        ],
        resources=["*"],
        conditions={"StringEquals": {"aws:PrincipalAccount": stack.account}},
    )
