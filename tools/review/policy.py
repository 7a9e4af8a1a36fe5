"""Policy documents compared as a reviewer reads them: statements added and removed, and per changed
statement the actions, resources, principals and condition values added and removed.

A JSON path such as ``Statement[3].Condition.StringNotLike.sagemaker:InstanceTypes[5]`` says where,
not what: these lines name the statement (its ``Sid``) and the values.
"""

from __future__ import annotations

import json
from typing import Any, Iterator, Mapping

from pipeline_defs.contract import canonical_json

POLICY_KEYS = ("PolicyDocument", "AssumeRolePolicyDocument", "KeyPolicy")
"""Property names whose value is a policy document (IAM, bucket, topic, queue and key policies, trust)."""

_LIST_FIELDS = ("Action", "NotAction", "Resource", "NotResource")


def cfn_text(value: Any) -> str:
    """A value with CloudFormation functions written short: ``${Ref}``, ``${Res.Arn}``, ``${stack:Output}``, joins inline."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (function, argument), = value.items()
        if function == "Ref":
            return f"${{{argument}}}"
        if function == "Fn::GetAtt" and isinstance(argument, list):
            return "${" + ".".join(str(a) for a in argument) + "}"
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], list):
            return str(argument[0]).join(cfn_text(part) for part in argument[1])
        if function == "Fn::GetStackOutput" and isinstance(argument, dict):
            return f"${{{argument.get('StackName')}:{argument.get('OutputName')}}}"
        if function == "Fn::ImportValue":
            return f"${{import:{cfn_text(argument)}}}"
        if function == "Fn::Sub":
            return cfn_text(argument[0] if isinstance(argument, list) else argument)
    return canonical_json(value)


def _values(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [] if value is None else [value]
    return [cfn_text(item) for item in items]


def _principals(value: Any) -> list[str]:
    """``Service:sagemaker.amazonaws.com``, ``AWS:arn:...``; ``*`` stays ``*``."""
    if isinstance(value, dict) and not (len(value) == 1 and next(iter(value)).startswith("Fn::")):
        return [f"{kind}:{item}" for kind, items in sorted(value.items()) for item in _values(items)]
    return _values(value)


def _conditions(value: Any) -> dict[str, list[str]]:
    """``Operator key`` → its values."""
    flat: dict[str, list[str]] = {}
    for operator, keys in sorted((value or {}).items()):
        for key, values in sorted((keys or {}).items()):
            flat[f"{operator} {key}"] = _values(values)
    return flat


def _statements(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    statements = document.get("Statement") or []
    return [s for s in (statements if isinstance(statements, list) else [statements]) if isinstance(s, dict)]


def _identity(statement: Mapping[str, Any]) -> str:
    return json.dumps(statement, sort_keys=True)


def _pair(old: list[dict], new: list[dict]) -> Iterator[tuple[dict | None, dict | None]]:
    """Old and new statements matched: by Sid, then unchanged ones, then same effect and actions, then same effect and resources."""
    old, new = list(old), list(new)
    by_sid = {s["Sid"]: s for s in new if s.get("Sid")}
    for statement in [s for s in old if s.get("Sid") in by_sid]:
        match = by_sid[statement["Sid"]]
        old.remove(statement)
        new.remove(match)
        yield statement, match
    for key in (_identity, lambda s: (s.get("Effect"), sorted(_values(s.get("Action")))), lambda s: (s.get("Effect"), sorted(_values(s.get("Resource"))))):
        for statement in list(old):
            match = next((s for s in new if not s.get("Sid") and not statement.get("Sid") and key(s) == key(statement)), None)
            if match is not None:
                old.remove(statement)
                new.remove(match)
                yield statement, match
    for statement in old:
        yield statement, None
    for statement in new:
        yield None, statement


def _name(statement: Mapping[str, Any]) -> str:
    return f"statement {statement['Sid']}" if statement.get("Sid") else "statement"


def describe_statement(statement: Mapping[str, Any]) -> str:
    """``Allow s3:GetObject, s3:PutObject on arn:... to Service:x when StringEquals aws:SourceAccount = 1111``."""
    actions = _values(statement.get("Action")) or [f"all but {a}" for a in _values(statement.get("NotAction"))]
    text = f"{statement.get('Effect')} {', '.join(actions)}"
    resources = _values(statement.get("Resource")) or [f"all but {r}" for r in _values(statement.get("NotResource"))]
    if resources:
        text += f" on {', '.join(resources)}"
    principals = _principals(statement.get("Principal"))
    if principals:
        text += f" to {', '.join(principals)}"
    conditions = _conditions(statement.get("Condition"))
    if conditions:
        text += " when " + " and ".join(f"{key} = {', '.join(values)}" for key, values in conditions.items())
    return text


def _added_removed(old: list[str], new: list[str]) -> str:
    added = [v for v in new if v not in old]
    removed = [v for v in old if v not in new]
    return " ".join([*(f"+ {v}" for v in added), *(f"- {v}" for v in removed)])


def _statement_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[str]:
    if old.get("Effect") != new.get("Effect"):
        yield f"Effect {old.get('Effect')} → {new.get('Effect')}"
    for field in _LIST_FIELDS:
        change = _added_removed(_values(old.get(field)), _values(new.get(field)))
        if change:
            yield f"{field} {change}"
    change = _added_removed(_principals(old.get("Principal")), _principals(new.get("Principal")))
    if change:
        yield f"Principal {change}"
    before, after = _conditions(old.get("Condition")), _conditions(new.get("Condition"))
    for key in sorted(set(before) | set(after)):
        if key not in after:
            yield f"Condition {key} removed (was {', '.join(before[key])})"
        elif key not in before:
            yield f"Condition {key} added: {', '.join(after[key])}"
        elif before[key] != after[key]:
            yield f"Condition {key} {_added_removed(before[key], after[key]) or 'reordered'}"


def policy_lines(old: Any, new: Any) -> list[str]:
    """One line per statement added or removed and per value a kept statement gained or lost."""
    lines = []
    for before, after in _pair(_statements(old), _statements(new)):
        if before is None:
            lines.append(f"+ {_name(after)}: {describe_statement(after)}")
        elif after is None:
            lines.append(f"- {_name(before)}: {describe_statement(before)}")
        else:
            lines.extend(f"~ {_name(after)}: {change}" for change in _statement_changes(before, after))
    return lines
