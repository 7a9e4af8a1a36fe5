"""How close each synthesized template comes to the CloudFormation, IAM, SQS, Lambda and EventBridge quotas.

Platforms grow to hundreds of pipelines per environment; a quota passed at deploy time fails the
whole deployment. Policy sizes are measured as IAM counts them, on JSON without whitespace, with each
intrinsic function replaced by a stand-in as long as the longest value it can resolve to here (an ARN,
an id, an account or region).

    python -m tools.quotas cdk.out      # every template's largest figures and their share of each quota
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from base.errors import ExitCode

HEADROOM = 0.8
"""Every figure stays within 80% of its quota, at the number of pipelines the platform plans for."""


@dataclass(frozen=True)
class Quota:
    key: str
    limit: int
    what: str


QUOTAS: tuple[Quota, ...] = (
    Quota("template_bytes", 1_000_000, "CloudFormation template body (S3 URL), bytes"),
    Quota("resources", 500, "CloudFormation resources per stack"),
    Quota("outputs", 200, "CloudFormation outputs per stack"),
    Quota("parameters", 200, "CloudFormation parameters per stack"),
    Quota("role_inline_policy_chars", 10_240, "IAM inline policies of one role, characters in total"),
    Quota("managed_policy_chars", 6_144, "IAM managed policy document, characters"),
    Quota("trust_policy_chars", 2_048, "IAM role trust policy, characters (default quota)"),
    Quota("queue_policy_statements", 20, "SQS queue policy statements"),
    Quota("lambda_permissions_per_function", 100, "Lambda resource policy (20 KB; about 100 statements)"),
    Quota("rules", 300, "EventBridge rules per event bus (counted per template)"),
    Quota("rule_targets", 5, "EventBridge targets per rule"),
)
QUOTA_BY_KEY = {q.key: q for q in QUOTAS}


REFERENCE_LENGTH = 96
"""Stand-in length of a resolved ``Fn::GetAtt`` or cross-stack value: at least the longest ARN or id the
app's policies reference (a role ARN of a 64-character name is 95 characters)."""
RESOURCE_REF_LENGTH = 64
"""A ``Ref`` of a resource: a name (IAM's longest is 64) or an id."""
PSEUDO_PARAMETER_LENGTHS = {"AWS::AccountId": 12, "AWS::Region": 14, "AWS::Partition": 10, "AWS::URLSuffix": 16, "AWS::StackName": 128}
"""The longest value of each pseudo parameter (``ap-southeast-3``, ``aws-us-gov``, ``amazonaws.com.cn``)."""


def _stand_in(name: str) -> str:
    return "x" * PSEUDO_PARAMETER_LENGTHS.get(name, RESOURCE_REF_LENGTH)


def _resolved(value: Any) -> Any:
    """``value`` with intrinsics replaced by stand-ins of their resolved length."""
    if isinstance(value, list):
        return [_resolved(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (function, argument), = value.items()
        if function == "Ref":
            return _stand_in(argument)
        if function in ("Fn::GetAtt", "Fn::GetStackOutput", "Fn::ImportValue"):
            return "x" * REFERENCE_LENGTH
        if function == "Fn::Join":
            delimiter, parts = argument
            return delimiter.join(str(_resolved(part)) for part in parts)
        if function == "Fn::Sub":
            text = argument if isinstance(argument, str) else argument[0]
            return re.sub(r"\$\{([^}]+)\}", lambda match: _stand_in(match.group(1)), text)
    return {k: _resolved(v) for k, v in value.items()}


def _compact(value: Any) -> int:
    return len(json.dumps(_resolved(value), separators=(",", ":")))


def _refs(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [item["Ref"] for item in items if isinstance(item, dict) and "Ref" in item]


def measure_template(*, template: Mapping[str, Any], size: int) -> dict[str, int]:
    """The figures of one template that a quota applies to (largest per role, queue, function, rule)."""
    resources = template.get("Resources", {})
    inline: dict[str, int] = defaultdict(int)
    managed = trust = queue_statements = rule_targets = 0
    permissions: dict[str, int] = defaultdict(int)
    rules = 0
    for logical_id, resource in resources.items():
        kind, properties = resource.get("Type"), resource.get("Properties", {})
        if kind == "AWS::IAM::Role":
            trust = max(trust, _compact(properties.get("AssumeRolePolicyDocument", {})))
            inline[logical_id] += sum(_compact(p.get("PolicyDocument", {})) for p in properties.get("Policies", []))
        elif kind == "AWS::IAM::Policy":
            for role in _refs(properties.get("Roles", [])):
                inline[role] += _compact(properties.get("PolicyDocument", {}))
        elif kind == "AWS::IAM::ManagedPolicy":
            managed = max(managed, _compact(properties.get("PolicyDocument", {})))
        elif kind == "AWS::SQS::QueuePolicy":
            queue_statements = max(queue_statements, len(properties.get("PolicyDocument", {}).get("Statement", [])))
        elif kind == "AWS::Lambda::Permission":
            permissions[json.dumps(properties.get("FunctionName"), sort_keys=True)] += 1
        elif kind == "AWS::Events::Rule":
            rules += 1
            rule_targets = max(rule_targets, len(properties.get("Targets", [])))
    return {
        "template_bytes": size,
        "resources": len(resources),
        "outputs": len(template.get("Outputs", {})),
        "parameters": len(template.get("Parameters", {})),
        "role_inline_policy_chars": max(inline.values(), default=0),
        "managed_policy_chars": managed,
        "trust_policy_chars": trust,
        "queue_policy_statements": queue_statements,
        "lambda_permissions_per_function": max(permissions.values(), default=0),
        "rules": rules,
        "rule_targets": rule_targets,
    }


def stack_templates(*, outdir: Path) -> Iterator[tuple[str, Path]]:
    """(stack name, template path) of every stack in an assembly, nested stage assemblies included."""
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    for artifact in manifest.get("artifacts", {}).values():
        if artifact["type"] == "cdk:cloud-assembly":
            yield from stack_templates(outdir=outdir / artifact["properties"]["directoryName"])
        elif artifact["type"] == "aws:cloudformation:stack":
            yield artifact["properties"].get("stackName", ""), outdir / artifact["properties"]["templateFile"]


def measure_assembly(*, outdir: Path) -> dict[str, dict[str, int]]:
    """Figures per stack name of a synthesized ``cdk.out``."""
    figures = {}
    for name, path in stack_templates(outdir=outdir):
        text = path.read_text(encoding="utf-8")
        figures[name] = measure_template(template=json.loads(text), size=len(text.encode("utf-8")))
    return figures


def over_headroom(*, figures: Mapping[str, int]) -> list[str]:
    """``key value/limit`` of each figure above :data:`HEADROOM` of its quota."""
    return [
        f"{key} {value}/{QUOTA_BY_KEY[key].limit}"
        for key, value in figures.items()
        if value > HEADROOM * QUOTA_BY_KEY[key].limit
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", type=Path, help="a synthesized cdk.out")
    args = parser.parse_args(argv)
    if not (args.outdir / "manifest.json").is_file():
        print(f"error: {str(args.outdir)!r} is not a synthesized cdk.out (no manifest.json): run make synth first", file=sys.stderr)
        return ExitCode.BAD_INPUT
    figures = measure_assembly(outdir=args.outdir)
    worst = {q.key: max(figures.values(), key=lambda f: f[q.key] / q.limit) for q in QUOTAS}
    for quota in QUOTAS:
        value = worst[quota.key][quota.key]
        print(f"{quota.what:<62} {value:>9} / {quota.limit:<9} {value / quota.limit:6.1%}")
    over = {name: over_headroom(figures=f) for name, f in figures.items() if over_headroom(figures=f)}
    for name, items in sorted(over.items()):
        print(f"over {HEADROOM:.0%}: {name}: {', '.join(items)}")
    return ExitCode.ATTENTION if over else ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
