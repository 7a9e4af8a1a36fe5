"""An offline evaluator of IAM policies, for asserting what the guardrails allow and deny.

moto does not evaluate IAM conditions, so the tests evaluate the synthesized policies here. It
implements the parts of AWS's evaluation logic the platform's policies use: explicit Deny wins,
an identity Allow is needed, a permission boundary must also allow, and the condition operators
below with their ForAnyValue / ForAllValues / IfExists forms. An operator it does not know raises, as
does a Null or Bool value other than "true" and "false", so a policy can never pass a test by being
misunderstood.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

ContextValue = str | Sequence[str]


class Decision(enum.Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


@dataclass(frozen=True)
class Request:
    """One API call as IAM sees it: action, resource ARN and request context keys."""

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)


_NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike", "StringNotEqualsIgnoreCase", "NumericNotEquals"}
_NUMERIC = {
    "NumericEquals": lambda value, expected: value == expected,
    "NumericLessThan": lambda value, expected: value < expected,
    "NumericLessThanEquals": lambda value, expected: value <= expected,
    "NumericGreaterThan": lambda value, expected: value > expected,
    "NumericGreaterThanEquals": lambda value, expected: value >= expected,
}


def _wildcard(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile("^" + "".join(parts) + "$", (re.IGNORECASE if ignore_case else 0) | re.DOTALL)


def _matches_one(base: str, value: str, expected: str) -> bool:
    """The positive form of ``base`` for a single request value against a single policy value."""
    if base in ("StringEquals", "ArnEquals"):
        return value == expected
    if base == "StringEqualsIgnoreCase":
        return value.lower() == expected.lower()
    if base in ("StringLike", "ArnLike"):
        return bool(_wildcard(expected).match(value))
    if base == "Bool":
        return value.lower() == expected.lower()
    if base in _NUMERIC:
        return _NUMERIC[base](float(value), float(expected))
    raise ValueError(f"condition operator {base!r} is not supported by this evaluator")


def _positive(base: str) -> str:
    return {
        "StringNotEquals": "StringEquals",
        "StringNotLike": "StringLike",
        "ArnNotEquals": "ArnEquals",
        "ArnNotLike": "ArnLike",
        "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
        "NumericNotEquals": "NumericEquals",
    }.get(base, base)


def _value_satisfies(base: str, value: str, expected: Sequence[str]) -> bool:
    """Whether one request value satisfies ``base`` against the policy's values (ORed, or NORed when negated)."""
    hit = any(_matches_one(_positive(base), value, item) for item in expected)
    return not hit if base in _NEGATED else hit


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, ContextValue]) -> bool:
    expected_values = [str(v).lower() if isinstance(v, bool) else str(v) for v in (expected if isinstance(expected, list) else [expected])]
    present = key in context
    if operator.rpartition(":")[2].removesuffix("IfExists") in ("Null", "Bool") and not set(expected_values) <= {"true", "false"}:
        raise ValueError(f"{operator} {key!r}: policy value {expected!r} is not 'true' or 'false'")
    if operator == "Null":
        wants_absent = expected_values[0].lower() == "true"
        return (not present) if wants_absent else present

    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    if if_exists:
        base = base[: -len("IfExists")]
    if not present:
        if if_exists:
            return True
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return base in _NEGATED

    raw = context[key]
    values = [raw] if isinstance(raw, str) else list(raw)
    if qualifier == "ForAnyValue":
        return any(_value_satisfies(base, v, expected_values) for v in values)
    if qualifier == "ForAllValues":
        return all(_value_satisfies(base, v, expected_values) for v in values)
    if qualifier:
        raise ValueError(f"condition set operator {qualifier!r} is not supported by this evaluator")
    if len(values) != 1:
        raise ValueError(f"key {key!r} is multivalued; the policy must use ForAnyValue or ForAllValues with {operator}")
    return _value_satisfies(base, values[0], expected_values)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    """Whether a statement's action, resource and conditions all match the request."""
    if "Action" in statement:
        if not any(_wildcard(a, ignore_case=True).match(request.action) for a in _as_list(statement["Action"])):
            return False
    elif any(_wildcard(a, ignore_case=True).match(request.action) for a in _as_list(statement["NotAction"])):
        return False
    if "Resource" in statement:
        if not any(_wildcard(r).match(request.resource) for r in _as_list(statement["Resource"])):
            return False
    elif "NotResource" in statement and any(_wildcard(r).match(request.resource) for r in _as_list(statement["NotResource"])):
        return False
    for operator, keys in statement.get("Condition", {}).items():
        for key, expected in keys.items():
            if not _condition_holds(operator, key, expected, request.context):
                return False
    return True


def _statements(documents: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [s for d in documents for s in _as_list(d.get("Statement", []))]


def matching_sids(documents: Iterable[Mapping[str, Any]], request: Request, *, effect: str) -> list[str]:
    """Sids of the statements with ``effect`` that apply to the request (to explain a decision)."""
    return [s.get("Sid", "?") for s in _statements(documents) if s["Effect"] == effect and statement_applies(s, request)]


def evaluate(
    *, identity_policies: Sequence[Mapping[str, Any]], boundary: Mapping[str, Any] | None, request: Request
) -> Decision:
    """Decide a request for a principal with these identity policies and permission boundary."""
    every = list(identity_policies) + ([boundary] if boundary else [])
    if matching_sids(every, request, effect="Deny"):
        return Decision.EXPLICIT_DENY
    if not matching_sids(identity_policies, request, effect="Allow"):
        return Decision.IMPLICIT_DENY
    if boundary is not None and not matching_sids([boundary], request, effect="Allow"):
        return Decision.IMPLICIT_DENY
    return Decision.ALLOW


def principal_matches(statement: Mapping[str, Any], context: Mapping[str, ContextValue]) -> bool:
    """Whether a resource policy statement's ``Principal`` names the caller described by ``context``.

    The caller is ``aws:PrincipalArn`` and ``aws:PrincipalAccount`` for an IAM role, or
    ``aws:PrincipalServiceName`` for an AWS service; ``arn:...:root`` (or a bare account id) names
    every principal of that account, ``*`` everyone.
    """
    if "NotPrincipal" in statement:
        raise ValueError("NotPrincipal is not supported by this evaluator")
    principal = statement["Principal"]
    if principal == "*":
        return True
    service = context.get("aws:PrincipalServiceName")
    if service is not None:
        return service in _as_list(principal.get("Service", []))
    for value in _as_list(principal.get("AWS", [])):
        if value == "*" or value == context.get("aws:PrincipalArn"):
            return True
        account = value.split(":")[4] if value.startswith("arn:") and value.endswith(":root") else value
        if account == context.get("aws:PrincipalAccount"):
            return True
    return False


def resource_policy_sids(policy: Mapping[str, Any], request: Request, *, effect: str) -> list[str]:
    """Sids of a resource policy's statements with ``effect`` that name the caller and apply to the request."""
    return [
        s.get("Sid", "?")
        for s in _statements([policy])
        if s["Effect"] == effect and principal_matches(s, request.context) and statement_applies(s, request)
    ]
