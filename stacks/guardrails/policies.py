"""The Deny statements that keep SageMaker jobs inside the guardrails.

Each Deny lists only the job and model actions that support its condition key. The widely
published form, ``Deny sagemaker:Create*`` unless a key is set, also denies CreatePipeline,
CreateExperiment, CreateTrial and every other Create action that never carries the key.
"""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from pipeline_defs.contract import NETWORK_ISOLATION_EXEMPTION_TAG, NVME_INSTANCE_PATTERNS
from base.config import EnvironmentConfig

# Actions that carry sagemaker:VpcSubnets / VpcSecurityGroupIds / NetworkIsolation.
VPC_JOB_ACTIONS = (
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateModel",
)
# Actions that carry sagemaker:VolumeKmsKey / OutputKmsKey / InstanceTypes.
COMPUTE_JOB_ACTIONS = (
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateTransformJob",
)
# Actions that carry sagemaker:InterContainerTrafficEncryption.
DISTRIBUTED_JOB_ACTIONS = (
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateHyperParameterTuningJob",
)
# Actions that carry sagemaker:MaxRuntimeInSeconds.
RUNTIME_CAPPED_ACTIONS = (
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateHyperParameterTuningJob",
)
# Actions that create a billable resource and that pipelines can tag. Model package versions are
# left out: the RegisterModel step has no tags in the pipeline definition.
TAGGED_CREATE_ACTIONS = COMPUTE_JOB_ACTIONS + ("sagemaker:CreateModel",)


EXEMPT_ROLE_TAG_VALUE = "true"
"""Value of the exemption tag on the execution role of a pipeline whose jobs may run without isolation."""


def _deny(*, sid: str, actions: Sequence[str], conditions: dict) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid=sid, effect=iam.Effect.DENY, actions=sorted(actions), resources=["*"], conditions=conditions
    )


def job_guardrail_statements(*, config: EnvironmentConfig) -> list[iam.PolicyStatement]:
    """Denies that hold for every role of the environment (they sit in the permission boundary).

    The isolation exemption is keyed to the calling role's own tag, which only the pipeline's stack
    sets (no role may tag roles), never to a tag a request carries.
    """
    isolation_conditions: dict = {
        "BoolIfExists": {"sagemaker:NetworkIsolation": "false"},
        "StringNotEquals": {f"aws:PrincipalTag/{NETWORK_ISOLATION_EXEMPTION_TAG}": EXEMPT_ROLE_TAG_VALUE},
    }
    cost_key, cost_value = config.cost_tag_key, config.cost_tag_value
    return [
        _deny(
            sid="DenyJobsOutsideVpc",
            actions=VPC_JOB_ACTIONS,
            conditions={"Null": {"sagemaker:VpcSubnets": "true"}},
        ),
        _deny(
            sid="DenyJobsWithoutVolumeKmsKey",
            actions=COMPUTE_JOB_ACTIONS,
            conditions={
                "Null": {"sagemaker:VolumeKmsKey": "true"},
                # NVMe instance storage is encrypted by hardware and refuses a volume key: exempt only when
                # every requested type has it (ForAnyValue: one type without NVMe storage is enough to deny).
                "ForAnyValue:StringNotLike": {"sagemaker:InstanceTypes": list(NVME_INSTANCE_PATTERNS)},
            },
        ),
        # Without the key the two Denies above and the allowlist could not apply; every job carries it.
        _deny(
            sid="DenyJobsWithoutInstanceTypes",
            actions=COMPUTE_JOB_ACTIONS,
            conditions={"Null": {"sagemaker:InstanceTypes": "true"}},
        ),
        _deny(
            sid="DenyJobsWithoutOutputKmsKey",
            actions=COMPUTE_JOB_ACTIONS,
            conditions={"Null": {"sagemaker:OutputKmsKey": "true"}},
        ),
        _deny(
            sid="DenyUnencryptedInterContainerTraffic",
            actions=DISTRIBUTED_JOB_ACTIONS,
            conditions={"BoolIfExists": {"sagemaker:InterContainerTrafficEncryption": "false"}},
        ),
        _deny(sid="DenyJobsWithoutNetworkIsolation", actions=VPC_JOB_ACTIONS, conditions=isolation_conditions),
        _deny(
            sid="DenyInstanceTypesOutsideAllowlist",
            actions=COMPUTE_JOB_ACTIONS,
            conditions={"ForAnyValue:StringNotLike": {"sagemaker:InstanceTypes": list(config.allowed_instance_types)}},
        ),
        _deny(
            sid="DenyJobsAboveRuntimeCap",
            actions=RUNTIME_CAPPED_ACTIONS,
            conditions={"NumericGreaterThan": {"sagemaker:MaxRuntimeInSeconds": str(config.max_job_runtime_hours * 3600)}},
        ),
        _deny(
            sid="DenyTransformOfModelsOutsideEnvironment",
            actions=("sagemaker:CreateTransformJob",),
            conditions={"ArnNotLike": {"sagemaker:ModelArn": f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}:model/{config.resource_prefix}-*"}},
        ),
        # Absent or another value: both are refused (a negated operator holds when the key is absent).
        _deny(
            sid="DenyCreatesWithoutTheCostTag",
            actions=TAGGED_CREATE_ACTIONS,
            conditions={"StringNotEquals": {f"aws:RequestTag/{cost_key}": cost_value}},
        ),
        _deny(
            sid="DenyChangingTheCostTag",
            actions=("sagemaker:AddTags",),
            conditions={
                "ForAnyValue:StringEquals": {"aws:TagKeys": [cost_key]},
                "StringNotEquals": {f"aws:RequestTag/{cost_key}": cost_value},
            },
        ),
        _deny(
            sid="DenyRemovingTheCostTag",
            actions=("sagemaker:DeleteTags",),
            conditions={"ForAnyValue:StringEquals": {"aws:TagKeys": [cost_key]}},
        ),
    ]


def network_guardrail_statements(
    *, subnet_ids: Sequence[str], security_group_ids: Sequence[str]
) -> list[iam.PolicyStatement]:
    """Denies that pin jobs to this environment's own subnets and security groups."""
    return [
        _deny(
            sid="DenyForeignSubnets",
            actions=VPC_JOB_ACTIONS,
            conditions={"ForAnyValue:StringNotEquals": {"sagemaker:VpcSubnets": list(subnet_ids)}},
        ),
        _deny(
            sid="DenyForeignSecurityGroups",
            actions=VPC_JOB_ACTIONS,
            conditions={"ForAnyValue:StringNotEquals": {"sagemaker:VpcSecurityGroupIds": list(security_group_ids)}},
        ),
    ]
