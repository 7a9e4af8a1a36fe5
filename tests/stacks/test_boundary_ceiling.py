"""The permission boundary is a real ceiling: action by action, exactly what the roles are granted.

A future over-broad grant (``sagemaker:*`` on ``*``) is cut by it, and every role of every stack
carries both the boundary and the job guardrails.
"""

from __future__ import annotations

import fnmatch
from typing import Any, Iterator

import pytest

from stacks.guardrails.boundary import BOUNDARY_CEILING_ACTIONS
from support.assembly import Assembly, StackTemplate
from support.iam_evaluator import Decision, Request, evaluate

# What the AWS managed policies CDK still attaches grant (their published documents).
AWS_MANAGED_POLICY_ACTIONS = {
    "AWSLambdaBasicExecutionRole": ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
}


def _roles(assembly: Assembly) -> Iterator[tuple[StackTemplate, str, dict[str, Any]]]:
    for stack in assembly.stacks.values():
        for logical_id, role in stack.resources("AWS::IAM::Role").items():
            yield stack, logical_id, role


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="module")
def granted(assembly: Assembly) -> dict[str, set[str]]:
    """Every action some role is allowed by an identity policy, with the roles that have it."""
    found: dict[str, set[str]] = {}
    for stack, logical_id, role in _roles(assembly):
        identity, _ = assembly.role_policies(stack, logical_id)
        actions = [a for doc in identity for s in doc["Statement"] if s["Effect"] == "Allow" for a in _as_list(s["Action"])]
        for arn in assembly.resolve(stack, role["Properties"].get("ManagedPolicyArns", [])):
            if ":iam::aws:policy/" in arn:
                name = arn.rsplit("/", 1)[-1]
                assert name in AWS_MANAGED_POLICY_ACTIONS, f"{stack.name}/{logical_id}: add {name}'s actions to this test"
                actions += AWS_MANAGED_POLICY_ACTIONS[name]
        for action in actions:
            found.setdefault(action, set()).add(f"{stack.name}/{logical_id}")
    return found


def test_the_ceiling_names_each_action_and_no_service_wildcard() -> None:
    assert not [a for a in BOUNDARY_CEILING_ACTIONS if "*" in a or "?" in a]
    assert len(set(BOUNDARY_CEILING_ACTIONS)) == len(BOUNDARY_CEILING_ACTIONS)


def test_every_granted_action_is_within_the_ceiling(granted: dict[str, set[str]]) -> None:
    ceiling = {a.lower() for a in BOUNDARY_CEILING_ACTIONS}
    outside = {
        action: sorted(roles)[:2]
        for action, roles in granted.items()
        if not [c for c in ceiling if fnmatch.fnmatchcase(c, action.lower())]
    }
    assert not outside, f"granted but cut by the boundary: {outside}"


def _grantable_for_some_step_type() -> set[str]:
    """What an execution role is granted for a step type the shipped pipelines may not use (EMR, lineage, ...)."""
    from pipeline_defs.validation.step_checks import STEP_POLICIES
    from stacks.pipelines.step_grants import step_grant_statements

    statements = step_grant_statements(
        step_types=sorted(STEP_POLICIES),
        arn=lambda resource, service: f"arn:aws:{service}:us-east-1:123456789012:{resource}",
        resource_prefix="smp-lab",
        role_arn="arn:aws:iam::123456789012:role/smp-lab-p-exec",
        pipeline_name="smp-lab-p",
        emr_clusters=["j-1"],
        emr_serverless_applications=["app"],
    )
    return {action for statement in statements for action in _as_list(statement.to_statement_json()["Action"])}


def test_every_ceiling_action_is_granted_to_some_role(granted: dict[str, set[str]]) -> None:
    patterns = [a.lower() for a in (*granted, *_grantable_for_some_step_type())]
    unused = [a for a in BOUNDARY_CEILING_ACTIONS if not any(fnmatch.fnmatchcase(a.lower(), p) for p in patterns)]
    assert not unused, f"in the ceiling but granted to no role and for no step type: {unused}"


def test_every_role_carries_the_boundary_and_both_guardrail_policies(assembly: Assembly) -> None:
    checked = 0
    for stack, logical_id, role in _roles(assembly):
        if not stack.name.startswith("smp-"):
            continue
        prefix = stack.name.split("-", 2)[0] + "-" + stack.name.split("-", 2)[1]
        properties = role["Properties"]
        boundary = assembly.resolve(stack, properties.get("PermissionsBoundary"))
        attached = assembly.resolve(stack, properties.get("ManagedPolicyArns", []))
        assert boundary == f"arn:aws:iam::{stack.account}:policy/{prefix}-permission-boundary", (stack.name, logical_id)
        for guardrails in ("job-guardrails", "serving-guardrails"):
            assert f"arn:aws:iam::{stack.account}:policy/{prefix}-{guardrails}" in attached, (stack.name, logical_id)
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize(
    "action",
    [
        "sagemaker:CreatePresignedDomainUrl",
        "sagemaker:CreateNotebookInstance",
        "sagemaker:DeleteModelPackageGroup",
        "sagemaker:UpdateModelPackage",
        "s3:PutBucketPolicy",
        "s3:DeleteBucket",
        "iam:CreateRole",
        "iam:TagRole",
        "iam:AttachRolePolicy",
        "kms:ScheduleKeyDeletion",
        "kms:PutKeyPolicy",
        "lambda:UpdateFunctionCode",
        "logs:DeleteLogGroup",
        "ec2:CreateVpcEndpoint",
        "sts:AssumeRole",
    ],
)
def test_a_future_over_broad_grant_is_cut_by_the_boundary(assembly: Assembly, action: str) -> None:
    stack = assembly.stack("smp-sandbox-pipeline-train-evaluate-register")
    _, boundary = assembly.role_policies(stack, stack.logical_id("AWS::IAM::Role", "ExecutionRole/Role"))
    too_broad = {"Statement": [{"Effect": "Allow", "Action": ["sagemaker:*", "s3:*", "iam:*", "kms:*", "lambda:*", "logs:*", "ec2:*", "sts:*"], "Resource": "*"}]}
    assert evaluate(identity_policies=[too_broad], boundary=boundary, request=Request(action, "*")) is Decision.IMPLICIT_DENY
    # ...while what the ceiling names passes the same grant.
    assert evaluate(identity_policies=[too_broad], boundary=boundary, request=Request("sagemaker:DescribePipeline", "*")) is Decision.ALLOW
