"""The environment's KMS key and the buckets that hold pipeline artifacts and their access logs."""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.guardrails.perimeter import bucket_perimeter_statements, key_policy_statements


def artifact_bucket_name(*, resource_prefix: str) -> str:
    """``<prefix>-artifacts-<account>-<region>``: known to every stack without a cross-stack reference."""
    return f"{resource_prefix}-artifacts-{Aws.ACCOUNT_ID}-{Aws.REGION}"


class ArtifactStore(Construct):
    """One customer-managed key for buckets, logs, job volumes and outputs, and the artifact bucket."""

    def __init__(self, scope: Construct, construct_id: str, *, resource_prefix: str, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        destroy = removal_policy == RemovalPolicy.DESTROY

        self.key = kms.Key(
            self,
            "Key",
            alias=f"alias/{resource_prefix}",
            description=f"{resource_prefix}: artifacts, logs, job volumes and outputs",
            enable_key_rotation=True,
            removal_policy=removal_policy,
            pending_window=Duration.days(7) if destroy else Duration.days(30),
            # The whole policy: CDK's default would give the account root every KMS action.
            policy=iam.PolicyDocument(statements=key_policy_statements(stack=stack, resource_prefix=resource_prefix)),
        )
        # Server access logs cannot be delivered to a KMS-encrypted bucket, hence S3-managed keys here.
        self.access_log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(365), noncurrent_version_expiration=Duration.days(30))
            ],
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
        )
        self.bucket = s3.Bucket(
            self,
            "Artifacts",
            bucket_name=artifact_bucket_name(resource_prefix=resource_prefix),
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix="artifacts/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-old-versions",
                    noncurrent_version_expiration=Duration.days(90),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
        )
        for statement in bucket_perimeter_statements(
            stack=stack,
            bucket_arn=self.bucket.bucket_arn,
            key_arn=self.key.key_arn,
            resource_prefix=resource_prefix,
            maintenance_role_arns=_auto_delete_role_arns(stack),
        ):
            self.bucket.add_to_resource_policy(statement)


def _auto_delete_role_arns(stack: Stack) -> list[str]:
    """The role of CDK's object auto-deletion (removal policy destroy): a provider whose role carries no tags."""
    provider = stack.node.try_find_child("Custom::S3AutoDeleteObjectsCustomResourceProvider")
    if provider is None:
        return []
    role = provider.node.find_child("Role")
    return [role.get_att("Arn").to_string()]
