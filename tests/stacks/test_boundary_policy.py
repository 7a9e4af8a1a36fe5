"""The permission boundary and the guardrail policies, built in a bare stack inside each test: the ceiling cuts a broad
grant to the listed actions (decided by the offline IAM evaluator), each guardrail policy holds exactly
its Denies under its fixed name, and the aspect attaches both to every kind of role, by reference in
their own stack and by ARN elsewhere, leaving everything else alone."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from base.config import EnvironmentConfig
from stacks.guardrails.boundary import BASIC_EXECUTION_POLICY_ARN, AttachGuardrails, PermissionBoundary
from stacks.guardrails.policies import job_guardrail_statements, serving_guardrail_statements
from support.iam_evaluator import Decision, Request, evaluate, matching_sids
from support.statements import ACCOUNT, arn, concrete

CONFIG = EnvironmentConfig(name="prod", allowed_instance_types=("ml.m5.xlarge",), max_job_runtime_hours=2)
JOB_GUARDRAILS = f"arn:aws:iam::{ACCOUNT}:policy/smp-prod-job-guardrails"
SERVING_GUARDRAILS = f"arn:aws:iam::{ACCOUNT}:policy/smp-prod-serving-guardrails"
BROAD_GRANT = {"Statement": [{"Sid": "Broad", "Effect": "Allow", "Action": ["sagemaker:*", "s3:*", "iam:*", "kms:*", "ec2:*", "lambda:*"], "Resource": "*"}]}


def _ceiling(stack: cdk.Stack, boundary: PermissionBoundary) -> dict:
    return concrete(stack.resolve(boundary.policy.document))


@pytest.mark.parametrize(
    ("action", "resource", "decision"),
    [
        ("sagemaker:CreateTrainingJob", arn("training-job/smp-prod-x"), Decision.ALLOW),
        ("sagemaker:StartPipelineExecution", arn("pipeline/smp-prod-x"), Decision.ALLOW),
        ("s3:GetObject", "arn:aws:s3:::smp-prod-artifacts/x", Decision.ALLOW),
        ("kms:Decrypt", arn("key/k", "kms"), Decision.ALLOW),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/smp-prod-x", Decision.ALLOW),
        ("ec2:CreateNetworkInterface", arn("subnet/subnet-a", "ec2"), Decision.ALLOW),
        ("sagemaker:DeleteEndpoint", arn("endpoint/smp-prod-x"), Decision.IMPLICIT_DENY),
        ("sagemaker:UpdateModelPackage", arn("model-package/smp-prod-x/1"), Decision.IMPLICIT_DENY),
        ("sagemaker:CreatePresignedDomainUrl", arn("user-profile/d/u"), Decision.IMPLICIT_DENY),
        ("s3:DeleteBucket", "arn:aws:s3:::smp-prod-artifacts", Decision.IMPLICIT_DENY),
        ("s3:PutBucketPolicy", "arn:aws:s3:::smp-prod-artifacts", Decision.IMPLICIT_DENY),
        ("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/x", Decision.IMPLICIT_DENY),
        ("iam:TagRole", f"arn:aws:iam::{ACCOUNT}:role/x", Decision.IMPLICIT_DENY),
        ("kms:ScheduleKeyDeletion", arn("key/k", "kms"), Decision.IMPLICIT_DENY),
        ("ec2:RunInstances", arn("instance/*", "ec2"), Decision.IMPLICIT_DENY),
        ("lambda:UpdateFunctionCode", arn("function:smp-prod-x", "lambda"), Decision.IMPLICIT_DENY),
    ],
)
def test_the_ceiling_cuts_a_broad_grant_to_the_listed_actions(action: str, resource: str, decision: Decision) -> None:
    stack = cdk.Stack(cdk.App(), "Guardrails")
    boundary = PermissionBoundary(stack, "Boundary", config=CONFIG)
    ceiling = _ceiling(stack, boundary)
    assert evaluate(identity_policies=[BROAD_GRANT], boundary=ceiling, request=Request(action=action, resource=resource)) is decision
    assert matching_sids([ceiling], Request(action=action, resource=resource), effect="Allow") == (["Ceiling"] if decision is Decision.ALLOW else [])


def test_the_ceiling_is_one_allow_on_every_resource_and_grants_nothing_itself() -> None:
    stack = cdk.Stack(cdk.App(), "Guardrails")
    boundary = PermissionBoundary(stack, "Boundary", config=CONFIG)
    (statement,) = _ceiling(stack, boundary)["Statement"]
    assert (statement["Sid"], statement["Effect"], statement["Resource"]) == ("Ceiling", "Allow", "*")
    request = Request(action="sagemaker:CreateTrainingJob", resource=arn("training-job/smp-prod-x"))
    assert evaluate(identity_policies=[], boundary=_ceiling(stack, boundary), request=request) is Decision.IMPLICIT_DENY


def test_the_boundary_is_named_and_described_for_its_environment() -> None:
    stack = cdk.Stack(cdk.App(), "Guardrails")
    boundary = PermissionBoundary(stack, "Boundary", config=CONFIG)
    cfn = boundary.policy.node.default_child
    assert stack.resolve(cfn.managed_policy_name) == "smp-prod-permission-boundary"
    assert stack.resolve(cfn.description) == "Ceiling for every role of smp-prod"
    # The construct id makes the logical id: a change would replace the named policy on deploy.
    assert boundary.policy.node.path == "Guardrails/Boundary/Policy"


def test_the_ceilings_wildcard_resource_is_acknowledged_with_its_reason() -> None:
    boundary = PermissionBoundary(cdk.Stack(cdk.App(), "Guardrails"), "Boundary", config=CONFIG)
    acknowledged = [entry.data for entry in boundary.policy.node.default_child.node.metadata if entry.type == "aws:cdk:acknowledged-rules"]
    assert acknowledged == [
        {
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]": "A permission boundary is a ceiling, not a grant: identity policies grant within it, "
            "and it lists only actions some role of the environment is granted."
        }
    ]


def test_each_guardrail_policy_holds_exactly_its_denies_under_its_fixed_name() -> None:
    stack = cdk.Stack(cdk.App(), "Guardrails")
    boundary = PermissionBoundary(stack, "Boundary", config=CONFIG)
    expected = {
        "smp-prod-job-guardrails": ("JobGuardrails", "Job guardrails", job_guardrail_statements(config=CONFIG)),
        "smp-prod-serving-guardrails": ("ServingGuardrails", "Endpoint and EMR Serverless guardrails", serving_guardrail_statements(config=CONFIG)),
    }
    assert sorted(boundary.guardrails) == sorted(expected)
    for name, policy in boundary.guardrails.items():
        construct, what, statements = expected[name]
        cfn = policy.node.default_child
        assert policy.node.id == construct
        assert stack.resolve(cfn.managed_policy_name) == name
        assert stack.resolve(cfn.description) == f"{what} (Deny only) attached to every role of smp-prod"
        assert stack.resolve(policy.document)["Statement"] == [stack.resolve(s.to_statement_json()) for s in statements]


@pytest.mark.parametrize(
    ("action", "context", "job_denies", "serving_denies"),
    [
        ("sagemaker:CreateTrainingJob", {}, True, False),
        ("sagemaker:CreateEndpointConfig", {}, False, True),
    ],
)
def test_job_and_serving_denies_sit_in_their_own_policies(action: str, context: dict, job_denies: bool, serving_denies: bool) -> None:
    stack = cdk.Stack(cdk.App(), "Guardrails")
    boundary = PermissionBoundary(stack, "Boundary", config=CONFIG)
    documents = {name: concrete(stack.resolve(policy.document)) for name, policy in boundary.guardrails.items()}
    request = Request(action=action, resource=arn("training-job/smp-prod-x"), context=context)
    assert bool(matching_sids([documents["smp-prod-job-guardrails"]], request, effect="Deny")) is job_denies
    assert bool(matching_sids([documents["smp-prod-serving-guardrails"]], request, effect="Deny")) is serving_denies


def _role(scope: cdk.Stack, construct_id: str, *managed: iam.IManagedPolicy) -> iam.Role:
    return iam.Role(scope, construct_id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), managed_policies=list(managed))


def test_a_role_beside_the_policies_references_both() -> None:
    stack = cdk.Stack(cdk.App(), "Guardrails")
    boundary = PermissionBoundary(stack, "Boundary", config=CONFIG)
    role = _role(stack, "Role")
    AttachGuardrails(policies=boundary.guardrails).visit(role)
    references = [{"Ref": stack.get_logical_id(policy.node.default_child)} for policy in boundary.guardrails.values()]
    assert stack.resolve(role.node.default_child.managed_policy_arns) == references


def test_a_role_of_another_stack_gets_both_by_arn_and_keeps_its_own() -> None:
    stack = cdk.Stack(cdk.App(), "Guardrails")
    boundary = PermissionBoundary(stack, "Boundary", config=CONFIG)
    other = cdk.Stack(stack.node.scope, "Pipelines")
    own = iam.ManagedPolicy.from_managed_policy_arn(other, "Own", f"arn:aws:iam::{ACCOUNT}:policy/own")
    role = _role(other, "Role", own)
    AttachGuardrails(policies=boundary.guardrails).visit(role)
    assert concrete(other.resolve(role.node.default_child.managed_policy_arns)) == [f"arn:aws:iam::{ACCOUNT}:policy/own", JOB_GUARDRAILS, SERVING_GUARDRAILS]


def test_other_constructs_are_left_alone() -> None:
    stack = cdk.Stack(cdk.App(), "Guardrails")
    boundary = PermissionBoundary(stack, "Boundary", config=CONFIG)
    raw = iam.CfnRole(stack, "Raw", assume_role_policy_document={})
    managed = iam.ManagedPolicy(stack, "Managed", statements=[iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])])
    aspect = AttachGuardrails(policies=boundary.guardrails)
    for node in (raw, managed, managed.node.default_child, boundary.policy):
        aspect.visit(node)
    assert raw.managed_policy_arns is None
    assert stack.resolve(managed.node.default_child.roles) is None


def test_every_role_of_a_synthesized_stage_carries_both_provider_roles_included() -> None:
    """The aspect as the app adds it, read from the synthesized templates: CDK's provider roles are
    plain ``AWS::IAM::Role`` resources whose only other policy is the basic execution role."""
    app = cdk.App()
    guardrails = cdk.Stack(app, "Guardrails")
    boundary = PermissionBoundary(guardrails, "Boundary", config=CONFIG)
    pipelines = cdk.Stack(app, "Pipelines")
    for scope in (guardrails, pipelines):
        cdk.CfnResource(scope, "ProviderRole", type="AWS::IAM::Role", properties={"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}})
        cdk.CfnResource(scope, "Queue", type="AWS::SQS::Queue", properties={"DelaySeconds": 0})
    cdk.Aspects.of(app).add(AttachGuardrails(policies=boundary.guardrails))
    assembly = app.synth()
    local = [{"Ref": guardrails.get_logical_id(policy.node.default_child)} for policy in boundary.guardrails.values()]
    for name, expected in (("Guardrails", local), ("Pipelines", [JOB_GUARDRAILS, SERVING_GUARDRAILS])):
        resources = assembly.get_stack_by_name(name).template["Resources"]
        assert concrete(resources["ProviderRole"]["Properties"]["ManagedPolicyArns"]) == [BASIC_EXECUTION_POLICY_ARN, *expected]
        assert resources["Queue"]["Properties"] == {"DelaySeconds": 0}
