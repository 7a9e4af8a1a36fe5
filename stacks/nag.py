"""cdk-nag acknowledgments, each for one exact finding on the resource that raises it.

Wildcards (``AwsSolutions-IAM5[...]``) are acknowledged one by one with the reason of the statement
that grants them: by Sid for the app's own statements, by the exact list of expected findings for the
statements CDK writes itself (``grant*`` calls, CDK constructs' own policies). Each is checked again
at synth against the policy as it is then, so a wildcard added later fails synth naming the policy's
path and the finding (for the app's own statements, even one whose finding another statement already
has). After synthesis, :func:`unused_acknowledgments` names every acknowledgment that suppressed
nothing, so none outlives what it was written for."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterator, Mapping

import jsii
from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct, IValidation

NAG_PACK = "AwsSolutions"
"""The validation plugin name that prefixes acknowledgment ids."""
_ACKNOWLEDGED_RULES = "aws:cdk:acknowledged-rules"
"""Construct metadata type under which ``Validations.acknowledge`` records an acknowledgment."""


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


def wildcard_action(action: str) -> str:
    """The IAM5 finding of a wildcard action, e.g. ``AwsSolutions-IAM5[Action::kms:ReEncrypt*]``."""
    return f"{NAG_PACK}-IAM5[Action::{action}]"


def wildcard_resource(*, scope: IConstruct, resource: str) -> str:
    """The IAM5 finding of a wildcard resource as ``scope``'s stack renders it, e.g. ``<Fn.Arn>:*``."""
    return _resource_finding(_flatten(Stack.of(scope).resolve(resource)))


def _resource_finding(name: str) -> str:
    return f"{NAG_PACK}-IAM5[Resource::{name}]"


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
                findings[f"{NAG_PACK}::{wildcard_action(action)}"].append(sid)
        for resource in _as_list(statement.get("Resource", [])):
            name = _flatten(resource)
            if "*" in name:
                findings[f"{NAG_PACK}::{_resource_finding(name)}"].append(sid)
    return findings


def _cfn_resource(scope: IConstruct) -> IConstruct:
    """The CloudFormation resource of ``scope``: an acknowledgment covers its construct's children too, and
    a role's ``DefaultPolicy`` (where later grants go) is a child of the role, not of its resource."""
    return scope.node.default_child or scope


@jsii.implements(IValidation)
class _SameWildcards:
    """At synth: the policy's wildcards are still the ones acknowledged (with their Sids, where ``by_sid``)."""

    def __init__(self, *, scope: IConstruct, document: iam.PolicyDocument, expected: Mapping[str, Counter], by_sid: bool) -> None:
        self._scope = scope
        self._document = document
        self._expected = expected
        self._by_sid = by_sid

    def validate(self) -> list[str]:
        actual = {
            finding: Counter(sids) if self._by_sid else Counter(["?"])
            for finding, sids in wildcard_findings(scope=self._scope, document=self._document).items()
        }
        return _differences(path=self._scope.node.path, actual=actual, expected=self._expected)


def _differences(*, path: str, actual: Mapping[str, Counter], expected: Mapping[str, Counter]) -> list[str]:
    errors = []
    for finding in sorted(set(actual) | set(expected)):
        name = finding.removeprefix(f"{NAG_PACK}::")
        for sid in sorted((actual.get(finding, Counter()) - expected.get(finding, Counter())).elements()):
            where = f" in statement {sid!r}" if sid not in ("", "?") else ""
            errors.append(f"{path}: {name}{where} is not acknowledged; add it, with its reason, where this policy is acknowledged")
        for sid in sorted((expected.get(finding, Counter()) - actual.get(finding, Counter())).elements()):
            where = f" for statement {sid!r}" if sid not in ("", "?") else ""
            errors.append(f"{path}: {name} is acknowledged{where} but not granted; remove its acknowledgment")
    return errors


def acknowledge_wildcards(*, scope: IConstruct, document: iam.PolicyDocument, reasons: Mapping[str, str]) -> None:
    """Acknowledge every wildcard in ``document`` on ``scope`` with the reason given for its statement's Sid.

    A wildcard statement with no reason fails at once; one added to ``document`` afterwards fails synth.
    """
    findings = wildcard_findings(scope=scope, document=document)
    for finding, sids in sorted(findings.items()):
        missing = [sid for sid in sids if sid not in reasons]
        if missing:
            raise KeyError(f"{scope.node.path}: no acknowledgment reason for {finding} in statement(s) {missing}")
        reason = " ".join(dict.fromkeys(reasons[sid] for sid in sids))
        Validations.of(_cfn_resource(scope)).acknowledge(Acknowledgment(id=finding, reason=reason))
    snapshot = {finding: Counter(sids) for finding, sids in findings.items()}
    scope.node.add_validation(_SameWildcards(scope=scope, document=document, expected=snapshot, by_sid=True))


def acknowledge_grants(*, policy: iam.Policy, findings: Mapping[str, str]) -> None:
    """Acknowledge the wildcards CDK wrote into ``policy`` (a role's ``DefaultPolicy`` after ``grant*`` calls, or a
    policy of a CDK construct): exactly ``findings``, each expected finding (:func:`wildcard_action`,
    :func:`wildcard_resource`) with its reason.

    At synth, a wildcard in ``policy`` that is not listed, or a listed one it no longer grants, fails
    synth naming the policy's path and the finding.
    """
    for finding, reason in sorted(findings.items()):
        Validations.of(_cfn_resource(policy)).acknowledge(Acknowledgment(id=f"{NAG_PACK}::{finding}", reason=reason))
    expected = {f"{NAG_PACK}::{finding}": Counter(["?"]) for finding in findings}
    policy.node.add_validation(_SameWildcards(scope=policy, document=policy.document, expected=expected, by_sid=False))


def acknowledge(*, scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one finding (``AwsSolutions-SQS3``, ``AwsSolutions-IAM5[Resource::*]``) on one construct."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{NAG_PACK}::{rule}", reason=reason))


def _plugin_reports(outdir: Path) -> list[dict]:
    report = Path(outdir) / "validation-report.json"
    return json.loads(report.read_text()).get("pluginReports", []) if report.exists() else []


def unacknowledged_findings(*, outdir: Path) -> list[str]:
    """Unacknowledged cdk-nag findings of a synthesized assembly, as ``rule at construct path`` lines."""
    lines = []
    for plugin in _plugin_reports(outdir):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                lines.append(f"{violation['ruleName']} at {construct['constructPath']}")
    return sorted(lines)


def _stack_metadata(directory: Path) -> Iterator[dict[str, list[dict]]]:
    """Construct metadata of every stack the assembly's manifest lists (nested assemblies too): never
    the files a previous synth left in the same directory."""
    manifest = json.loads((directory / "manifest.json").read_text())
    for artifact in manifest.get("artifacts", {}).values():
        if artifact["type"] == "cdk:cloud-assembly":
            yield from _stack_metadata(directory / artifact["properties"]["directoryName"])
        elif artifact["type"] == "aws:cloudformation:stack":
            yield artifact.get("metadata", {})
            if "additionalMetadataFile" in artifact:
                yield json.loads((directory / artifact["additionalMetadataFile"]).read_text())


def unused_acknowledgments(*, outdir: Path) -> list[str]:
    """cdk-nag acknowledgments in a synthesized assembly that suppressed no finding, as ``rule at path`` lines."""
    used = {
        (violation["acknowledgedAt"], violation["acknowledgedId"])
        for plugin in _plugin_reports(outdir)
        if plugin.get("pluginName") == NAG_PACK
        for violation in plugin.get("suppressedViolations", [])
    }
    lines = []
    for metadata in _stack_metadata(Path(outdir)):
        for path, entries in metadata.items():
            for entry in entries:
                if entry["type"] != _ACKNOWLEDGED_RULES:
                    continue
                for rule in entry["data"]:
                    if rule.startswith(f"{NAG_PACK}::") and (path.lstrip("/"), rule) not in used:
                        lines.append(f"{rule.removeprefix(f'{NAG_PACK}::')} at {path.lstrip('/')}")
    return sorted(lines)
