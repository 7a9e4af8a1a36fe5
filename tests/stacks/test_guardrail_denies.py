"""The guardrail Denies every role carries, statement by statement, decided by the offline IAM evaluator: for
each request exactly which Denies apply, with every key absent in turn, mixed lists where one value is
enough to deny, each value at its edge, and the actions each Deny leaves alone."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from base.config import EnvironmentConfig
from pipeline_defs.contract import NETWORK_ISOLATION_EXEMPTION_TAG
from stacks.guardrails.policies import job_guardrail_statements, network_guardrail_statements, serving_guardrail_statements
from support.iam_evaluator import Request, matching_sids
from support.statements import concrete

CONFIG = EnvironmentConfig(name="prod", allowed_instance_types=("ml.m5.xlarge", "ml.m5d.large", "ml.g5.xlarge"), max_job_runtime_hours=2)
SUBNETS, SECURITY_GROUPS = ["subnet-a", "subnet-b"], ["sg-jobs"]
KEY = "arn:aws:kms:eu-west-1:123456789012:key/k"


@pytest.fixture
def boundary() -> list[dict]:
    """Built for each test (cheap), so every test exercises the builders it checks."""
    stack = cdk.Stack(cdk.App(), "Denies")
    statements = (
        job_guardrail_statements(config=CONFIG)
        + serving_guardrail_statements(config=CONFIG)
        + network_guardrail_statements(subnet_ids=SUBNETS, security_group_ids=SECURITY_GROUPS)
    )
    return [{"Statement": [concrete(stack.resolve(statement.to_statement_json())) for statement in statements]}]


def _context(**overrides: Any) -> dict:
    """A job request that keeps every guardrail; an override sets a key, None drops it."""
    context: dict[str, Any] = {
        "sagemaker:VpcSubnets": list(SUBNETS),
        "sagemaker:VpcSecurityGroupIds": list(SECURITY_GROUPS),
        "sagemaker:VolumeKmsKey": KEY,
        "sagemaker:OutputKmsKey": KEY,
        "sagemaker:InterContainerTrafficEncryption": "true",
        "sagemaker:NetworkIsolation": "true",
        "sagemaker:InstanceTypes": ["ml.m5.xlarge"],
        "sagemaker:MaxRuntimeInSeconds": "3600",
        "sagemaker:ModelArn": "arn:aws:sagemaker:eu-west-1:123456789012:model/smp-prod-abalone",
        "aws:RequestTag/CostCenter": "ml-platform",
        "aws:TagKeys": ["CostCenter"],
    }
    for key, value in overrides.items():
        if value is None:
            context.pop(key, None)
        else:
            context[key] = value
    return context


def _denies(boundary: list[dict], action: str, **overrides: Any) -> list[str]:
    action = action if ":" in action else f"sagemaker:{action}"
    request = Request(action=action, resource="arn:aws:sagemaker:eu-west-1:123456789012:training-job/smp-prod-x", context=_context(**overrides))
    return sorted(matching_sids(boundary, request, effect="Deny"))


@pytest.mark.parametrize("action", ["CreateTrainingJob", "CreateProcessingJob", "CreateHyperParameterTuningJob", "CreateTransformJob", "CreateModel"])
def test_a_job_keeping_every_guardrail_is_denied_nothing(boundary: list[dict], action: str) -> None:
    assert _denies(boundary, action) == []


@pytest.mark.parametrize(
    ("absent", "training", "transform", "model"),
    [
        ("sagemaker:VpcSubnets", ["DenyJobsOutsideVpc"], [], ["DenyJobsOutsideVpc"]),
        ("sagemaker:VpcSecurityGroupIds", [], [], []),
        ("sagemaker:VolumeKmsKey", ["DenyJobsWithoutVolumeKmsKey"], ["DenyJobsWithoutVolumeKmsKey"], []),
        ("sagemaker:OutputKmsKey", ["DenyJobsWithoutOutputKmsKey"], ["DenyJobsWithoutOutputKmsKey"], []),
        ("sagemaker:InstanceTypes", ["DenyJobsWithoutInstanceTypes"], ["DenyJobsWithoutInstanceTypes"], []),
        ("sagemaker:InterContainerTrafficEncryption", ["DenyUnencryptedInterContainerTraffic"], [], []),
        ("sagemaker:NetworkIsolation", ["DenyJobsWithoutNetworkIsolation"], [], ["DenyJobsWithoutNetworkIsolation"]),
        ("sagemaker:ModelArn", [], ["DenyTransformOfModelsOutsideEnvironment"], []),
        ("aws:RequestTag/CostCenter", ["DenyCreatesWithoutTheCostTag"], ["DenyCreatesWithoutTheCostTag"], ["DenyCreatesWithoutTheCostTag"]),
    ],
)
def test_each_absent_key_is_denied_by_its_own_deny_for_the_actions_that_carry_it(boundary: list[dict], absent: str, training: list, transform: list, model: list) -> None:
    assert _denies(boundary, "CreateTrainingJob", **{absent: None}) == training
    assert _denies(boundary, "CreateProcessingJob", **{absent: None}) == training
    assert _denies(boundary, "CreateHyperParameterTuningJob", **{absent: None}) == training
    assert _denies(boundary, "CreateTransformJob", **{absent: None}) == transform
    assert _denies(boundary, "CreateModel", **{absent: None}) == model


@pytest.mark.parametrize(
    ("overrides", "denied"),
    [
        ({"sagemaker:VpcSubnets": ["subnet-a", "subnet-x"]}, ["DenyForeignSubnets"]),
        ({"sagemaker:VpcSubnets": ["subnet-b"]}, []),
        ({"sagemaker:VpcSecurityGroupIds": ["sg-jobs", "sg-open"]}, ["DenyForeignSecurityGroups"]),
        ({"sagemaker:InstanceTypes": ["ml.m5.xlarge", "ml.p4d.24xlarge"]}, ["DenyInstanceTypesOutsideAllowlist"]),
        ({"sagemaker:InstanceTypes": ["ml.m5d.large", "ml.g5.xlarge"], "sagemaker:VolumeKmsKey": None}, []),
        ({"sagemaker:InstanceTypes": ["ml.m5d.large", "ml.m5.xlarge"], "sagemaker:VolumeKmsKey": None}, ["DenyJobsWithoutVolumeKmsKey"]),
        ({"sagemaker:InterContainerTrafficEncryption": "false"}, ["DenyUnencryptedInterContainerTraffic"]),
        ({"sagemaker:NetworkIsolation": "false"}, ["DenyJobsWithoutNetworkIsolation"]),
        ({"sagemaker:NetworkIsolation": "false", f"aws:PrincipalTag/{NETWORK_ISOLATION_EXEMPTION_TAG}": "true"}, []),
        ({"sagemaker:NetworkIsolation": "false", f"aws:PrincipalTag/{NETWORK_ISOLATION_EXEMPTION_TAG}": "yes"}, ["DenyJobsWithoutNetworkIsolation"]),
        ({"sagemaker:NetworkIsolation": "false", f"aws:RequestTag/{NETWORK_ISOLATION_EXEMPTION_TAG}": "true"}, ["DenyJobsWithoutNetworkIsolation"]),
        ({"sagemaker:MaxRuntimeInSeconds": "7200"}, []),
        ({"sagemaker:MaxRuntimeInSeconds": "7201"}, ["DenyJobsAboveRuntimeCap"]),
        ({"aws:RequestTag/CostCenter": "someone-else"}, ["DenyCreatesWithoutTheCostTag"]),
    ],
)
def test_a_training_job_outside_a_guardrail_is_denied_by_exactly_that_deny(boundary: list[dict], overrides: dict, denied: list[str]) -> None:
    assert _denies(boundary, "CreateTrainingJob", **overrides) == denied


@pytest.mark.parametrize(
    ("model", "denied"),
    [
        ("arn:aws:sagemaker:eu-west-1:123456789012:model/smp-prod-abalone", []),
        ("arn:aws:sagemaker:eu-west-1:123456789012:model/smp-sandbox-abalone", ["DenyTransformOfModelsOutsideEnvironment"]),
        ("arn:aws:sagemaker:eu-west-1:210987654321:model/smp-prod-abalone", ["DenyTransformOfModelsOutsideEnvironment"]),
        ("arn:aws:sagemaker:us-east-1:123456789012:model/smp-prod-abalone", ["DenyTransformOfModelsOutsideEnvironment"]),
        ("arn:aws-cn:sagemaker:eu-west-1:123456789012:model/smp-prod-abalone", ["DenyTransformOfModelsOutsideEnvironment"]),
    ],
)
def test_a_transform_runs_only_models_of_its_own_environment(boundary: list[dict], model: str, denied: list[str]) -> None:
    assert _denies(boundary, "CreateTransformJob", **{"sagemaker:ModelArn": model}) == denied
    assert _denies(boundary, "CreateTrainingJob", **{"sagemaker:ModelArn": model}) == []


@pytest.mark.parametrize(
    ("action", "overrides", "denied"),
    [
        ("AddTags", {"aws:TagKeys": ["Team"], "aws:RequestTag/CostCenter": None}, []),
        ("AddTags", {"aws:TagKeys": ["Team", "CostCenter"], "aws:RequestTag/CostCenter": "other"}, ["DenyChangingTheCostTag"]),
        ("AddTags", {"aws:TagKeys": ["CostCenter"], "aws:RequestTag/CostCenter": None}, ["DenyChangingTheCostTag"]),
        ("AddTags", {"aws:TagKeys": ["CostCenter"]}, []),
        ("DeleteTags", {"aws:TagKeys": ["Team"]}, []),
        ("DeleteTags", {"aws:TagKeys": ["Team", "CostCenter"]}, ["DenyRemovingTheCostTag"]),
    ],
)
def test_the_cost_tag_can_be_neither_changed_nor_removed(boundary: list[dict], action: str, overrides: dict, denied: list[str]) -> None:
    assert _denies(boundary, action, **overrides) == denied


@pytest.mark.parametrize("action", ["CreatePipeline", "CreateExperiment", "CreateTrial", "StartPipelineExecution", "CreateModelPackage"])
def test_actions_that_never_carry_the_keys_are_left_alone(boundary: list[dict], action: str) -> None:
    request = Request(action=f"sagemaker:{action}", resource="arn:aws:sagemaker:eu-west-1:123456789012:pipeline/smp-prod-x", context={})
    assert matching_sids(boundary, request, effect="Deny") == []


def test_every_deny_covers_every_resource(boundary: list[dict]) -> None:
    assert {statement["Sid"]: (statement["Effect"], statement["Resource"]) for statement in boundary[0]["Statement"]} == {
        sid: ("Deny", "*")
        for sid in (
            "DenyJobsOutsideVpc",
            "DenyJobsWithoutVolumeKmsKey",
            "DenyJobsWithoutInstanceTypes",
            "DenyJobsWithoutOutputKmsKey",
            "DenyUnencryptedInterContainerTraffic",
            "DenyJobsWithoutNetworkIsolation",
            "DenyInstanceTypesOutsideAllowlist",
            "DenyJobsAboveRuntimeCap",
            "DenyTransformOfModelsOutsideEnvironment",
            "DenyCreatesWithoutTheCostTag",
            "DenyChangingTheCostTag",
            "DenyRemovingTheCostTag",
            "DenyEndpointConfigsWithoutVolumeKmsKey",
            "DenyEndpointInstanceTypesOutsideAllowlist",
            "DenyEndpointConfigsWithoutNetworkIsolation",
            "DenyServingModelsOutsideEnvironment",
            "DenyRegisteringApprovedVersions",
            "DenyServingCreatesWithoutTheCostTag",
            "DenyForeignSubnets",
            "DenyForeignSecurityGroups",
        )
    }


SERVING_CONTEXT = {"sagemaker:VpcSubnets": None, "sagemaker:VpcSecurityGroupIds": None, "sagemaker:NetworkIsolation": None}


@pytest.mark.parametrize(
    ("overrides", "denied"),
    [
        ({}, []),
        ({"sagemaker:VolumeKmsKey": None}, ["DenyEndpointConfigsWithoutVolumeKmsKey"]),
        ({"sagemaker:VolumeKmsKey": None, "sagemaker:InstanceTypes": ["ml.m5d.large"]}, []),
        ({"sagemaker:VolumeKmsKey": None, "sagemaker:InstanceTypes": ["ml.m5d.large", "ml.m5.xlarge"]}, ["DenyEndpointConfigsWithoutVolumeKmsKey"]),
        ({"sagemaker:InstanceTypes": ["ml.m5.xlarge", "ml.p4d.24xlarge"]}, ["DenyEndpointInstanceTypesOutsideAllowlist"]),
        ({"sagemaker:NetworkIsolation": "false"}, ["DenyEndpointConfigsWithoutNetworkIsolation"]),
        ({"sagemaker:NetworkIsolation": "false", f"aws:PrincipalTag/{NETWORK_ISOLATION_EXEMPTION_TAG}": "true"}, []),
        ({"sagemaker:NetworkIsolation": "true"}, []),
        ({"sagemaker:ModelArn": None}, ["DenyServingModelsOutsideEnvironment"]),
        ({"sagemaker:ModelArn": "arn:aws:sagemaker:eu-west-1:123456789012:model/smp-sandbox-abalone"}, ["DenyServingModelsOutsideEnvironment"]),
        ({"aws:RequestTag/CostCenter": None}, ["DenyServingCreatesWithoutTheCostTag"]),
        ({"aws:RequestTag/CostCenter": "someone-else"}, ["DenyServingCreatesWithoutTheCostTag"]),
        ({"sagemaker:VpcSubnets": ["subnet-x"]}, ["DenyForeignSubnets"]),
    ],
)
def test_an_endpoint_config_outside_a_guardrail_is_denied_by_exactly_that_deny(boundary: list[dict], overrides: dict, denied: list[str]) -> None:
    assert _denies(boundary, "CreateEndpointConfig", **{**SERVING_CONTEXT, **overrides}) == denied


@pytest.mark.parametrize(
    ("action", "model_checked"),
    [("sagemaker:CreateEndpoint", False), ("sagemaker:CreateInferenceComponent", True), ("emr-serverless:StartJobRun", False)],
)
def test_the_other_serving_creates_need_the_cost_tag_and_their_model(boundary: list[dict], action: str, model_checked: bool) -> None:
    assert _denies(boundary, action, **SERVING_CONTEXT) == []
    assert _denies(boundary, action, **{**SERVING_CONTEXT, "aws:RequestTag/CostCenter": "x"}) == ["DenyServingCreatesWithoutTheCostTag"]
    assert _denies(boundary, action, **{**SERVING_CONTEXT, "sagemaker:ModelArn": None}) == (["DenyServingModelsOutsideEnvironment"] if model_checked else [])
    # The job Denies leave the serving actions alone, and the serving Denies leave the jobs alone.
    assert _denies(boundary, action, **{**SERVING_CONTEXT, "sagemaker:OutputKmsKey": None, "sagemaker:MaxRuntimeInSeconds": "99999"}) == []


@pytest.mark.parametrize(
    ("status", "denied"),
    [
        (None, []),  # SageMaker registers it as PendingManualApproval
        ("PendingManualApproval", []),
        ("Rejected", []),
        ("Approved", ["DenyRegisteringApprovedVersions"]),
        ("approved", ["DenyRegisteringApprovedVersions"]),
        ("Pending", ["DenyRegisteringApprovedVersions"]),
        ("rejected", ["DenyRegisteringApprovedVersions"]),  # the API takes only the exact values
    ],
)
def test_a_registration_never_approves_the_version(boundary: list[dict], status: str | None, denied: list[str]) -> None:
    overrides = {key: None for key in _context()} | {"aws:RequestTag/CostCenter": "ml-platform", "sagemaker:ModelApprovalStatus": status}
    assert _denies(boundary, "CreateModelPackage", **overrides) == denied
    # Only registration carries the status: an endpoint config given the key is not refused for it.
    assert "DenyRegisteringApprovedVersions" not in _denies(boundary, "CreateEndpointConfig", **{"sagemaker:ModelApprovalStatus": "Approved"})
