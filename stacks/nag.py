"""cdk-nag acknowledgments, computed from the policies they cover.

IAM5 findings are acknowledged one by one (``AwsSolutions-IAM5[Resource::...]``), each with the
reason of the statement that grants the wildcard, so a new wildcard without a reason fails synth.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any, Mapping

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct

NAG_PACK = "AwsSolutions"
"""The validation plugin name that prefixes acknowledgment ids."""


def _flatten(value: Any) -> str:
    """Render a resolved CloudFormation value the way cdk-nag names it in a finding."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (function, argument), = value.items()
        if function == "Fn::Join":
            delimiter, parts = argument
            return delimiter.join(_flatten(part) for part in parts)
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return f"<{argument[0]}.{argument[1]}>"
        if function == "Fn::Sub" and isinstance(argument, str):
            return re.sub(r"\$\{([^}!]+)\}", lambda m: f"<{m.group(1)}>", argument)
        if function == "Fn::ImportValue":
            return f"<{_flatten(argument)}>"
    return json.dumps(value, separators=(",", ":"))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def wildcard_findings(*, scope: IConstruct, document: iam.PolicyDocument) -> dict[str, list[str]]:
    """IAM5 finding ids of each Allow statement with a wildcard, keyed by finding, valued by Sids."""
    resolved = Stack.of(scope).resolve(document)
    findings: dict[str, list[str]] = defaultdict(list)
    for statement in resolved.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        sid = statement.get("Sid", "")
        for action in _as_list(statement.get("Action", [])):
            if "*" in action:
                findings[f"{NAG_PACK}::AwsSolutions-IAM5[Action::{action}]"].append(sid)
        for resource in _as_list(statement.get("Resource", [])):
            name = _flatten(resource)
            if "*" in name:
                findings[f"{NAG_PACK}::AwsSolutions-IAM5[Resource::{name}]"].append(sid)
    return findings


def acknowledge_wildcards(*, scope: IConstruct, document: iam.PolicyDocument, reasons: Mapping[str, str]) -> None:
    """Acknowledge every wildcard in ``document`` on ``scope`` with the reason given for its statement."""
    for finding, sids in sorted(wildcard_findings(scope=scope, document=document).items()):
        missing = [sid for sid in sids if sid not in reasons]
        if missing:
            raise KeyError(f"{scope.node.path}: no acknowledgment reason for {finding} in statement(s) {missing}")
        reason = " ".join(dict.fromkeys(reasons[sid] for sid in sids))
        Validations.of(scope).acknowledge(Acknowledgment(id=finding, reason=reason))


def acknowledge(*, scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one AwsSolutions finding (``AwsSolutions-IAM4[...]``) on one construct."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{NAG_PACK}::{rule}", reason=reason))


def acknowledge_grants(*, role: IConstruct, reason: str) -> None:
    """Acknowledge the wildcards CDK's ``grant*`` calls put in a role's default policy (statements without a Sid)."""
    policy = role.node.find_child("DefaultPolicy")
    acknowledge_wildcards(scope=policy, document=policy.document, reasons={"": reason})
