"""One pipeline's execution role, built in a bare stack and decided by the offline IAM evaluator: for
each grant the exact statements that allow each of its actions on its own resources, and the refused
neighbour (another pipeline's prefix, another environment's names, another key, bucket, repository,
subnet or account, an absent or wrong condition key, an action next to the granted ones)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from base.images import EcrRepository
from pipeline_defs.contract import NETWORK_ISOLATION_EXEMPTION_TAG, PIPELINE_TAG
from stacks.pipelines.execution_role import PipelineExecutionRole, code_patterns
from support.iam_evaluator import Decision, Request, evaluate, matching_sids, principal_matches, statement_applies
from support.statements import ACCOUNT, REGION, arn, concrete

PIPELINE = "smp-prod-train"
ROLE_NAME = f"{PIPELINE}-exec"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
BUCKET = "arn:aws:s3:::smp-prod-artifacts"
KEY = arn("key/k", "kms")
SUBNETS, SECURITY_GROUPS = ["subnet-a", "subnet-b"], ["sg-jobs"]
FUNCTIONS = [arn("function:smp-prod-prepare", "lambda"), arn("function:smp-prod-notify", "lambda")]
REPOSITORIES = [EcrRepository(account=ACCOUNT, region=REGION, name="smp/train"), EcrRepository(account="210987654321", region="us-east-1", name="shared/base")]
FOREIGN = "999999999999"


@dataclass(frozen=True)
class BuiltRole:
    """The role's policies as IAM sees them, with the construct for what the policies do not show."""

    execution: PipelineExecutionRole
    stack: cdk.Stack
    identity: list[dict]
    trust: dict

    def allowing(self, action: str, resource: str, **context: Any) -> list[str]:
        return matching_sids(self.identity, Request(action=action, resource=resource, context=context), effect="Allow")

    def denying(self, action: str, resource: str, **context: Any) -> list[str]:
        return matching_sids(self.identity, Request(action=action, resource=resource, context=context), effect="Deny")

    def decide(self, action: str, resource: str, **context: Any) -> Decision:
        return evaluate(identity_policies=self.identity, boundary=None, request=Request(action=action, resource=resource, context=context))


def build(
    *,
    step_types: Sequence[str] = ("Training", "Processing"),
    lambda_function_arns: Sequence[str] = tuple(FUNCTIONS),
    image_repositories: Sequence[EcrRepository] = tuple(REPOSITORIES),
    code_prefixes: Sequence[str] = (f"{PIPELINE}/code/b1/",),
    read_prefixes: Sequence[str] = ("shared/features/", "raw/"),
    write_prefixes: Sequence[str] = ("exports/train/",),
    network_isolation_exempt: bool = False,
    emr_clusters: Sequence[str] = (),
    emr_serverless_applications: Sequence[str] = (),
) -> BuiltRole:
    """The role in a fresh stack: cheap, so each test builds its own, and the build counts in the test's own
    time (the mutation run sizes its time limit by that) and exercises the constructor it checks."""
    stack = cdk.Stack(cdk.App(), "Role")
    execution = PipelineExecutionRole(
        stack,
        "ExecutionRole",
        role_name=ROLE_NAME,
        pipeline_name=PIPELINE,
        resource_prefix="smp-prod",
        bucket=s3.Bucket.from_bucket_name(stack, "Bucket", "smp-prod-artifacts"),
        key=kms.Key.from_key_arn(stack, "Key", KEY),
        lambda_function_arns=lambda_function_arns,
        subnet_ids=SUBNETS,
        security_group_ids=SECURITY_GROUPS,
        network_isolation_exempt=network_isolation_exempt,
        code_prefixes=code_prefixes,
        image_repositories=image_repositories,
        step_types=step_types,
        emr_clusters=emr_clusters,
        emr_serverless_applications=emr_serverless_applications,
        read_prefixes=read_prefixes,
        write_prefixes=write_prefixes,
    )
    attributes = {f"{stack.get_logical_id(execution.role.node.default_child)}.Arn": ROLE_ARN}
    identity = [concrete(stack.resolve(policy.document), attributes=attributes) for policy in (execution.policy, execution.network_guardrail)]
    return BuiltRole(execution=execution, stack=stack, identity=identity, trust=concrete(stack.resolve(execution.role.assume_role_policy)))


OBJECT_WRITES = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]


def test_objects_under_its_own_prefix_are_read_written_and_deleted() -> None:
    role = build()
    for action in OBJECT_WRITES:
        assert role.allowing(action, f"{BUCKET}/{PIPELINE}/run-1/model.tar.gz") == ["OwnPrefixObjects"]
        assert role.decide(action, f"{BUCKET}/{PIPELINE}/run-1/model.tar.gz") is Decision.ALLOW
        # Another pipeline whose name starts with this one's, the bucket's top level, another bucket.
        assert role.allowing(action, f"{BUCKET}/{PIPELINE}-eval/run-1/x") == []
        assert role.allowing(action, f"{BUCKET}/x") == []
        assert role.allowing(action, f"arn:aws:s3:::smp-sandbox-artifacts/{PIPELINE}/x") == []


def test_no_other_object_action_is_granted_anywhere() -> None:
    role = build()
    for action in ["s3:DeleteObjectVersion", "s3:PutObjectAcl", "s3:PutObjectTagging", "s3:GetObjectAcl"]:
        for key in (f"{PIPELINE}/run-1/x", "shared/features/x", "exports/train/x"):
            assert role.allowing(action, f"{BUCKET}/{key}") == []


def test_declared_reads_are_read_only_each_prefix() -> None:
    role = build()
    for action in ["s3:GetObject", "s3:GetObjectVersion"]:
        assert role.allowing(action, f"{BUCKET}/shared/features/2024/part-0") == ["DeclaredReads"]
        assert role.allowing(action, f"{BUCKET}/raw/x") == ["DeclaredReads"]
        assert role.allowing(action, f"{BUCKET}/shared/other/x") == []


def test_declared_reads_are_not_written() -> None:
    role = build()
    for action in ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]:
        assert role.allowing(action, f"{BUCKET}/shared/features/x") == []
        assert role.allowing(action, f"{BUCKET}/raw/x") == []


def test_declared_writes_are_read_and_written() -> None:
    role = build()
    for action in OBJECT_WRITES:
        assert role.allowing(action, f"{BUCKET}/exports/train/2024/x") == ["DeclaredWrites"]
        assert role.allowing(action, f"{BUCKET}/exports/other/x") == []


def test_without_declared_access_only_its_own_prefix_is_reachable() -> None:
    built = build(read_prefixes=(), write_prefixes=())
    sids = [s["Sid"] for doc in built.identity for s in doc["Statement"]]
    assert "DeclaredReads" not in sids and "DeclaredWrites" not in sids
    assert built.allowing("s3:ListBucket", BUCKET, **{"s3:prefix": "shared/features/"}) == []
    assert built.allowing("s3:ListBucket", BUCKET, **{"s3:prefix": f"{PIPELINE}/"}) == ["OwnPrefixListing"]


def test_listing_is_limited_to_its_own_and_its_declared_prefixes() -> None:
    role = build()
    for prefix, allowed in [
        (PIPELINE, True),
        (f"{PIPELINE}/", True),
        (f"{PIPELINE}/run-1/", True),
        ("shared/features/", True),
        ("shared/features/2024/", True),
        ("raw/", True),
        ("exports/train/", True),
        (f"{PIPELINE}-eval/", False),
        ("shared/", False),
        ("exports/", False),
        ("", False),
        (None, False),
    ]:
        context = {} if prefix is None else {"s3:prefix": prefix}
        assert role.allowing("s3:ListBucket", BUCKET, **context) == (["OwnPrefixListing"] if allowed else [])
        assert role.allowing("s3:ListBucket", "arn:aws:s3:::smp-sandbox-artifacts", **context) == []


def test_the_bucket_location_of_its_own_bucket_only() -> None:
    role = build()
    assert role.allowing("s3:GetBucketLocation", BUCKET) == ["ArtifactBucketLocation"]
    assert role.allowing("s3:GetBucketLocation", "arn:aws:s3:::smp-sandbox-artifacts") == []
    assert role.allowing("s3:GetBucketPolicy", BUCKET) == []


def test_the_environment_key_is_used_and_no_other() -> None:
    role = build()
    for action in ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"]:
        assert role.allowing(action, KEY) == ["EnvironmentKey"]
        assert role.allowing(action, arn("key/other", "kms")) == []


def test_the_key_is_never_administered() -> None:
    role = build()
    for action in ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKey", "kms:RetireGrant"]:
        assert role.allowing(action, KEY) == []


def test_key_grants_only_for_aws_resources() -> None:
    role = build()
    for for_resource, sids in [("true", ["EnvironmentKeyGrantsForJobVolumes"]), ("false", []), (None, [])]:
        context = {} if for_resource is None else {"kms:GrantIsForAWSResource": for_resource}
        assert role.allowing("kms:CreateGrant", KEY, **context) == sids
        assert role.allowing("kms:CreateGrant", arn("key/other", "kms"), **{"kms:GrantIsForAWSResource": "true"}) == []


def test_images_pull_from_each_repository_its_definition_names_and_no_other() -> None:
    role = build()
    for action in ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]:
        assert role.allowing(action, arn("repository/smp/train", "ecr")) == ["EcrPull"]
        assert role.allowing(action, "arn:aws:ecr:us-east-1:210987654321:repository/shared/base") == ["EcrPull"]
        assert role.allowing(action, arn("repository/smp/other", "ecr")) == []
        assert role.allowing(action, arn("repository/smp/train", "ecr", account=FOREIGN)) == []
        assert role.allowing("ecr:PutImage", arn("repository/smp/train", "ecr")) == []


def test_ecr_login_only_with_images_to_pull() -> None:
    role = build()
    assert role.allowing("ecr:GetAuthorizationToken", "*") == ["EcrLogin"]
    without_images = build(image_repositories=())
    assert without_images.allowing("ecr:GetAuthorizationToken", "*") == []
    assert without_images.allowing("ecr:BatchGetImage", arn("repository/smp/train", "ecr")) == []


def test_job_logs_go_to_sagemakers_log_groups_only() -> None:
    role = build()
    for action in ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]:
        assert role.allowing(action, arn("log-group:/aws/sagemaker/TrainingJobs:log-stream:smp-prod-x", "logs")) == ["JobLogs"]
        assert role.allowing(action, arn("log-group:/aws/lambda/smp-prod-x:log-stream:x", "logs")) == []
        assert role.allowing(action, arn("log-group:/aws/sagemaker/TrainingJobs", "logs", region="us-east-1")) == []
        assert role.allowing(action, arn("log-group:/aws/sagemaker/TrainingJobs", "logs", account=FOREIGN)) == []
        assert role.allowing("logs:DeleteLogGroup", arn("log-group:/aws/sagemaker/TrainingJobs", "logs")) == []


def test_metrics_only_in_sagemakers_namespaces() -> None:
    role = build()
    for namespace, sids in [("/aws/sagemaker/TrainingJobs", ["JobMetrics"]), ("SageMaker", ["JobMetrics"]), ("SageMakerPipelines", ["JobMetrics"]), ("AWS/EC2", []), ("Custom", []), (None, [])]:
        context = {} if namespace is None else {"cloudwatch:namespace": namespace}
        assert role.allowing("cloudwatch:PutMetricData", "*", **context) == sids


def test_it_passes_only_itself_and_only_to_sagemaker() -> None:
    role = build()
    for passed_role, service, sids in [
        (ROLE_ARN, "sagemaker.amazonaws.com", ["PassOnlyItselfToSageMaker"]),
        (ROLE_ARN, "ec2.amazonaws.com", []),
        (ROLE_ARN, None, []),
        (f"arn:aws:iam::{ACCOUNT}:role/smp-prod-other-exec", "sagemaker.amazonaws.com", []),
    ]:
        context = {} if service is None else {"iam:PassedToService": service}
        assert role.allowing("iam:PassRole", passed_role, **context) == sids


EXPERIMENT_ACTIONS = [
    "sagemaker:AddTags",
    "sagemaker:AssociateTrialComponent",
    "sagemaker:CreateExperiment",
    "sagemaker:CreateTrial",
    "sagemaker:CreateTrialComponent",
    "sagemaker:DescribeExperiment",
    "sagemaker:DescribeTrial",
    "sagemaker:DescribeTrialComponent",
    "sagemaker:UpdateTrialComponent",
]
COMPONENT_ACTIONS = {"sagemaker:AssociateTrialComponent", "sagemaker:DescribeTrialComponent"}


def test_experiments_trials_and_components_carry_the_environment_prefix() -> None:
    role = build()
    for action in EXPERIMENT_ACTIONS:
        for kind in ("experiment", "experiment-trial"):
            assert role.allowing(action, arn(f"{kind}/smp-prod-train")) == ["ExperimentTracking"]
            assert role.allowing(action, arn(f"{kind}/smp-sandbox-train")) == []
            assert role.allowing(action, arn(f"{kind}/smp-prod-train", account=FOREIGN)) == []
        component_sids = ["ExperimentTracking", "JobTrialComponents"] if action in COMPONENT_ACTIONS else ["ExperimentTracking"]
        assert role.allowing(action, arn("experiment-trial-component/smp-prod-train-x")) == component_sids
        # A job's component is named after the job (any name): read and associated only.
        assert role.allowing(action, arn("experiment-trial-component/abc-training-job")) == (["JobTrialComponents"] if action in COMPONENT_ACTIONS else [])
        assert role.allowing(action, arn("experiment-trial-component/abc-training-job", region="us-east-1")) == []


def test_experiments_are_never_deleted_or_changed() -> None:
    role = build()
    for action in ["sagemaker:DeleteExperiment", "sagemaker:DeleteTrial", "sagemaker:DisassociateTrialComponent", "sagemaker:UpdateExperiment"]:
        assert role.allowing(action, arn("experiment/smp-prod-train")) == []
        assert role.allowing(action, arn("experiment-trial/smp-prod-train")) == []
        assert role.allowing(action, arn("experiment-trial-component/smp-prod-train")) == []


def test_network_interfaces_are_created_only_in_its_subnets_with_its_security_groups() -> None:
    role = build()
    for resource, sids in [
        (arn("network-interface/*", "ec2"), ["JobNetworkInterfaces"]),
        (arn("subnet/subnet-a", "ec2"), ["JobNetworkInterfaces"]),
        (arn("subnet/subnet-b", "ec2"), ["JobNetworkInterfaces"]),
        (arn("security-group/sg-jobs", "ec2"), ["JobNetworkInterfaces"]),
        (arn("subnet/subnet-x", "ec2"), []),
        (arn("security-group/sg-open", "ec2"), []),
        (arn("subnet/subnet-a", "ec2", account=FOREIGN), []),
        (arn("security-group/sg-jobs", "ec2", region="us-east-1"), []),
    ]:
        assert role.allowing("ec2:CreateNetworkInterface", resource) == sids


def test_network_interfaces_are_shared_and_deleted_only_in_its_subnets() -> None:
    role = build()
    for action in ["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"]:
        interface = arn("network-interface/eni-0123", "ec2")
        for subnet in SUBNETS:
            assert role.allowing(action, interface, **{"ec2:Subnet": arn(f"subnet/{subnet}", "ec2")}) == ["JobNetworkInterfaceUse"]
        assert role.allowing(action, interface, **{"ec2:Subnet": arn("subnet/subnet-x", "ec2")}) == []
        assert role.allowing(action, interface) == []
        assert role.allowing(action, arn("subnet/subnet-a", "ec2"), **{"ec2:Subnet": arn("subnet/subnet-a", "ec2")}) == []


def test_network_lookups_are_granted() -> None:
    role = build()
    for action in ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"]:
        assert role.allowing(action, "*") == ["JobNetworkLookups"]


def test_no_other_network_action_is_granted() -> None:
    role = build()
    for action in ["ec2:DescribeInstances", "ec2:ModifyNetworkInterfaceAttribute", "ec2:AttachNetworkInterface", "ec2:CreateSecurityGroup"]:
        for resource in ("*", arn("network-interface/eni-0123", "ec2"), arn("subnet/subnet-a", "ec2")):
            assert role.allowing(action, resource, **{"ec2:Subnet": arn("subnet/subnet-a", "ec2")}) == []


def test_each_lambda_step_it_uses_is_invoked_and_no_other() -> None:
    role = build()
    for function in FUNCTIONS:
        assert role.allowing("lambda:InvokeFunction", function) == ["InvokeOwnLambdaSteps"]
    assert role.allowing("lambda:InvokeFunction", arn("function:smp-prod-other", "lambda")) == []
    assert role.allowing("lambda:UpdateFunctionCode", FUNCTIONS[0]) == []
    without = build(lambda_function_arns=())
    assert "InvokeOwnLambdaSteps" not in [s["Sid"] for s in without.identity[0]["Statement"]]
    assert without.allowing("lambda:InvokeFunction", FUNCTIONS[0]) == []


def test_a_job_cannot_change_its_pipelines_code() -> None:
    role = build()
    for action in ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]:
        code = f"{BUCKET}/{PIPELINE}/code/b1/train.py"
        assert role.denying(action, code) == ["ProtectOwnCode"]
        assert role.decide(action, code) is Decision.EXPLICIT_DENY
        assert role.denying(action, f"{BUCKET}/{PIPELINE}/code/b2/train.py") == []
        assert role.denying(action, f"{BUCKET}/{PIPELINE}/run-1/x") == []
        assert role.decide("s3:GetObject", code) is Decision.ALLOW


def test_without_code_nothing_is_protected() -> None:
    built = build(code_prefixes=())
    assert [s["Sid"] for s in built.identity[0]["Statement"] if s["Effect"] == "Deny"] == []
    assert built.decide("s3:PutObject", f"{BUCKET}/{PIPELINE}/code/b1/train.py") is Decision.ALLOW


def test_code_shared_by_several_steps_of_one_build_is_protected_by_one_pattern() -> None:
    built = build(code_prefixes=(f"{PIPELINE}/prepare/b7/", f"{PIPELINE}/train/b7/", f"{PIPELINE}/setup.py"))
    (deny,) = [s for s in built.identity[0]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Resource"] == [f"{BUCKET}/{PIPELINE}/*/b7/*", f"{BUCKET}/{PIPELINE}/setup.py"]
    assert built.denying("s3:PutObject", f"{BUCKET}/{PIPELINE}/evaluate/b7/x.py") == ["ProtectOwnCode"]
    assert built.denying("s3:PutObject", f"{BUCKET}/{PIPELINE}/setup.py") == ["ProtectOwnCode"]
    assert built.denying("s3:PutObject", f"{BUCKET}/{PIPELINE}/setup.py.bak") == []


@pytest.mark.parametrize(
    ("prefixes", "patterns"),
    [
        (["p/code/b1/"], ["p/code/b1/*"]),
        (["p/prepare/b1/", "p/train/b1/"], ["p/*/b1/*"]),
        (["p/prepare/b1/", "p/train/b2/"], ["p/prepare/b1/*", "p/train/b2/*"]),
        (["q/train/b1/", "p/train/b1/"], ["p/train/b1/*", "q/train/b1/*"]),
        (["p/setup.py"], ["p/setup.py"]),
        (["p/code/b1/x.py"], ["p/code/b1/x.py"]),
        (["p/a/b/c/", "p/d/b/c/"], ["p/a/b/c/*", "p/d/b/c/*"]),
        (["p/code/", "p/other/"], ["p/code/*", "p/other/*"]),
        (["p/train/b1/", "p/setup.py", "p/prepare/b1/"], ["p/*/b1/*", "p/setup.py"]),
        ([], []),
    ],
)
def test_code_patterns_merge_the_directories_of_one_build(prefixes: list[str], patterns: list[str]) -> None:
    assert code_patterns(code_prefixes=prefixes) == patterns


def test_the_network_guardrail_pins_its_jobs_to_the_environments_subnets_and_security_groups() -> None:
    role = build()
    job = arn("training-job/smp-prod-train-x")
    own = {"sagemaker:VpcSubnets": SUBNETS, "sagemaker:VpcSecurityGroupIds": SECURITY_GROUPS}
    assert role.denying("sagemaker:CreateTrainingJob", job, **own) == []
    assert role.denying("sagemaker:CreateTrainingJob", job, **{**own, "sagemaker:VpcSubnets": ["subnet-a", "subnet-x"]}) == ["DenyForeignSubnets"]
    assert role.denying("sagemaker:CreateTrainingJob", job, **{**own, "sagemaker:VpcSecurityGroupIds": ["sg-open"]}) == ["DenyForeignSecurityGroups"]
    assert role.decide("sagemaker:CreateTrainingJob", job, **own) is Decision.ALLOW


def test_every_statement_is_valid_in_an_identity_policy() -> None:
    """As synth checks it: a statement without resources is refused by IAM."""
    role = build(step_types=("Training", "Tuning", "EMR", "EMRServerless"), emr_clusters=("j-ABC",), emr_serverless_applications=("00f0app",))
    for policy in (role.execution.policy, role.execution.network_guardrail):
        assert policy.document.validate_for_identity_policy() == []
        assert all(statement.get("Resource") for statement in role.stack.resolve(policy.document)["Statement"])


def test_both_policies_are_attached_to_the_role() -> None:
    role = build()
    logical_id = role.stack.get_logical_id(role.execution.role.node.default_child)
    for policy in (role.execution.policy, role.execution.network_guardrail):
        assert role.stack.resolve(policy.node.default_child.roles) == [{"Ref": logical_id}]


def _assumers(trust: dict, **context: str) -> list[str]:
    request = Request(action="sts:AssumeRole", resource=ROLE_ARN, context=context)
    return [s["Principal"]["Service"] for s in trust["Statement"] if s["Effect"] == "Allow" and principal_matches(s, context) and statement_applies(s, request)]


@pytest.mark.parametrize(
    ("step_types", "emr_serverless"),
    [(("Training",), False), (("Training", "EMRServerless"), True), (("EMRServerless",), True), (("EMR",), False)],
)
def test_sagemaker_of_this_account_assumes_it_and_emr_serverless_only_for_its_steps(step_types: tuple[str, ...], emr_serverless: bool) -> None:
    built = build(step_types=step_types, emr_serverless_applications=("00f0app",), emr_clusters=("j-ABC",))
    for service in ("sagemaker.amazonaws.com", "emr-serverless.amazonaws.com"):
        expected = [service] if service == "sagemaker.amazonaws.com" or emr_serverless else []
        assert _assumers(built.trust, **{"aws:PrincipalServiceName": service, "aws:SourceAccount": ACCOUNT}) == expected
        assert _assumers(built.trust, **{"aws:PrincipalServiceName": service, "aws:SourceAccount": FOREIGN}) == []
        assert _assumers(built.trust, **{"aws:PrincipalServiceName": service}) == []
    assert _assumers(built.trust, **{"aws:PrincipalServiceName": "lambda.amazonaws.com", "aws:SourceAccount": ACCOUNT}) == []
    assert [s["Action"] for s in built.trust["Statement"]] == ["sts:AssumeRole"] * (2 if emr_serverless else 1)


def test_the_role_is_named_and_described_for_its_pipeline() -> None:
    role = build()
    cfn_role = role.execution.role.node.default_child
    assert role.stack.resolve(cfn_role.role_name) == ROLE_NAME
    assert role.stack.resolve(cfn_role.description) == f"SageMaker pipeline {PIPELINE} and its jobs"
    # The construct ids make the logical ids: a change would replace the named role and its policies on deploy.
    assert [c.node.path for c in (role.execution.role, role.execution.policy, role.execution.network_guardrail)] == [
        "Role/ExecutionRole/Role",
        "Role/ExecutionRole/Policy",
        "Role/ExecutionRole/JobNetworkGuardrail",
    ]


def _tags(built: BuiltRole) -> dict[str, str]:
    """The role's tags once its stack's tag aspects have run (as at synth)."""
    cfn_role = built.execution.role.node.default_child
    for aspect in cdk.Aspects.of(built.execution.role).all:
        aspect.visit(cfn_role)
    return cfn_role.tags.tag_values()


def test_only_an_exempt_pipelines_role_carries_the_exemption_tag() -> None:
    role = build()
    assert _tags(build(network_isolation_exempt=True)) == {NETWORK_ISOLATION_EXEMPTION_TAG: "true"}
    assert _tags(role) == {}


def test_step_grants_follow_its_step_types_names_clusters_and_role() -> None:
    """What the role hands to the step grants: its step types, prefix, pipeline, clusters, applications and own ARN."""
    built = build(step_types=("Tuning", "EMR", "EMRServerless"), emr_clusters=("j-ABC",), emr_serverless_applications=("00f0app",))
    tuning = arn("hyper-parameter-tuning-job/abc")
    assert built.allowing("sagemaker:CreateHyperParameterTuningJob", tuning, **{f"aws:RequestTag/{PIPELINE_TAG}": PIPELINE}) == ["TuningJobs"]
    assert built.allowing("sagemaker:CreateHyperParameterTuningJob", tuning, **{f"aws:RequestTag/{PIPELINE_TAG}": "smp-prod-other"}) == []
    assert built.allowing("elasticmapreduce:AddJobFlowSteps", arn("cluster/j-ABC", "elasticmapreduce")) == ["EmrSteps"]
    assert built.allowing("emr-serverless:StartJobRun", arn("/applications/00f0app", "emr-serverless")) == ["EmrServerlessJobRuns"]
    assert built.allowing("iam:PassRole", ROLE_ARN, **{"iam:PassedToService": "emr-serverless.amazonaws.com"}) == ["PassOnlyItselfToEmrServerless"]
    assert built.allowing("sagemaker:CreateTrainingJob", arn("training-job/smp-prod-x")) == []
    trained = build(step_types=("Training",))
    assert trained.allowing("sagemaker:CreateTrainingJob", arn("training-job/smp-prod-x")) == ["TrainingJobs"]
    assert trained.allowing("sagemaker:CreateTrainingJob", arn("training-job/smp-sandbox-x")) == []
    assert trained.allowing("sagemaker:CreateHyperParameterTuningJob", tuning, **{f"aws:RequestTag/{PIPELINE_TAG}": PIPELINE}) == []


def test_every_allow_is_one_of_the_listed_grants() -> None:
    """A statement added without a test here fails: each grant above is pinned by its own test."""
    role = build()
    assert [s["Sid"] for s in role.identity[0]["Statement"]] == [
        "OwnPrefixObjects",
        "OwnPrefixListing",
        "ArtifactBucketLocation",
        "EnvironmentKey",
        "EnvironmentKeyGrantsForJobVolumes",
        "EcrLogin",
        "EcrPull",
        "JobLogs",
        "JobMetrics",
        "PassOnlyItselfToSageMaker",
        "ExperimentTracking",
        "JobTrialComponents",
        "JobNetworkInterfaces",
        "JobNetworkInterfaceUse",
        "JobNetworkLookups",
        "ProcessingJobs",
        "TrainingJobs",
        "DeclaredReads",
        "DeclaredWrites",
        "InvokeOwnLambdaSteps",
        "ProtectOwnCode",
    ]
