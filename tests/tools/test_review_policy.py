"""Policy documents in the review: statements and the values they gained or lost, never JSON paths."""

from __future__ import annotations

from pathlib import Path

from tool_inputs import PIPELINE, PIPELINE_STACK, REVIEW_NOW, derive

from tools.assembly import load_environments
from tools.review.diff import compare_outputs
from tools.review.policy import cfn_text, policy_lines
from tools.review.render import render_plain

GUARDRAILS = "smp-sandbox-guardrails"
JOB_GUARDRAILS = f"AWS::IAM::ManagedPolicy Guardrails/PermissionBoundary/JobGuardrails/Resource ({GUARDRAILS})"


def _document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_statements_are_matched_by_sid_and_show_values_added_and_removed() -> None:
    old = _document(
        {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/p/*"},
        {"Sid": "Gone", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"},
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}},
    )
    new = _document(
        {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:DeleteObject"], "Resource": ["arn:aws:s3:::b/*"]},
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": ["sagemaker.amazonaws.com"], "AWS": "arn:aws:iam::222222222222:root"}},
        {"Sid": "New", "Effect": "Deny", "NotAction": "s3:GetObject", "Resource": {"Fn::Join": ["", ["arn:aws:s3:::", {"Ref": "Bucket"}, "/*"]]}},
    )
    assert policy_lines(old, new) == [
        "~ statement Read: Action + s3:DeleteObject",
        "~ statement Read: Resource + arn:aws:s3:::b/* - arn:aws:s3:::b/p/*",
        "~ statement: Principal + AWS:arn:aws:iam::222222222222:root",
        "~ statement: Condition StringEquals aws:SourceAccount removed (was 111111111111)",
        "- statement Gone: Allow sqs:SendMessage on *",
        "+ statement New: Deny all but s3:GetObject on arn:aws:s3:::${Bucket}/*",
    ]
    assert policy_lines(new, new) == []


def test_cloudformation_values_read_short() -> None:
    assert cfn_text({"Fn::GetAtt": ["Role", "Arn"]}) == "${Role.Arn}"
    assert cfn_text({"Fn::GetStackOutput": {"StackName": "smp-prod-network", "OutputName": "Subnet"}}) == "${smp-prod-network:Subnet}"
    assert cfn_text({"Fn::Join": [":", ["arn", {"Ref": "AWS::Partition"}, "s3"]]}) == "arn:${AWS::Partition}:s3"


def _guardrail_statement(templates: dict, sid: str) -> dict:
    policies = [r for r in templates[GUARDRAILS]["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"]
    (statement,) = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == sid]
    return statement


def test_a_guardrail_allowlist_change_names_the_instance_types(synth_dir: Path, tmp_path: Path) -> None:
    def edit(templates: dict) -> None:
        statement = _guardrail_statement(templates, "DenyInstanceTypesOutsideAllowlist")
        allowed = statement["Condition"]["ForAnyValue:StringNotLike"]["sagemaker:InstanceTypes"]
        edit.removed = allowed.pop(0)
        allowed.append("ml.p4d.24xlarge")

    head = derive(synth_dir, tmp_path / "head.out", edit)
    result = compare_outputs(old=load_environments(outdir=synth_dir), new=load_environments(outdir=head), base="a", head="b", now=REVIEW_NOW)
    line = f"PolicyDocument: ~ statement DenyInstanceTypesOutsideAllowlist: Condition ForAnyValue:StringNotLike sagemaker:InstanceTypes + ml.p4d.24xlarge - {edit.removed}"
    sandbox = result.environments[1]
    assert sandbox.resources == (f"~ {JOB_GUARDRAILS}", f"    {line}")
    assert [str(f) for f in sandbox.security] == [f"{JOB_GUARDRAILS}: {line}"]
    assert render_plain(result).splitlines()[3:6] == ["  other resources:", f"    ~ {JOB_GUARDRAILS}", f"        {line}"]


def test_the_network_isolation_deny_changing_lists_the_exempt_pipelines(synth_dir: Path, tmp_path: Path) -> None:
    def edit(templates: dict) -> None:
        statement = _guardrail_statement(templates, "DenyJobsWithoutNetworkIsolation")
        del statement["Condition"]["StringNotEquals"]

    head = derive(synth_dir, tmp_path / "head.out", edit)
    result = compare_outputs(old=load_environments(outdir=synth_dir), new=load_environments(outdir=head), base="a", head="b", now=REVIEW_NOW)
    findings = [str(f) for f in result.environments[1].security]
    assert findings == [
        f"{JOB_GUARDRAILS}: PolicyDocument: ~ statement DenyJobsWithoutNetworkIsolation: Condition StringNotEquals "
        "aws:PrincipalTag/smp:network-isolation-exempt removed (was true)",
        "sandbox: network-isolation exemptions unchanged; exempt now: smp-sandbox-batch-inference",
    ]


def test_a_role_tagged_exempt_says_which_pipeline_is_now_exempt(synth_dir: Path, tmp_path: Path) -> None:
    def edit(templates: dict) -> None:
        role = next(r for r in templates[PIPELINE_STACK]["Resources"].values() if r["Type"] == "AWS::IAM::Role")
        role["Properties"]["Tags"].append({"Key": "smp:network-isolation-exempt", "Value": "true"})

    head = derive(synth_dir, tmp_path / "head.out", edit)
    forward = compare_outputs(old=load_environments(outdir=synth_dir), new=load_environments(outdir=head), base="a", head="b", now=REVIEW_NOW)
    (pipeline,) = forward.environments[1].pipelines_changed
    assert pipeline.resources == (
        "~ AWS::IAM::Role ExecutionRole/Role/Resource",
        '    Properties.Tags.smp:network-isolation-exempt: (absent) → "true"',
    )
    assert [str(f) for f in forward.environments[1].security] == [
        f"{PIPELINE} AWS::IAM::Role ExecutionRole/Role/Resource: now exempt from network isolation: "
        'Properties.Tags.smp:network-isolation-exempt (absent) → "true"',
        f"sandbox: network-isolation exemptions + {PIPELINE}; exempt now: smp-sandbox-batch-inference, {PIPELINE}",
    ]
    # The exemption ending is shown, and flagged as the role's change only: it narrows what runs.
    backward = compare_outputs(old=load_environments(outdir=head), new=load_environments(outdir=synth_dir), base="a", head="b", now=REVIEW_NOW)
    assert [f.what for f in backward.environments[1].security] == [
        'no longer exempt from network isolation: Properties.Tags.smp:network-isolation-exempt "true" → (absent)'
    ]
