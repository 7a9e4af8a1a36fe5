"""What the synthesized execution role may and may not do, decided by an offline IAM evaluator.

Each Deny gets a violating request (denied) beside a compliant one (allowed), evaluated against the
role's real identity policies (from every stack) and its permission boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest

from support.environments import app_context
import app as cdk_app
from base.config import parse_environment
from pipeline_defs.contract import NETWORK_ISOLATION_EXEMPTION_TAG
from support.assembly import Assembly, StackTemplate
from support.iam_evaluator import Decision, Request, evaluate, matching_sids


@dataclass
class RoleUnderTest:
    identity: list[dict]
    boundary: dict | None
    role_arn: str
    key_arn: str
    bucket_arn: str
    subnet_ids: list[str]
    job_security_group_id: str
    region: str
    account: str
    prefix: str

    def decide(self, request: Request) -> Decision:
        return evaluate(identity_policies=self.identity, boundary=self.boundary, request=request)

    def arn(self, resource: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account}:{resource}"

    def job_context(self, **overrides: object) -> dict:
        """Request keys of a job that follows every guardrail; overrides set or (with None) drop keys."""
        context = {
            "sagemaker:VpcSubnets": list(self.subnet_ids),
            "sagemaker:VpcSecurityGroupIds": [self.job_security_group_id],
            "sagemaker:VolumeKmsKey": self.key_arn,
            "sagemaker:OutputKmsKey": self.key_arn,
            "sagemaker:InterContainerTrafficEncryption": "true",
            "sagemaker:NetworkIsolation": "true",
            "sagemaker:InstanceTypes": ["ml.m5.xlarge"],
            "aws:RequestTag/CostCenter": "ml-platform",
            "aws:TagKeys": ["CostCenter"],
        }
        for key, value in overrides.items():
            key = key.replace("__", "/").replace("_", ":", 1)
            if value is None:
                context.pop(key, None)
            else:
                context[key] = value
        return context

    def training_job(self, **overrides: object) -> Request:
        return Request(
            action="sagemaker:CreateTrainingJob",
            resource=self.arn(f"training-job/{self.prefix}-abalone-train-a1b2c3"),
            context=self.job_context(**overrides),
        )


def _role_under_test(assembly: Assembly, env: str) -> RoleUnderTest:
    guardrails: StackTemplate = assembly.stack(f"{env}-guardrails")
    network: StackTemplate = assembly.stack(f"{env}-network")
    role_id = guardrails.logical_id("AWS::IAM::Role", "ExecutionRole/Role")
    identity, boundary = assembly.role_policies(guardrails, role_id)
    subnets = sorted(network.resources("AWS::EC2::Subnet"))
    job_sg = network.logical_id("AWS::EC2::SecurityGroup", "JobSecurityGroup")
    key_id = guardrails.logical_id("AWS::KMS::Key", "ArtifactStore/Key")
    bucket_id = guardrails.logical_id("AWS::S3::Bucket", "ArtifactStore/Artifacts")
    return RoleUnderTest(
        identity=identity,
        boundary=boundary,
        role_arn=assembly.resolve(guardrails, {"Fn::GetAtt": [role_id, "Arn"]}),
        key_arn=assembly.resolve(guardrails, {"Fn::GetAtt": [key_id, "Arn"]}),
        bucket_arn=assembly.resolve(guardrails, {"Fn::GetAtt": [bucket_id, "Arn"]}),
        subnet_ids=subnets,
        job_security_group_id=assembly.resolve(network, {"Fn::GetAtt": [job_sg, "GroupId"]}),
        region=guardrails.region,
        account=guardrails.account,
        prefix=f"smp-{env}",
    )


@pytest.fixture(scope="module")
def sandbox(assembly: Assembly) -> RoleUnderTest:
    return _role_under_test(assembly, "sandbox")


@pytest.fixture(scope="module")
def prod(assembly: Assembly) -> RoleUnderTest:
    return _role_under_test(assembly, "prod")


@pytest.fixture(scope="module")
def exempting(tmp_path_factory: pytest.TempPathFactory) -> RoleUnderTest:
    """An environment that exempts one pipeline from network isolation."""
    outdir = tmp_path_factory.mktemp("exempting")
    app = cdk.App(
        outdir=str(outdir),
        context={**app_context(), "environments": {"lab": {"networkIsolationExemptions": ["smp-lab-parallel-shards"]}}},
    )
    cdk_app.build_app(app=app)
    app.synth()
    return _role_under_test(Assembly(outdir), "lab")


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
        ({"aws_RequestTag__CostCenter": None}, "DenyUntaggedCreates"),
    ],
    ids=["no-vpc", "no-volume-key", "no-output-key", "ict-off", "ict-unset", "isolation-off", "instance-type", "one-bad-instance", "no-cost-tag"],
)
def test_each_job_guardrail_denies_its_violation(sandbox: RoleUnderTest, overrides: dict, deny_sid: str) -> None:
    request = sandbox.training_job(**overrides)
    assert sandbox.decide(request) is Decision.EXPLICIT_DENY
    assert deny_sid in matching_sids([sandbox.boundary], request, effect="Deny")


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
        context={k: v for k, v in sandbox.job_context().items() if "Vpc" not in k and "Isolation" not in k and "InterContainer" not in k},
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
    create_trial = Request(action="sagemaker:CreateTrial", resource=sandbox.arn("experiment-trial/0abc123def"))
    every = sandbox.identity + [sandbox.boundary]
    for request in (create_pipeline, create_experiment, create_trial):
        assert matching_sids(every, request, effect="Deny") == []
    # The boundary leaves room for the upsert function's CreatePipeline; the execution role itself has no grant.
    assert matching_sids([sandbox.boundary], create_pipeline, effect="Allow") == ["Ceiling"]
    assert sandbox.decide(create_pipeline) is Decision.IMPLICIT_DENY
    assert sandbox.decide(create_experiment) is Decision.ALLOW
    assert sandbox.decide(create_trial) is Decision.ALLOW


def test_pass_role_only_itself_only_to_sagemaker(sandbox: RoleUnderTest) -> None:
    itself = {"iam:PassedToService": "sagemaker.amazonaws.com"}
    other_role = sandbox.role_arn.replace("sagemaker-execution", "admin")
    assert sandbox.decide(Request(action="iam:PassRole", resource=sandbox.role_arn, context=itself)) is Decision.ALLOW
    assert sandbox.decide(Request(action="iam:PassRole", resource=other_role, context=itself)) is Decision.IMPLICIT_DENY
    to_lambda = {"iam:PassedToService": "lambda.amazonaws.com"}
    assert sandbox.decide(Request(action="iam:PassRole", resource=sandbox.role_arn, context=to_lambda)) is Decision.IMPLICIT_DENY


def test_data_access_is_limited_to_the_environment_bucket_and_key(sandbox: RoleUnderTest) -> None:
    own_object = Request(action="s3:GetObject", resource=f"{sandbox.bucket_arn}/smp-sandbox-abalone/code/preprocess.py")
    other_object = Request(action="s3:GetObject", resource="arn:aws:s3:::someone-elses-bucket/data.csv")
    other_key = Request(action="kms:Decrypt", resource=f"arn:aws:kms:{sandbox.region}:{sandbox.account}:key/other")
    assert sandbox.decide(own_object) is Decision.ALLOW
    assert sandbox.decide(other_object) is Decision.IMPLICIT_DENY
    assert sandbox.decide(other_key) is Decision.IMPLICIT_DENY
    assert sandbox.decide(Request(action="kms:Decrypt", resource=sandbox.key_arn)) is Decision.ALLOW


def test_metrics_only_in_sagemaker_namespaces(sandbox: RoleUnderTest) -> None:
    ok = Request(action="cloudwatch:PutMetricData", resource="*", context={"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"})
    other = Request(action="cloudwatch:PutMetricData", resource="*", context={"cloudwatch:namespace": "Billing"})
    assert sandbox.decide(ok) is Decision.ALLOW
    assert sandbox.decide(other) is Decision.IMPLICIT_DENY


def test_network_isolation_exemption_is_per_pipeline(exempting: RoleUnderTest) -> None:
    exempt = exempting.training_job(
        sagemaker_NetworkIsolation="false", **{f"aws_RequestTag__{NETWORK_ISOLATION_EXEMPTION_TAG}": "smp-lab-parallel-shards"}
    )
    not_exempt = exempting.training_job(
        sagemaker_NetworkIsolation="false", **{f"aws_RequestTag__{NETWORK_ISOLATION_EXEMPTION_TAG}": "smp-lab-abalone"}
    )
    untagged = exempting.training_job(sagemaker_NetworkIsolation="false")
    assert exempting.decide(exempt) is Decision.ALLOW
    assert exempting.decide(not_exempt) is Decision.EXPLICIT_DENY
    assert exempting.decide(untagged) is Decision.EXPLICIT_DENY


def test_trust_policy_requires_source_account(assembly: Assembly) -> None:
    guardrails = assembly.stack("sandbox-guardrails")
    role = guardrails.template["Resources"][guardrails.logical_id("AWS::IAM::Role", "ExecutionRole/Role")]["Properties"]
    (statement,) = assembly.resolve(guardrails, role["AssumeRolePolicyDocument"])["Statement"]
    assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": guardrails.account}}
