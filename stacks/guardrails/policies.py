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

# Which create action carries which condition key, from the Service Authorization Reference ("Actions,
# resources, and condition keys for Amazon SageMaker AI", "... for Amazon EMR Serverless"). A Deny on a
# key an action does not carry never matches, so each tuple lists only the actions that carry its key:
#
# CreateTrainingJob, CreateProcessingJob, CreateHyperParameterTuningJob: VpcSubnets,
#   VpcSecurityGroupIds, NetworkIsolation, VolumeKmsKey, OutputKmsKey, InstanceTypes,
#   InterContainerTrafficEncryption, MaxRuntimeInSeconds, aws:RequestTag
# CreateTransformJob: VolumeKmsKey, OutputKmsKey, InstanceTypes, ModelArn, aws:RequestTag
# CreateModel: VpcSubnets, VpcSecurityGroupIds, NetworkIsolation, aws:RequestTag
# CreateEndpointConfig: InstanceTypes, VolumeKmsKey, ModelArn, VpcSubnets, VpcSecurityGroupIds,
#   NetworkIsolation (the last three only for a config with its own networking, which inference
#   components use; a model's variants run in the model's VPC), aws:RequestTag (no OutputKmsKey)
# CreateEndpoint: aws:RequestTag only
# CreateInferenceComponent: ModelArn, aws:RequestTag
# CreateModelPackage: ModelApprovalStatus, aws:RequestTag
# emr-serverless:StartJobRun: aws:RequestTag only
# CreateAction, CreateArtifact, CreateContext (Lineage): aws:RequestTag only; a Lineage step carries
#   no tags and creates no compute or data, so no Deny applies to them
# elasticmapreduce:AddJobFlowSteps: elasticmapreduce:ExecutionRoleArn only; no role here may pass a
#   runtime role to EMR, so the step runs as the cluster's own role
# CreateAutoMLJobV2 (refused at synth): VpcSubnets, VpcSecurityGroupIds, VolumeKmsKey, OutputKmsKey,
#   InterContainerTrafficEncryption, aws:RequestTag

# Actions that must carry sagemaker:VpcSubnets (Null Deny) and NetworkIsolation (BoolIfExists Deny).
VPC_JOB_ACTIONS = (
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateModel",
)
# Actions whose subnets and security groups, when given, must be the environment's own (ForAnyValue:
# an absent key never matches, so a model-based endpoint configuration passes).
VPC_PINNED_ACTIONS = VPC_JOB_ACTIONS + ("sagemaker:CreateEndpointConfig",)
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
RUNTIME_CAPPED_ACTIONS = DISTRIBUTED_JOB_ACTIONS
# Actions that create a billable resource and that pipelines can tag. Model package versions are
# left out: the RegisterModel step has no tags in the pipeline definition.
TAGGED_CREATE_ACTIONS = COMPUTE_JOB_ACTIONS + ("sagemaker:CreateModel",)
# What the deployment and EMR Serverless steps create, and that carries aws:RequestTag.
SERVING_CREATE_ACTIONS = (
    "emr-serverless:StartJobRun",
    "sagemaker:CreateEndpoint",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:CreateInferenceComponent",
)
# Actions that carry sagemaker:ModelArn besides CreateTransformJob: they may serve only the environment's models.
MODEL_SERVING_ACTIONS = ("sagemaker:CreateEndpointConfig", "sagemaker:CreateInferenceComponent")
REGISTRATION_STATUSES = ("PendingManualApproval", "Rejected")
"""What a registration may set: approval is a reviewer's step, never a pipeline's (or its parameters')."""


EXEMPT_ROLE_TAG_VALUE = "true"
"""Value of the exemption tag on the execution role of a pipeline whose jobs may run without isolation."""


def _deny(*, sid: str, actions: Sequence[str], conditions: dict) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid=sid, effect=iam.Effect.DENY, actions=sorted(actions), resources=["*"], conditions=conditions
    )


def _environment_models(config: EnvironmentConfig) -> str:
    return f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}:model/{config.resource_prefix}-*"


def _isolation_exemption() -> dict:
    """The role tag only a pipeline's stack sets (no role may tag roles), never a tag a request carries."""
    return {"StringNotEquals": {f"aws:PrincipalTag/{NETWORK_ISOLATION_EXEMPTION_TAG}": EXEMPT_ROLE_TAG_VALUE}}


def _volume_key_required(actions: Sequence[str], sid: str) -> iam.PolicyStatement:
    return _deny(
        sid=sid,
        actions=actions,
        conditions={
            "Null": {"sagemaker:VolumeKmsKey": "true"},
            # NVMe instance storage is encrypted by hardware and refuses a volume key: exempt only when
            # every requested type has it (ForAnyValue: one type without NVMe storage is enough to deny).
            "ForAnyValue:StringNotLike": {"sagemaker:InstanceTypes": list(NVME_INSTANCE_PATTERNS)},
        },
    )


def job_guardrail_statements(*, config: EnvironmentConfig) -> list[iam.PolicyStatement]:
    """Denies that hold for every role of the environment (the job guardrails policy every role carries)."""
    cost_key, cost_value = config.cost_tag_key, config.cost_tag_value
    return [
        _deny(
            sid="DenyJobsOutsideVpc",
            actions=VPC_JOB_ACTIONS,
            conditions={"Null": {"sagemaker:VpcSubnets": "true"}},
        ),
        _volume_key_required(COMPUTE_JOB_ACTIONS, "DenyJobsWithoutVolumeKmsKey"),
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
        _deny(
            sid="DenyJobsWithoutNetworkIsolation",
            actions=VPC_JOB_ACTIONS,
            conditions={"BoolIfExists": {"sagemaker:NetworkIsolation": "false"}, **_isolation_exemption()},
        ),
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
            conditions={"ArnNotLike": {"sagemaker:ModelArn": _environment_models(config)}},
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


def serving_guardrail_statements(*, config: EnvironmentConfig) -> list[iam.PolicyStatement]:
    """Denies for what the deployment, registration and EMR Serverless steps create; beside the job
    Denies in the job guardrails every role of the environment carries."""
    return [
        _volume_key_required(("sagemaker:CreateEndpointConfig",), "DenyEndpointConfigsWithoutVolumeKmsKey"),
        _deny(
            sid="DenyEndpointInstanceTypesOutsideAllowlist",
            actions=("sagemaker:CreateEndpointConfig",),
            conditions={"ForAnyValue:StringNotLike": {"sagemaker:InstanceTypes": list(config.allowed_instance_types)}},
        ),
        # Only a configuration with its own networking carries the key (a model's variants run in the
        # model's VPC, isolated by the job Denies), so only an explicit false is refused.
        _deny(
            sid="DenyEndpointConfigsWithoutNetworkIsolation",
            actions=("sagemaker:CreateEndpointConfig",),
            conditions={"Bool": {"sagemaker:NetworkIsolation": "false"}, **_isolation_exemption()},
        ),
        # Absent counts: an inference component with its own container names no model.
        _deny(
            sid="DenyServingModelsOutsideEnvironment",
            actions=MODEL_SERVING_ACTIONS,
            conditions={"ArnNotLike": {"sagemaker:ModelArn": _environment_models(config)}},
        ),
        # An absent status registers the version as PendingManualApproval; a run started by hand with
        # ModelApprovalStatus=Approved is refused here, where the synth check sees only defaults.
        _deny(
            sid="DenyRegisteringApprovedVersions",
            actions=("sagemaker:CreateModelPackage",),
            conditions={
                "Null": {"sagemaker:ModelApprovalStatus": "false"},
                "StringNotEquals": {"sagemaker:ModelApprovalStatus": list(REGISTRATION_STATUSES)},
            },
        ),
        _deny(
            sid="DenyServingCreatesWithoutTheCostTag",
            actions=SERVING_CREATE_ACTIONS,
            conditions={"StringNotEquals": {f"aws:RequestTag/{config.cost_tag_key}": config.cost_tag_value}},
        ),
    ]


def network_guardrail_statements(
    *, subnet_ids: Sequence[str], security_group_ids: Sequence[str]
) -> list[iam.PolicyStatement]:
    """Denies that pin jobs to this environment's own subnets and security groups."""
    return [
        _deny(
            sid="DenyForeignSubnets",
            actions=VPC_PINNED_ACTIONS,
            conditions={"ForAnyValue:StringNotEquals": {"sagemaker:VpcSubnets": list(subnet_ids)}},
        ),
        _deny(
            sid="DenyForeignSecurityGroups",
            actions=VPC_PINNED_ACTIONS,
            conditions={"ForAnyValue:StringNotEquals": {"sagemaker:VpcSecurityGroupIds": list(security_group_ids)}},
        ),
    ]
