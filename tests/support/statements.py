"""Policy statements built in a bare stack and resolved to the values one account and region give them.

Building the statements directly (no app synth) keeps a test at milliseconds, so a mutation run can
afford to run it against every mutant of the builder.
"""

from __future__ import annotations

from typing import Any, Mapping

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}


def concrete(value: Any, *, attributes: Mapping[str, str] | None = None) -> Any:
    """A resolved CloudFormation value with the pseudo parameters filled in (a reference to a resource
    stays as it is), and each ``Fn::GetAtt`` replaced by ``attributes["<logical id>.<attribute>"]`` (a
    missing one raises)."""
    known = attributes or {}
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return PSEUDO[value["Ref"]] if value["Ref"].startswith("AWS::") else value
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        return known[f"{logical_id}.{attribute}"]
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(concrete(part, attributes=known) for part in parts)
    if isinstance(value, dict):
        return {key: concrete(item, attributes=known) for key, item in value.items()}
    if isinstance(value, list):
        return [concrete(item, attributes=known) for item in value]
    return value


def arn(resource: str, service: str = "sagemaker", *, account: str = ACCOUNT, region: str = REGION) -> str:
    """An ARN of this account and region, as a request names its resource."""
    return f"arn:aws:{service}:{region}:{account}:{resource}"
