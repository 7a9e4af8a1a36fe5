"""The acknowledgment helpers on small stacks: exact findings, wildcards added later, stale acknowledgments."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks

from stacks.nag import (
    acknowledge,
    acknowledge_grants,
    acknowledge_wildcards,
    unacknowledged_findings,
    unused_acknowledgments,
    wildcard_action,
    wildcard_resource,
)

KEY_VARIANTS = "Data-key and re-encrypt variants on the one key of this stack, named by ARN, that encrypts the queue."


def _app(tmp_path: Path) -> tuple[cdk.App, cdk.Stack]:
    app = cdk.App(outdir=str(tmp_path))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(verbose=True))
    return app, cdk.Stack(app, "Lab")


def _role(stack: cdk.Stack) -> iam.Role:
    return iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))


def _queue_grant(stack: cdk.Stack, role: iam.Role) -> sqs.Queue:
    queue = sqs.Queue(stack, "Queue", encryption_master_key=kms.Key(stack, "Key", enable_key_rotation=True), enforce_ssl=True)
    acknowledge(scope=queue, rule="AwsSolutions-SQS3", reason="This queue is a dead-letter queue in this test; it has none of its own.")
    queue.grant_send_messages(role)
    return queue


def _grant_findings() -> dict[str, str]:
    return {wildcard_action("kms:GenerateDataKey*"): KEY_VARIANTS, wildcard_action("kms:ReEncrypt*"): KEY_VARIANTS}


def test_listed_grant_findings_pass_and_name_the_exact_finding(tmp_path: Path) -> None:
    app, stack = _app(tmp_path)
    role = _role(stack)
    _queue_grant(stack, role)
    acknowledge_grants(policy=role.node.find_child("DefaultPolicy"), findings=_grant_findings())
    app.synth()
    assert unacknowledged_findings(outdir=tmp_path) == []
    assert unused_acknowledgments(outdir=tmp_path) == []


def test_a_wildcard_grant_not_listed_fails_synth_naming_the_policy_and_finding(tmp_path: Path) -> None:
    app, stack = _app(tmp_path)
    role = _role(stack)
    _queue_grant(stack, role)
    acknowledge_grants(policy=role.node.find_child("DefaultPolicy"), findings=_grant_findings())
    bucket = s3.Bucket(stack, "Bucket")
    bucket.grant_read(role)
    expected = re.escape(f"Lab/Role/DefaultPolicy: {wildcard_resource(scope=stack, resource=bucket.arn_for_objects('*'))} is not acknowledged")
    with pytest.raises(RuntimeError, match=expected) as raised:
        app.synth()
    assert "AwsSolutions-IAM5[Action::s3:GetObject*]" in str(raised.value)
    assert "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]" not in str(raised.value)


def test_a_listed_finding_no_grant_makes_fails_synth(tmp_path: Path) -> None:
    app, stack = _app(tmp_path)
    role = _role(stack)
    _queue_grant(stack, role)
    stale = wildcard_resource(scope=stack, resource="arn:aws:s3:::elsewhere/*")
    acknowledge_grants(policy=role.node.find_child("DefaultPolicy"), findings={**_grant_findings(), stale: "No grant makes this one."})
    with pytest.raises(RuntimeError, match=re.escape(f"Lab/Role/DefaultPolicy: {stale} is acknowledged but not granted")):
        app.synth()


def test_the_finding_helpers_render_tokens_as_cdk_nag_does(tmp_path: Path) -> None:
    _, stack = _app(tmp_path)
    bucket = s3.Bucket(stack, "Bucket")
    logical = stack.get_logical_id(bucket.node.default_child)
    assert wildcard_resource(scope=stack, resource=bucket.arn_for_objects("smp-x/*")) == f"AwsSolutions-IAM5[Resource::<{logical}.Arn>/smp-x/*]"
    assert wildcard_action("s3:Get*") == "AwsSolutions-IAM5[Action::s3:Get*]"


def _policy_with_reasons(stack: cdk.Stack) -> iam.Policy:
    policy = iam.Policy(
        stack,
        "Policy",
        roles=[_role(stack)],
        statements=[iam.PolicyStatement(sid="Metrics", actions=["cloudwatch:PutMetricData"], resources=["*"])],
    )
    acknowledge_wildcards(
        scope=policy, document=policy.document, reasons={"Metrics": "cloudwatch:PutMetricData supports no resource-level permissions."}
    )
    return policy


def test_a_statement_added_after_the_acknowledgment_fails_synth_even_with_a_finding_already_acknowledged(tmp_path: Path) -> None:
    app, stack = _app(tmp_path)
    policy = _policy_with_reasons(stack)
    policy.add_statements(iam.PolicyStatement(sid="Later", actions=["s3:ListAllMyBuckets"], resources=["*"]))
    with pytest.raises(RuntimeError, match=re.escape("Lab/Policy: AwsSolutions-IAM5[Resource::*] in statement 'Later' is not acknowledged")):
        app.synth()


def test_a_wildcard_statement_without_a_reason_fails_at_once(tmp_path: Path) -> None:
    _, stack = _app(tmp_path)
    policy = iam.Policy(stack, "Policy", roles=[_role(stack)], statements=[iam.PolicyStatement(sid="Other", actions=["s3:*"], resources=["*"])])
    with pytest.raises(KeyError, match=r"Lab/Policy: no acknowledgment reason for AwsSolutions::AwsSolutions-IAM5\[Action::s3:\*\] in statement\(s\) \['Other'\]"):
        acknowledge_wildcards(scope=policy, document=policy.document, reasons={"Metrics": "not this one"})


def test_an_acknowledgment_of_the_policy_resource_does_not_cover_the_roles_later_grants(tmp_path: Path) -> None:
    """Acknowledged on the role's own resource: a grant in its DefaultPolicy (a child of the role) is still a finding."""
    app, stack = _app(tmp_path)
    document = iam.PolicyDocument(statements=[iam.PolicyStatement(sid="Metrics", actions=["cloudwatch:PutMetricData"], resources=["*"])])
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), inline_policies={"Own": document})
    acknowledge_wildcards(scope=role, document=document, reasons={"Metrics": "cloudwatch:PutMetricData supports no resource-level permissions."})
    role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:ListAllMyBuckets"], resources=["*"]))
    with pytest.raises(RuntimeError, match=r"(?s)Lab/Role/DefaultPolicy/Resource.*AwsSolutions-IAM5\[Resource::\*\]"):
        app.synth()


def test_an_acknowledgment_that_suppresses_nothing_is_reported(tmp_path: Path) -> None:
    app, stack = _app(tmp_path)
    _policy_with_reasons(stack)
    bucket = s3.Bucket(stack, "Bucket", enforce_ssl=True, server_access_logs_bucket=s3.Bucket.from_bucket_name(stack, "Logs", "logs"))
    acknowledge(scope=bucket, rule="AwsSolutions-S1", reason="Access logs are configured: this acknowledgment covers nothing.")
    acknowledge(scope=bucket, rule="AwsSolutions-SQS3", reason="A bucket is no queue: this acknowledgment covers nothing.")
    app.synth()
    assert unacknowledged_findings(outdir=tmp_path) == []
    assert unused_acknowledgments(outdir=tmp_path) == ["AwsSolutions-S1 at Lab/Bucket", "AwsSolutions-SQS3 at Lab/Bucket"]


def test_acknowledgments_are_read_from_the_stacks_the_manifest_lists_not_a_previous_synths_files(tmp_path: Path) -> None:
    app, stack = _app(tmp_path)
    _policy_with_reasons(stack)
    app.synth()
    left_over = tmp_path / "assembly-gone" / "GoneStack.metadata.json"
    left_over.parent.mkdir()
    entry = {"type": "aws:cdk:acknowledged-rules", "data": {"AwsSolutions::AwsSolutions-SQS3": "A queue of an environment no longer synthesized."}}
    left_over.write_text(json.dumps({"/gone/Queue": [entry]}))
    assert unused_acknowledgments(outdir=tmp_path) == []
