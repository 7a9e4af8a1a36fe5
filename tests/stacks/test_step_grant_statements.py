"""The step grants, built in a bare stack and decided by the offline IAM evaluator: for each step type
exactly the statements it brings, each of their actions on the environment's own names (allowed by
exactly that statement) and the neighbour refused (another environment's prefix, another cluster or
application, another pipeline's tag, an absent tag, an action next to the granted ones)."""

from __future__ import annotations

from typing import Any, Sequence

import aws_cdk as cdk
import pytest

from pipeline_defs.contract import PIPELINE_TAG
from stacks.pipelines.step_grants import _sagemaker, step_grant_statements
from support.iam_evaluator import Request, matching_sids
from support.statements import ACCOUNT, arn, concrete

PIPELINE = "smp-prod-train"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{PIPELINE}-exec"
CLUSTERS = ("j-AAAAAAAAAAAA", "j-BBBBBBBBBBBB")
APPLICATIONS = ("00f0aaaa", "00f0bbbb")


def grants(*step_types: str, clusters: Sequence[str] = CLUSTERS, applications: Sequence[str] = APPLICATIONS) -> list[dict]:
    """The statements for these step types as one policy document; built for each call (cheap)."""
    stack = cdk.Stack(cdk.App(), "Grants")
    statements = step_grant_statements(
        step_types=list(step_types),
        arn=lambda resource, service: arn(resource, service),
        resource_prefix="smp-prod",
        role_arn=ROLE_ARN,
        pipeline_name=PIPELINE,
        emr_clusters=clusters,
        emr_serverless_applications=applications,
    )
    return [{"Statement": [concrete(stack.resolve(statement.to_statement_json())) for statement in statements]}]


def allowing(document: list[dict], action: str, resource: str, **context: Any) -> list[str]:
    action = action if ":" in action else f"sagemaker:{action}"
    return matching_sids(document, Request(action=action, resource=resource, context=context), effect="Allow")


@pytest.mark.parametrize(
    ("step_type", "sids"),
    [
        ("Processing", ["ProcessingJobs"]),
        ("QualityCheck", ["ProcessingJobs", "ModelRegistryRead"]),
        ("ClarifyCheck", ["ProcessingJobs", "ModelRegistryRead"]),
        ("Training", ["TrainingJobs"]),
        ("Transform", ["TransformJobs"]),
        ("Model", ["Models", "ModelRegistryRead"]),
        ("RegisterModel", ["ModelRegistryRead", "ModelRegistry"]),
        ("EndpointConfig", ["EndpointConfigs"]),
        ("Endpoint", ["Endpoints"]),
        ("InferenceComponent", ["InferenceComponents"]),
        ("Lineage", ["Lineage", "LineageLookups"]),
        ("Tuning", ["TuningJobs", "OwnTuningJobs"]),
        ("EMR", ["EmrSteps"]),
        ("EMRServerless", ["EmrServerlessJobRuns", "EmrServerlessJobRunStatus", "PassOnlyItselfToEmrServerless"]),
        ("Lambda", []),
        ("Condition", []),
        ("Fail", []),
    ],
)
def test_each_step_type_brings_exactly_its_statements(step_type: str, sids: list[str]) -> None:
    assert [s["Sid"] for s in grants(step_type)[0]["Statement"]] == sids
    assert all(s["Effect"] == "Allow" for s in grants(step_type)[0]["Statement"])


def test_sagemaker_patterns_name_the_sagemaker_service() -> None:
    """The table of SageMaker grants is built with it at import, where a mutation run cannot reach it."""
    assert _sagemaker("model/{prefix}-*", "endpoint/{prefix}-*") == (("sagemaker", "model/{prefix}-*"), ("sagemaker", "endpoint/{prefix}-*"))
    assert _sagemaker() == ()


def test_no_step_types_no_statements() -> None:
    assert grants()[0]["Statement"] == []


def test_statements_are_not_repeated_for_several_steps_needing_them() -> None:
    sids = [s["Sid"] for s in grants("Processing", "QualityCheck", "ClarifyCheck", "Model", "RegisterModel", "Processing")[0]["Statement"]]
    assert sids == ["ProcessingJobs", "Models", "ModelRegistryRead", "ModelRegistry"]


JOB_KINDS = [
    ("Processing", "processing-job", ["AddTags", "CreateProcessingJob", "DescribeProcessingJob", "StopProcessingJob"], "ProcessingJobs"),
    ("QualityCheck", "processing-job", ["AddTags", "CreateProcessingJob", "DescribeProcessingJob", "StopProcessingJob"], "ProcessingJobs"),
    ("ClarifyCheck", "processing-job", ["AddTags", "CreateProcessingJob", "DescribeProcessingJob", "StopProcessingJob"], "ProcessingJobs"),
    ("Training", "training-job", ["AddTags", "CreateTrainingJob", "DescribeTrainingJob", "StopTrainingJob"], "TrainingJobs"),
    ("Transform", "transform-job", ["AddTags", "CreateTransformJob", "DescribeTransformJob", "StopTransformJob"], "TransformJobs"),
    ("Model", "model", ["AddTags", "CreateModel", "DescribeModel"], "Models"),
    ("EndpointConfig", "endpoint-config", ["AddTags", "CreateEndpointConfig", "DescribeEndpointConfig"], "EndpointConfigs"),
]


@pytest.mark.parametrize(("step_type", "kind", "actions", "sid"), JOB_KINDS)
def test_each_job_kind_is_run_under_the_environment_prefix_only(step_type: str, kind: str, actions: list[str], sid: str) -> None:
    document = grants(step_type)
    for action in actions:
        assert allowing(document, action, arn(f"{kind}/smp-prod-train-step-abc")) == [sid]
        assert allowing(document, action, arn(f"{kind}/smp-sandbox-train-step-abc")) == []
        assert allowing(document, action, arn(f"{kind}/smp-prodx-train")) == []
        assert allowing(document, action, arn(f"{kind}/smp-prod-train", account="999999999999")) == []
        assert allowing(document, action, arn(f"{kind}/smp-prod-train", region="us-east-1")) == []
    # No other job kind comes with it, nor deletion.
    for other_kind in ("processing-job", "training-job", "transform-job", "model", "endpoint-config"):
        if other_kind != kind:
            assert allowing(document, "AddTags", arn(f"{other_kind}/smp-prod-x")) == []
    assert allowing(document, f"Delete{actions[1][len('Create'):]}", arn(f"{kind}/smp-prod-x")) == []


REGISTRY = [arn("model-package/smp-prod-group/3"), arn("model-package/smp-prod-group"), arn("model-package-group/smp-prod-group")]
FOREIGN_REGISTRY = [arn("model-package/smp-sandbox-group/3"), arn("model-package-group/smp-sandbox-group"), arn("model-package-group/smp-prod-group", account="999999999999")]


@pytest.mark.parametrize("step_type", ["Model", "RegisterModel", "QualityCheck", "ClarifyCheck"])
def test_the_registry_is_read_in_the_environments_groups_only(step_type: str) -> None:
    document = grants(step_type)
    for action in ("DescribeModelPackage", "DescribeModelPackageGroup", "ListModelPackages"):
        for resource in REGISTRY:
            assert allowing(document, action, resource) == ["ModelRegistryRead"]
        for resource in FOREIGN_REGISTRY:
            assert allowing(document, action, resource) == []


def test_only_registration_writes_the_registry_and_never_approves() -> None:
    document = grants("RegisterModel")
    for action in ("AddTags", "CreateModelPackage", "CreateModelPackageGroup"):
        for resource in REGISTRY:
            assert allowing(document, action, resource) == ["ModelRegistry"]
        for resource in FOREIGN_REGISTRY:
            assert allowing(document, action, resource) == []
    for action in ("UpdateModelPackage", "DeleteModelPackage", "DeleteModelPackageGroup", "PutModelPackageGroupPolicy"):
        for resource in REGISTRY:
            assert allowing(document, action, resource) == []
    for step_type in ("Model", "QualityCheck", "ClarifyCheck"):
        assert allowing(grants(step_type), "CreateModelPackage", REGISTRY[0]) == []


def test_an_endpoint_step_creates_and_updates_the_environments_endpoints_with_its_configurations() -> None:
    document = grants("Endpoint")
    for action in ("AddTags", "CreateEndpoint", "DescribeEndpoint", "UpdateEndpoint"):
        assert allowing(document, action, arn("endpoint/smp-prod-serve")) == ["Endpoints"]
        assert allowing(document, action, arn("endpoint-config/smp-prod-serve-1")) == ["Endpoints"]
        assert allowing(document, action, arn("endpoint/smp-sandbox-serve")) == []
        assert allowing(document, action, arn("endpoint-config/smp-sandbox-serve-1")) == []
    assert allowing(document, "DeleteEndpoint", arn("endpoint/smp-prod-serve")) == []
    assert allowing(document, "CreateEndpointConfig", arn("endpoint-config/smp-prod-serve-1")) == []


def test_an_inference_component_is_placed_on_the_environments_endpoints_only() -> None:
    document = grants("InferenceComponent")
    for action in ("AddTags", "CreateInferenceComponent", "DescribeInferenceComponent"):
        assert allowing(document, action, arn("inference-component/smp-prod-ic")) == ["InferenceComponents"]
        assert allowing(document, action, arn("endpoint/smp-prod-serve")) == ["InferenceComponents"]
        assert allowing(document, action, arn("inference-component/smp-sandbox-ic")) == []
        assert allowing(document, action, arn("endpoint/smp-sandbox-serve")) == []
    assert allowing(document, "UpdateInferenceComponent", arn("inference-component/smp-prod-ic")) == []
    assert allowing(document, "CreateEndpoint", arn("endpoint/smp-prod-serve")) == []


LINEAGE_ACTIONS = ["AddAssociation", "CreateAction", "CreateArtifact", "CreateContext", "DescribeAction", "DescribeArtifact", "DescribeContext"]


@pytest.mark.parametrize("action", LINEAGE_ACTIONS)
def test_lineage_entities_are_the_environments_and_artifacts_any(action: str) -> None:
    document = grants("Lineage")
    assert allowing(document, action, arn("action/smp-prod-deploy")) == ["Lineage"]
    assert allowing(document, action, arn("context/smp-prod-run")) == ["Lineage"]
    assert allowing(document, action, arn("artifact/0123456789abcdef")) == ["Lineage"]
    assert allowing(document, action, arn("action/smp-sandbox-deploy")) == []
    assert allowing(document, action, arn("context/smp-sandbox-run")) == []
    assert allowing(document, action, arn("artifact/0123456789abcdef", account="999999999999")) == []


def test_lineage_lookups_and_nothing_else_on_every_resource() -> None:
    document = grants("Lineage")
    for action in ("ListActions", "ListArtifacts", "ListAssociations", "ListContexts"):
        assert allowing(document, action, "*") == ["LineageLookups"]
    for action in ("DeleteAssociation", "DeleteAction", "DeleteContext", "DeleteArtifact", "ListTrainingJobs"):
        assert allowing(document, action, "*") == []
        assert allowing(document, action, arn("context/smp-prod-run")) == []


TUNING_JOB = arn("hyper-parameter-tuning-job/b7f2c1d0a9")


@pytest.mark.parametrize(
    ("tag", "sids"),
    [(PIPELINE, ["TuningJobs"]), ("smp-prod-other", []), ("smp-prod-train-2", []), (None, [])],
)
def test_a_tuning_job_is_started_only_tagged_with_its_pipeline(tag: str | None, sids: list[str]) -> None:
    document = grants("Tuning")
    context = {} if tag is None else {f"aws:RequestTag/{PIPELINE_TAG}": tag}
    for action in ("CreateHyperParameterTuningJob", "AddTags"):
        assert allowing(document, action, TUNING_JOB, **context) == sids
        assert allowing(document, action, arn("hyper-parameter-tuning-job/b7f2", region="us-east-1"), **context) == []
    # Its own tag on the job is not the tag of the request.
    assert allowing(document, "CreateHyperParameterTuningJob", TUNING_JOB, **{f"aws:ResourceTag/{PIPELINE_TAG}": PIPELINE}) == []


@pytest.mark.parametrize(
    ("tag", "sids"),
    [(PIPELINE, ["OwnTuningJobs"]), ("smp-prod-other", []), (None, [])],
)
def test_only_its_own_tuning_jobs_are_described_listed_and_stopped(tag: str | None, sids: list[str]) -> None:
    document = grants("Tuning")
    context = {} if tag is None else {f"aws:ResourceTag/{PIPELINE_TAG}": tag}
    for action in ("DescribeHyperParameterTuningJob", "ListTrainingJobsForHyperParameterTuningJob", "StopHyperParameterTuningJob"):
        assert allowing(document, action, TUNING_JOB, **context) == sids
        assert allowing(document, action, TUNING_JOB, **{f"aws:RequestTag/{PIPELINE_TAG}": PIPELINE}) == []
        assert allowing(document, action, arn("hyper-parameter-tuning-job/b7f2", account="999999999999"), **context) == []
    assert allowing(document, "DeleteHyperParameterTuningJob", TUNING_JOB, **context) == []


@pytest.mark.parametrize(
    "action",
    ["elasticmapreduce:AddJobFlowSteps", "elasticmapreduce:CancelSteps", "elasticmapreduce:DescribeCluster", "elasticmapreduce:DescribeStep", "elasticmapreduce:ListSteps"],
)
def test_emr_steps_run_on_each_cluster_the_definition_names_and_no_other(action: str) -> None:
    document = grants("EMR")
    for cluster in CLUSTERS:
        assert allowing(document, action, arn(f"cluster/{cluster}", "elasticmapreduce")) == ["EmrSteps"]
    assert allowing(document, action, arn("cluster/j-CCCCCCCCCCCC", "elasticmapreduce")) == []
    assert allowing(document, action, arn(f"cluster/{CLUSTERS[0]}", "elasticmapreduce", account="999999999999")) == []


def test_emr_clusters_are_not_terminated_or_changed() -> None:
    document = grants("EMR")
    for action in ("elasticmapreduce:TerminateJobFlows", "elasticmapreduce:RunJobFlow", "elasticmapreduce:ModifyCluster"):
        assert allowing(document, action, arn(f"cluster/{CLUSTERS[0]}", "elasticmapreduce")) == []


def test_emr_serverless_runs_start_on_each_application_the_definition_names_and_no_other() -> None:
    document = grants("EMRServerless")
    for application in APPLICATIONS:
        assert allowing(document, "emr-serverless:StartJobRun", arn(f"/applications/{application}", "emr-serverless")) == ["EmrServerlessJobRuns"]
        for action in ("emr-serverless:CancelJobRun", "emr-serverless:GetJobRun"):
            assert allowing(document, action, arn(f"/applications/{application}/jobruns/00run", "emr-serverless")) == ["EmrServerlessJobRunStatus"]
            assert allowing(document, action, arn(f"/applications/{application}", "emr-serverless")) == []
        assert allowing(document, "emr-serverless:StartJobRun", arn(f"/applications/{application}/jobruns/00run", "emr-serverless")) == []
    assert allowing(document, "emr-serverless:StartJobRun", arn("/applications/00f0cccc", "emr-serverless")) == []
    assert allowing(document, "emr-serverless:GetJobRun", arn("/applications/00f0cccc/jobruns/00run", "emr-serverless")) == []
    assert allowing(document, "emr-serverless:StopApplication", arn(f"/applications/{APPLICATIONS[0]}", "emr-serverless")) == []


@pytest.mark.parametrize(
    ("role", "service", "sids"),
    [
        (ROLE_ARN, "emr-serverless.amazonaws.com", ["PassOnlyItselfToEmrServerless"]),
        (ROLE_ARN, "sagemaker.amazonaws.com", []),
        (ROLE_ARN, None, []),
        (f"arn:aws:iam::{ACCOUNT}:role/smp-prod-other-exec", "emr-serverless.amazonaws.com", []),
    ],
)
def test_emr_serverless_is_passed_only_this_role(role: str, service: str | None, sids: list[str]) -> None:
    context = {} if service is None else {"iam:PassedToService": service}
    assert allowing(grants("EMRServerless"), "iam:PassRole", role, **context) == sids


def test_a_definition_with_every_step_type_is_granted_each_statement_once() -> None:
    every = ("Processing", "Training", "Transform", "Model", "RegisterModel", "EndpointConfig", "Endpoint", "InferenceComponent", "Lineage", "Tuning", "EMR", "EMRServerless")
    assert [s["Sid"] for s in grants(*every)[0]["Statement"]] == [
        "ProcessingJobs",
        "TrainingJobs",
        "TransformJobs",
        "Models",
        "ModelRegistryRead",
        "ModelRegistry",
        "EndpointConfigs",
        "Endpoints",
        "InferenceComponents",
        "Lineage",
        "LineageLookups",
        "TuningJobs",
        "OwnTuningJobs",
        "EmrSteps",
        "EmrServerlessJobRuns",
        "EmrServerlessJobRunStatus",
        "PassOnlyItselfToEmrServerless",
    ]
