"""What a pipeline's execution role may do for each step type its definition holds, and nothing more.

A role is granted a step type's actions only when its definition has a step of that type
(``PipelinePlan.step_types``): a pipeline without a tuning step cannot start a tuning job, one without
an Endpoint step cannot deploy. SageMaker resources are scoped to the environment's prefix
(``<prefix>-*``), EMR steps to the clusters and applications the definition names. The guardrail
Denies for the create actions are in ``stacks/guardrails/policies.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from aws_cdk import aws_iam as iam

from pipeline_defs.contract import PIPELINE_TAG

EMR_SERVERLESS_PRINCIPAL = "emr-serverless.amazonaws.com"


@dataclass(frozen=True)
class StepGrant:
    """One statement: the step types that need it, its actions, and its resources as ``(service, resource)``
    patterns where ``{prefix}`` is the environment's resource prefix."""

    sid: str
    step_types: frozenset[str]
    actions: tuple[str, ...]
    resources: tuple[tuple[str, str], ...]
    reason: str


def _sagemaker(*patterns: str) -> tuple[tuple[str, str], ...]:
    return tuple(("sagemaker", pattern) for pattern in patterns)


PROCESSING_STEP_TYPES = frozenset({"Processing", "QualityCheck", "ClarifyCheck"})
"""Quality and bias checks run as processing jobs."""

SAGEMAKER_STEP_GRANTS: tuple[StepGrant, ...] = (
    StepGrant(
        "ProcessingJobs",
        PROCESSING_STEP_TYPES,
        ("sagemaker:AddTags", "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob"),
        _sagemaker("processing-job/{prefix}-*"),
        "Processing jobs are named per execution under the environment prefix (<pipeline>-<step>-<suffix>).",
    ),
    StepGrant(
        "TrainingJobs",
        frozenset({"Training"}),
        ("sagemaker:AddTags", "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"),
        _sagemaker("training-job/{prefix}-*"),
        "Training jobs are named per execution under the environment prefix (<pipeline>-<step>-<suffix>).",
    ),
    StepGrant(
        "TransformJobs",
        frozenset({"Transform"}),
        ("sagemaker:AddTags", "sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob", "sagemaker:StopTransformJob"),
        _sagemaker("transform-job/{prefix}-*"),
        "Transform jobs are named per execution under the environment prefix (<pipeline>-<step>-<suffix>).",
    ),
    StepGrant(
        "Models",
        frozenset({"Model"}),
        ("sagemaker:AddTags", "sagemaker:CreateModel", "sagemaker:DescribeModel"),
        _sagemaker("model/{prefix}-*"),
        "Models are named per execution under the environment prefix (<pipeline>-<step>-<suffix>).",
    ),
    StepGrant(
        "ModelRegistryRead",
        frozenset({"Model", "RegisterModel", "QualityCheck", "ClarifyCheck"}),
        ("sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages"),
        _sagemaker("model-package/{prefix}-*/*", "model-package/{prefix}-*", "model-package-group/{prefix}-*"),
        "Model package groups are named under the environment prefix; versions are numbered inside them. Models are "
        "created from registered versions, and check steps read a group's latest baselines.",
    ),
    StepGrant(
        "ModelRegistry",
        frozenset({"RegisterModel"}),
        # No UpdateModelPackage: a pipeline registers versions, it never approves its own.
        ("sagemaker:AddTags", "sagemaker:CreateModelPackage", "sagemaker:CreateModelPackageGroup"),
        _sagemaker("model-package/{prefix}-*/*", "model-package/{prefix}-*", "model-package-group/{prefix}-*"),
        "Model package groups are named under the environment prefix; versions are numbered inside them.",
    ),
    StepGrant(
        "EndpointConfigs",
        frozenset({"EndpointConfig"}),
        ("sagemaker:AddTags", "sagemaker:CreateEndpointConfig", "sagemaker:DescribeEndpointConfig"),
        _sagemaker("endpoint-config/{prefix}-*"),
        "Endpoint configurations are named under the environment prefix (ctx.job_name(step)).",
    ),
    StepGrant(
        "Endpoints",
        frozenset({"Endpoint"}),
        # The Endpoint step creates the endpoint, or updates it to a new configuration when it exists.
        ("sagemaker:AddTags", "sagemaker:CreateEndpoint", "sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint"),
        _sagemaker("endpoint/{prefix}-*", "endpoint-config/{prefix}-*"),
        "Endpoints and the configurations they run are named under the environment prefix.",
    ),
    StepGrant(
        "InferenceComponents",
        frozenset({"InferenceComponent"}),
        ("sagemaker:AddTags", "sagemaker:CreateInferenceComponent", "sagemaker:DescribeInferenceComponent"),
        _sagemaker("inference-component/{prefix}-*", "endpoint/{prefix}-*"),
        "Inference components and the endpoints they are placed on are named under the environment prefix.",
    ),
    StepGrant(
        "Lineage",
        frozenset({"Lineage"}),
        (
            "sagemaker:AddAssociation",
            "sagemaker:CreateAction",
            "sagemaker:CreateArtifact",
            "sagemaker:CreateContext",
            "sagemaker:DescribeAction",
            "sagemaker:DescribeArtifact",
            "sagemaker:DescribeContext",
        ),
        # Actions and contexts carry their name in the ARN, artifacts a hash of their source.
        _sagemaker("action/{prefix}-*", "context/{prefix}-*", "artifact/*"),
        "Lineage actions and contexts are named under the environment prefix (checked at synth); an artifact's "
        "ARN is a hash of its source URI, known only once it exists.",
    ),
    StepGrant(
        "LineageLookups",
        frozenset({"Lineage"}),
        ("sagemaker:ListActions", "sagemaker:ListArtifacts", "sagemaker:ListAssociations", "sagemaker:ListContexts"),
        (("*", "*"),),
        "Lineage entities named in a Lineage step are looked up by name; the List actions support no resource-level permissions.",
    ),
)


def _arn(arn: Callable[[str, str], str], service: str, pattern: str, prefix: str) -> str:
    return "*" if service == "*" else arn(pattern.format(prefix=prefix), service)


def step_grant_statements(
    *,
    step_types: Sequence[str],
    arn: Callable[[str, str], str],
    resource_prefix: str,
    role_arn: str,
    pipeline_name: str,
    emr_clusters: Sequence[str],
    emr_serverless_applications: Sequence[str],
) -> list[iam.PolicyStatement]:
    """The statements the step types need; ``arn(resource, service)`` renders an ARN of this account and region."""
    kinds = set(step_types)
    statements = [
        iam.PolicyStatement(
            sid=grant.sid,
            actions=list(grant.actions),
            resources=[_arn(arn, service, pattern, resource_prefix) for service, pattern in grant.resources],
        )
        for grant in SAGEMAKER_STEP_GRANTS
        if grant.step_types & kinds
    ]
    if "Tuning" in kinds:
        # The request carries no job name (SageMaker Pipelines names tuning jobs itself), so the job is
        # this pipeline's by the pipeline tag the compiler puts on every job.
        tuning_jobs = arn("hyper-parameter-tuning-job/*", "sagemaker")
        statements += [
            iam.PolicyStatement(
                sid="TuningJobs",
                actions=["sagemaker:AddTags", "sagemaker:CreateHyperParameterTuningJob"],
                resources=[tuning_jobs],
                conditions={"StringEquals": {f"aws:RequestTag/{PIPELINE_TAG}": pipeline_name}},
            ),
            iam.PolicyStatement(
                sid="OwnTuningJobs",
                actions=[
                    "sagemaker:DescribeHyperParameterTuningJob",
                    "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
                    "sagemaker:StopHyperParameterTuningJob",
                ],
                resources=[tuning_jobs],
                conditions={"StringEquals": {f"aws:ResourceTag/{PIPELINE_TAG}": pipeline_name}},
            ),
        ]
    if "EMR" in kinds:
        statements.append(
            iam.PolicyStatement(
                sid="EmrSteps",
                actions=[
                    "elasticmapreduce:AddJobFlowSteps",
                    "elasticmapreduce:CancelSteps",
                    "elasticmapreduce:DescribeCluster",
                    "elasticmapreduce:DescribeStep",
                    "elasticmapreduce:ListSteps",
                ],
                resources=[arn(f"cluster/{cluster}", "elasticmapreduce") for cluster in emr_clusters],
            )
        )
    if "EMRServerless" in kinds:
        statements += [
            iam.PolicyStatement(
                sid="EmrServerlessJobRuns",
                actions=["emr-serverless:StartJobRun"],
                resources=[arn(f"/applications/{app}", "emr-serverless") for app in emr_serverless_applications],
            ),
            iam.PolicyStatement(
                sid="EmrServerlessJobRunStatus",
                actions=["emr-serverless:CancelJobRun", "emr-serverless:GetJobRun"],
                resources=[arn(f"/applications/{app}/jobruns/*", "emr-serverless") for app in emr_serverless_applications],
            ),
            # The job run runs as this same role: EMR Serverless may assume it (see the role's trust).
            iam.PolicyStatement(
                sid="PassOnlyItselfToEmrServerless",
                actions=["iam:PassRole"],
                resources=[role_arn],
                conditions={"StringEquals": {"iam:PassedToService": EMR_SERVERLESS_PRINCIPAL}},
            ),
        ]
    return statements


STEP_GRANT_WILDCARD_REASONS = {
    **{grant.sid: grant.reason for grant in SAGEMAKER_STEP_GRANTS},
    "TuningJobs": "SageMaker Pipelines names tuning jobs itself; only a request tagged with this pipeline's smp:pipeline tag is allowed.",
    "OwnTuningJobs": "SageMaker Pipelines names tuning jobs itself; only jobs tagged with this pipeline's smp:pipeline tag.",
    "EmrServerlessJobRunStatus": "Job run ids are assigned by EMR Serverless when the run starts, on the applications the definition names.",
}
"""Why each wildcard of the step grants is needed, for the cdk-nag acknowledgments."""
