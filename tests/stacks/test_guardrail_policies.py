"""What a synthesized pipeline execution role may and may not do, decided by an offline IAM evaluator.

Each Deny gets a violating request (denied) beside a compliant one (allowed), evaluated against the
role's real identity policies (from every stack), its permission boundary and its own tags.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from support.environments import app_context
import app as cdk_app
from base.config import parse_environment
from pipeline_defs.contract import NETWORK_ISOLATION_EXEMPTION_TAG
from support.assembly import Assembly
from support.iam_evaluator import Decision, Request, matching_sids
from support.roles import RoleUnderTest, role_under_test


PIPELINE = "train-evaluate-register"


@pytest.fixture(scope="module")
def sandbox(assembly: Assembly) -> RoleUnderTest:
    return role_under_test(assembly, "sandbox", PIPELINE)


@pytest.fixture(scope="module")
def other_sandbox_pipeline(assembly: Assembly) -> RoleUnderTest:
    return role_under_test(assembly, "sandbox", "lambda-data-passing")


@pytest.fixture(scope="module")
def prod(assembly: Assembly) -> RoleUnderTest:
    return role_under_test(assembly, "prod", PIPELINE)


@pytest.fixture(scope="module")
def exempting(tmp_path_factory: pytest.TempPathFactory) -> tuple[RoleUnderTest, RoleUnderTest]:
    """An environment whose settings exempt one pipeline from network isolation: its role, another's."""
    outdir = tmp_path_factory.mktemp("exempting")
    app = cdk.App(
        outdir=str(outdir),
        context={**app_context(), "environments": {"lab": {"networkIsolationExemptions": [{"pipeline": f"smp-lab-{PIPELINE}", "reason": "pulls packages", "owner": "ml-platform", "expires": "2099-12-31"}]}}},
    )
    cdk_app.build_app(app=app)
    app.synth()
    assembly = Assembly(outdir)
    return role_under_test(assembly, "lab", PIPELINE), role_under_test(assembly, "lab", "lambda-data-passing")


def test_compliant_training_job_is_allowed(sandbox: RoleUnderTest) -> None:
    request = sandbox.training_job()
    assert sandbox.decide(request) is Decision.ALLOW, matching_sids(sandbox.identity + [sandbox.boundary], request, effect="Deny")


@pytest.mark.parametrize(
    ("overrides", "deny_sid"),
    [
        ({"sagemaker_VpcSubnets": None, "sagemaker_VpcSecurityGroupIds": None}, "DenyJobsOutsideVpc"),
        ({"sagemaker_VolumeKmsKey": None}, "DenyJobsWithoutVolumeKmsKey"),
        ({"sagemaker_OutputKmsKey": None}, "DenyJobsWithoutOutputKmsKey"),
        ({"sagemaker_InterContainerTrafficEncryption": "false"}, "DenyUnencryptedInterContainerTraffic"),
        ({"sagemaker_InterContainerTrafficEncryption": None}, "DenyUnencryptedInterContainerTraffic"),
        ({"sagemaker_NetworkIsolation": "false"}, "DenyJobsWithoutNetworkIsolation"),
        ({"sagemaker_InstanceTypes": ["ml.p4d.24xlarge"]}, "DenyInstanceTypesOutsideAllowlist"),
        ({"sagemaker_InstanceTypes": ["ml.m5.xlarge", "ml.p3.16xlarge"]}, "DenyInstanceTypesOutsideAllowlist"),
        ({"aws_RequestTag__CostCenter": None}, "DenyCreatesWithoutTheCostTag"),
        ({"aws_RequestTag__CostCenter": "someone-else"}, "DenyCreatesWithoutTheCostTag"),
        ({"sagemaker_InstanceTypes": None}, "DenyJobsWithoutInstanceTypes"),
        ({"sagemaker_VolumeKmsKey": None, "sagemaker_InstanceTypes": ["ml.g5.xlarge", "ml.m5.xlarge"]}, "DenyJobsWithoutVolumeKmsKey"),
        ({"sagemaker_MaxRuntimeInSeconds": "86401"}, "DenyJobsAboveRuntimeCap"),
    ],
    ids=[
        "no-vpc", "no-volume-key", "no-output-key", "ict-off", "ict-unset", "isolation-off", "instance-type", "one-bad-instance",
        "no-cost-tag", "wrong-cost-tag", "no-instance-types", "mixed-nvme-without-volume-key", "runtime-above-cap",
    ],
)
def test_each_job_guardrail_denies_its_violation(sandbox: RoleUnderTest, overrides: dict, deny_sid: str) -> None:
    request = sandbox.training_job(**overrides)
    assert sandbox.decide(request) is Decision.EXPLICIT_DENY
    assert deny_sid in matching_sids(sandbox.every_policy, request, effect="Deny")


def test_the_compliant_neighbours_of_each_hardened_deny_stay_allowed(sandbox: RoleUnderTest) -> None:
    """At the cap, every type NVMe, the right cost tag: each must pass, so a Deny is no blanket refusal."""
    assert sandbox.decide(sandbox.training_job(sagemaker_MaxRuntimeInSeconds="86400")) is Decision.ALLOW
    nvme_only = sandbox.training_job(sagemaker_VolumeKmsKey=None, sagemaker_InstanceTypes=["ml.m5d.xlarge"])
    assert matching_sids(sandbox.every_policy, nvme_only, effect="Deny") == ["DenyInstanceTypesOutsideAllowlist"]


def _tagging(role: RoleUnderTest, action: str, **context: object) -> Request:
    return Request(action=action, resource=role.arn(f"training-job/{role.prefix}-abalone-train-a1b2c3"), context=context)


def test_the_cost_tag_cannot_be_changed_or_removed_after_creation(sandbox: RoleUnderTest) -> None:
    every = sandbox.every_policy
    retag = _tagging(sandbox, "sagemaker:AddTags", **{"aws:TagKeys": ["CostCenter"], "aws:RequestTag/CostCenter": "free"})
    same = _tagging(sandbox, "sagemaker:AddTags", **{"aws:TagKeys": ["CostCenter"], "aws:RequestTag/CostCenter": sandbox.principal_tags["CostCenter"]})
    other_tag = _tagging(sandbox, "sagemaker:AddTags", **{"aws:TagKeys": ["Owner"], "aws:RequestTag/Owner": "team-a"})
    mixed = _tagging(sandbox, "sagemaker:AddTags", **{"aws:TagKeys": ["Owner", "CostCenter"], "aws:RequestTag/Owner": "a", "aws:RequestTag/CostCenter": "free"})
    remove = _tagging(sandbox, "sagemaker:DeleteTags", **{"aws:TagKeys": ["Owner", "CostCenter"]})
    remove_other = _tagging(sandbox, "sagemaker:DeleteTags", **{"aws:TagKeys": ["Owner"]})
    assert matching_sids(every, retag, effect="Deny") == ["DenyChangingTheCostTag"]
    assert matching_sids(every, mixed, effect="Deny") == ["DenyChangingTheCostTag"]
    assert matching_sids(every, remove, effect="Deny") == ["DenyRemovingTheCostTag"]
    for allowed in (same, other_tag, remove_other):
        assert matching_sids(every, allowed, effect="Deny") == [], allowed


def test_a_transform_job_runs_only_this_environments_models(sandbox: RoleUnderTest) -> None:
    def transform(model: str | None) -> Request:
        context = {k: v for k, v in sandbox.job_context().items() if "Vpc" not in k and "Isolation" not in k and "InterContainer" not in k}
        if model is not None:
            context["sagemaker:ModelArn"] = sandbox.arn(f"model/{model}")
        return Request(action="sagemaker:CreateTransformJob", resource=sandbox.arn(f"transform-job/{sandbox.prefix}-abalone-transform-x1"), context=context)

    assert sandbox.decide(transform(f"{sandbox.prefix}-abalone-model-x1")) is Decision.ALLOW
    for foreign in ("smp-prod-abalone-model-x1", "someone-elses-model", None):
        request = transform(foreign)
        assert sandbox.decide(request) is Decision.EXPLICIT_DENY, foreign
        assert matching_sids(sandbox.every_policy, request, effect="Deny") == ["DenyTransformOfModelsOutsideEnvironment"]


def test_foreign_subnet_and_security_group_are_denied(sandbox: RoleUnderTest) -> None:
    foreign_subnet = sandbox.training_job(sagemaker_VpcSubnets=[sandbox.subnet_ids[0], "subnet-0f0f0f0f0f0f0f0f0"])
    foreign_group = sandbox.training_job(sagemaker_VpcSecurityGroupIds=["sg-0f0f0f0f0f0f0f0f0"])
    assert sandbox.decide(foreign_subnet) is Decision.EXPLICIT_DENY
    assert sandbox.decide(foreign_group) is Decision.EXPLICIT_DENY
    assert matching_sids(sandbox.identity, foreign_subnet, effect="Deny") == ["DenyForeignSubnets"]
    assert matching_sids(sandbox.identity, foreign_group, effect="Deny") == ["DenyForeignSecurityGroups"]
    # One of the environment's own subnets alone is fine.
    assert sandbox.decide(sandbox.training_job(sagemaker_VpcSubnets=[sandbox.subnet_ids[1]])) is Decision.ALLOW


def test_nvme_instance_needs_no_volume_key_but_others_do(prod: RoleUnderTest) -> None:
    nvme = prod.training_job(sagemaker_VolumeKmsKey=None, sagemaker_InstanceTypes=["ml.g4dn.xlarge"])
    ebs = prod.training_job(sagemaker_VolumeKmsKey=None, sagemaker_InstanceTypes=["ml.m5.xlarge"])
    assert prod.decide(nvme) is Decision.ALLOW
    assert prod.decide(ebs) is Decision.EXPLICIT_DENY


def test_processing_transform_and_model_requests(sandbox: RoleUnderTest) -> None:
    processing = Request(
        action="sagemaker:CreateProcessingJob",
        resource=sandbox.arn(f"processing-job/{sandbox.prefix}-abalone-preprocess-x1"),
        context=sandbox.job_context(),
    )
    transform = Request(
        action="sagemaker:CreateTransformJob",
        resource=sandbox.arn(f"transform-job/{sandbox.prefix}-abalone-transform-x1"),
        context={
            **{k: v for k, v in sandbox.job_context().items() if "Vpc" not in k and "Isolation" not in k and "InterContainer" not in k},
            "sagemaker:ModelArn": sandbox.arn(f"model/{sandbox.prefix}-abalone-model-x1"),
        },
    )
    model_outside_vpc = Request(
        action="sagemaker:CreateModel",
        resource=sandbox.arn(f"model/{sandbox.prefix}-abalone-model-x1"),
        context={"sagemaker:NetworkIsolation": "true", "aws:RequestTag/CostCenter": "ml-platform"},
    )
    assert sandbox.decide(processing) is Decision.ALLOW
    assert sandbox.decide(transform) is Decision.ALLOW
    assert sandbox.decide(model_outside_vpc) is Decision.EXPLICIT_DENY


def test_jobs_of_other_environments_are_not_granted(sandbox: RoleUnderTest) -> None:
    request = Request(
        action="sagemaker:CreateTrainingJob",
        resource=sandbox.arn("training-job/smp-prod-abalone-train-a1b2c3"),
        context=sandbox.job_context(),
    )
    assert sandbox.decide(request) is Decision.IMPLICIT_DENY


def test_create_pipeline_and_experiment_are_not_caught_by_the_guardrails(sandbox: RoleUnderTest) -> None:
    create_pipeline = Request(action="sagemaker:CreatePipeline", resource=sandbox.arn(f"pipeline/{sandbox.prefix}-abalone"))
    create_experiment = Request(action="sagemaker:CreateExperiment", resource=sandbox.arn(f"experiment/{sandbox.prefix}-abalone"))
    create_trial = Request(action="sagemaker:CreateTrial", resource=sandbox.arn(f"experiment-trial/{sandbox.prefix}-0abc123def"))
    every = sandbox.identity + [sandbox.boundary]
    for request in (create_pipeline, create_experiment, create_trial):
        assert matching_sids(every, request, effect="Deny") == []
    # The boundary leaves room for the upsert function's CreatePipeline; the execution role itself has no grant.
    assert matching_sids([sandbox.boundary], create_pipeline, effect="Allow") == ["Ceiling"]
    assert sandbox.decide(create_pipeline) is Decision.IMPLICIT_DENY
    assert sandbox.decide(create_experiment) is Decision.ALLOW
    assert sandbox.decide(create_trial) is Decision.ALLOW


def test_pass_role_only_itself_only_to_sagemaker(sandbox: RoleUnderTest, other_sandbox_pipeline: RoleUnderTest) -> None:
    itself = {"iam:PassedToService": "sagemaker.amazonaws.com"}
    assert sandbox.decide(Request(action="iam:PassRole", resource=sandbox.role_arn, context=itself)) is Decision.ALLOW
    assert sandbox.decide(Request(action="iam:PassRole", resource=other_sandbox_pipeline.role_arn, context=itself)) is Decision.IMPLICIT_DENY
    to_lambda = {"iam:PassedToService": "lambda.amazonaws.com"}
    assert sandbox.decide(Request(action="iam:PassRole", resource=sandbox.role_arn, context=to_lambda)) is Decision.IMPLICIT_DENY


def test_data_access_is_limited_to_the_pipelines_own_prefix_and_the_environment_key(sandbox: RoleUnderTest) -> None:
    own_object = Request(action="s3:GetObject", resource=f"{sandbox.bucket_arn}/{sandbox.pipeline}/run-1/evaluation.json")
    own_output = Request(action="s3:PutObject", resource=f"{sandbox.bucket_arn}/{sandbox.pipeline}/run-1/model.tar.gz")
    other_pipeline = Request(action="s3:GetObject", resource=f"{sandbox.bucket_arn}/smp-sandbox-lambda-data-passing/run-1/x.json")
    other_pipeline_write = Request(action="s3:PutObject", resource=f"{sandbox.bucket_arn}/smp-sandbox-lambda-data-passing/code/x.py")
    other_bucket = Request(action="s3:GetObject", resource="arn:aws:s3:::someone-elses-bucket/data.csv")
    other_key = Request(action="kms:Decrypt", resource=f"arn:aws:kms:{sandbox.region}:{sandbox.account}:key/other")
    assert sandbox.decide(own_object) is Decision.ALLOW
    assert sandbox.decide(own_output) is Decision.ALLOW
    for refused in (other_pipeline, other_pipeline_write, other_bucket, other_key):
        assert sandbox.decide(refused) is Decision.IMPLICIT_DENY, refused
    assert sandbox.decide(Request(action="kms:Decrypt", resource=sandbox.key_arn)) is Decision.ALLOW


def test_listing_is_limited_to_the_pipelines_own_prefix(sandbox: RoleUnderTest) -> None:
    def listing(prefix: str) -> Request:
        return Request(action="s3:ListBucket", resource=sandbox.bucket_arn, context={"s3:prefix": prefix})

    assert sandbox.decide(listing(f"{sandbox.pipeline}/run-1/")) is Decision.ALLOW
    assert sandbox.decide(listing("smp-sandbox-lambda-data-passing/")) is Decision.IMPLICIT_DENY
    assert sandbox.decide(listing("")) is Decision.IMPLICIT_DENY


def test_a_job_cannot_change_the_code_its_pipeline_runs(sandbox: RoleUnderTest, assembly: Assembly) -> None:
    definition = json.loads(assembly.definition_file(pipeline=sandbox.pipeline).read_text())
    code = sorted(_code_keys(definition, bucket=sandbox.bucket_arn.rsplit(":", 1)[-1]))
    assert code, "the pipeline runs job files from the artifact bucket"
    for key in code:
        for action in ("s3:PutObject", "s3:DeleteObject"):
            request = Request(action=action, resource=f"{sandbox.bucket_arn}/{key}")
            assert sandbox.decide(request) is Decision.EXPLICIT_DENY, key
            assert matching_sids(sandbox.identity, request, effect="Deny") == ["ProtectOwnCode"]
        assert sandbox.decide(Request(action="s3:GetObject", resource=f"{sandbox.bucket_arn}/{key}")) is Decision.ALLOW


def _code_keys(definition: dict, *, bucket: str) -> set[str]:
    """Object keys of job files a definition names (``s3://<bucket>/...`` strings ending in a file name)."""
    keys = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and value.startswith("s3://") and "/code/" in value and value.endswith(".py"):
            keys.add(value.split("/", 3)[3])

    walk(definition)
    return keys


def test_metrics_only_in_sagemaker_namespaces(sandbox: RoleUnderTest) -> None:
    ok = Request(action="cloudwatch:PutMetricData", resource="*", context={"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"})
    other = Request(action="cloudwatch:PutMetricData", resource="*", context={"cloudwatch:namespace": "Billing"})
    assert sandbox.decide(ok) is Decision.ALLOW
    assert sandbox.decide(other) is Decision.IMPLICIT_DENY


def test_network_isolation_exemption_is_keyed_to_the_pipelines_role(exempting: tuple[RoleUnderTest, RoleUnderTest]) -> None:
    exempt_role, other_role = exempting
    tag = f"aws_RequestTag__{NETWORK_ISOLATION_EXEMPTION_TAG}"
    assert exempt_role.decide(exempt_role.training_job(sagemaker_NetworkIsolation="false")) is Decision.ALLOW
    assert other_role.decide(other_role.training_job(sagemaker_NetworkIsolation="false")) is Decision.EXPLICIT_DENY
    # A request cannot carry the exemption: the tag on the job itself changes nothing.
    forged = other_role.training_job(sagemaker_NetworkIsolation="false", **{tag: "true"})
    assert other_role.decide(forged) is Decision.EXPLICIT_DENY
    assert exempt_role.principal_tags[NETWORK_ISOLATION_EXEMPTION_TAG] == "true"
    assert NETWORK_ISOLATION_EXEMPTION_TAG not in other_role.principal_tags


def test_trust_policy_requires_source_account(assembly: Assembly) -> None:
    stack = assembly.stack(f"smp-sandbox-pipeline-{PIPELINE}")
    role = stack.template["Resources"][stack.logical_id("AWS::IAM::Role", "ExecutionRole/Role")]["Properties"]
    (statement,) = assembly.resolve(stack, role["AssumeRolePolicyDocument"])["Statement"]
    assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": stack.account}}


def test_a_pipeline_registers_model_versions_but_never_approves_them(sandbox: RoleUnderTest) -> None:
    group = sandbox.arn(f"model-package-group/{sandbox.prefix}-abalone")
    version = sandbox.arn(f"model-package/{sandbox.prefix}-abalone/3")
    register = Request("sagemaker:CreateModelPackage", version, {"aws:RequestTag/CostCenter": sandbox.principal_tags["CostCenter"]})
    assert sandbox.decide(register) is Decision.ALLOW
    assert sandbox.decide(Request("sagemaker:DescribeModelPackageGroup", group)) is Decision.ALLOW
    approve = Request("sagemaker:UpdateModelPackage", version, {"sagemaker:ModelApprovalStatus": "Approved"})
    assert sandbox.decide(approve) is Decision.IMPLICIT_DENY


def test_experiments_and_trials_of_other_environments_are_refused(sandbox: RoleUnderTest, prod: RoleUnderTest) -> None:
    own_trial = sandbox.arn(f"experiment-trial/{sandbox.prefix}-0abc123def")
    for action, resource in (
        ("sagemaker:CreateExperiment", f"experiment/{sandbox.pipeline}"),
        ("sagemaker:CreateTrial", f"experiment-trial/{sandbox.prefix}-0abc123def"),
        ("sagemaker:UpdateTrialComponent", f"experiment-trial-component/{sandbox.prefix}-abalone-train-a1b2-aws-training-job"),
    ):
        assert sandbox.decide(Request(action=action, resource=sandbox.arn(resource))) is Decision.ALLOW, action
        foreign = resource.replace(sandbox.prefix, prod.prefix)
        assert sandbox.decide(Request(action=action, resource=sandbox.arn(foreign))) is Decision.IMPLICIT_DENY, (action, foreign)
    # A trial named after the bare execution id, as the SDK's default names it, is outside every environment.
    assert sandbox.decide(Request(action="sagemaker:CreateTrial", resource=sandbox.arn("experiment-trial/0abc123def"))) is Decision.IMPLICIT_DENY
    # SageMaker names a tuning job's training jobs itself: their components may be joined to this
    # environment's trials (the action authorizes both), never to another's, and never changed.
    tuner_component = sandbox.arn("experiment-trial-component/0abc123def-001-9f8e7d6c-aws-training-job")
    for resource in (own_trial, tuner_component):
        assert sandbox.decide(Request(action="sagemaker:AssociateTrialComponent", resource=resource)) is Decision.ALLOW
    foreign_trial = sandbox.arn(f"experiment-trial/{prod.prefix}-0abc123def")
    assert sandbox.decide(Request(action="sagemaker:AssociateTrialComponent", resource=foreign_trial)) is Decision.IMPLICIT_DENY
    assert sandbox.decide(Request(action="sagemaker:UpdateTrialComponent", resource=tuner_component)) is Decision.IMPLICIT_DENY


def _ec2(role: RoleUnderTest, resource: str) -> str:
    return f"arn:aws:ec2:{role.region}:{role.account}:{resource}"


def test_job_network_interfaces_only_in_the_environments_subnets(sandbox: RoleUnderTest, prod: RoleUnderTest) -> None:
    interface = _ec2(sandbox, "network-interface/eni-0123456789abcdef0")
    own_subnets = [_ec2(sandbox, f"subnet/{subnet}") for subnet in sandbox.subnet_ids]
    foreign_subnet = _ec2(sandbox, "subnet/subnet-0foreign")
    # CreateNetworkInterface is authorized on the new interface, its subnet and its security groups.
    for resource in (_ec2(sandbox, "network-interface/*"), *own_subnets, _ec2(sandbox, f"security-group/{sandbox.job_security_group_id}")):
        assert sandbox.decide(Request(action="ec2:CreateNetworkInterface", resource=resource)) is Decision.ALLOW, resource
    for resource in (foreign_subnet, _ec2(sandbox, "security-group/sg-0foreign"), _ec2(prod, f"subnet/{prod.subnet_ids[0]}")):
        assert sandbox.decide(Request(action="ec2:CreateNetworkInterface", resource=resource)) is Decision.IMPLICIT_DENY, resource
    for action in ("ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"):
        for subnet in own_subnets:
            assert sandbox.decide(Request(action=action, resource=interface, context={"ec2:Subnet": subnet})) is Decision.ALLOW
        for context in ({"ec2:Subnet": foreign_subnet}, {}):
            assert sandbox.decide(Request(action=action, resource=interface, context=context)) is Decision.IMPLICIT_DENY, (action, context)
    assert sandbox.decide(Request(action="ec2:DescribeSubnets", resource="*")) is Decision.ALLOW
    assert sandbox.decide(Request(action="ec2:AttachNetworkInterface", resource=interface, context={"ec2:Subnet": own_subnets[0]})) is Decision.IMPLICIT_DENY


def test_no_run_registers_an_approved_version(sandbox: RoleUnderTest) -> None:
    version = sandbox.arn(f"model-package/{sandbox.prefix}-abalone/3")
    context = {"aws:RequestTag/CostCenter": sandbox.principal_tags["CostCenter"]}

    def register(status: str | None) -> Request:
        keys = {} if status is None else {"sagemaker:ModelApprovalStatus": status}
        return Request(action="sagemaker:CreateModelPackage", resource=version, context={**context, **keys})

    # Absent: SageMaker registers the version as PendingManualApproval.
    for allowed in (register(None), register("PendingManualApproval"), register("Rejected")):
        assert sandbox.decide(allowed) is Decision.ALLOW, allowed
    for refused in ("Approved", "approved"):
        request = register(refused)
        assert sandbox.decide(request) is Decision.EXPLICIT_DENY
        assert matching_sids(sandbox.every_policy, request, effect="Deny") == ["DenyRegisteringApprovedVersions"]
