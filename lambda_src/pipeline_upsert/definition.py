"""Put a pipeline definition back together from the custom resource's ``Definition`` property.

The definition arrives split (a head, the step order, one JSON string per step) so that ``cdk diff``
shows a one-step change as that step alone, or, when too large for a template, as an S3 object with
the ``${Name}`` values CloudFormation would have substituted. This function ships alone, so it keeps
its own copy of two facts it shares with the compiler: the canonical JSON serialization and the
placeholder syntax. ``tests/lambda_src/test_pipeline_upsert.py`` fails when a copy and the
project's definition behave differently.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from handler_kit import RequestError

FIELD = "ResourceProperties.Definition"
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def canonical_json(value: Any) -> str:
    """The one serialization of definitions: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def placeholder_names(text: str) -> list[str]:
    """Every ``${...}`` name in the text, in order of appearance, duplicates removed."""
    return list(dict.fromkeys(match.group(1) for match in PLACEHOLDER.finditer(text)))


def definition_from_object(*, substitutions: Any, text: str) -> str:
    """The S3 object's text with its placeholders filled, as canonical JSON."""
    if not isinstance(substitutions, Mapping):
        raise RequestError(field=f"{FIELD}.Substitutions", problem="is not an object", allowed="an object of placeholder name to value")
    missing = [name for name in placeholder_names(text) if name not in substitutions]
    if missing:
        raise RequestError(
            field=f"{FIELD}.Substitutions",
            problem=f"has no value for placeholders {missing} of the definition in S3",
            allowed="a value for every ${Name} the definition uses",
        )
    filled = PLACEHOLDER.sub(lambda match: str(substitutions[match.group(1)]), text)
    try:
        return canonical_json(json.loads(filled))
    except json.JSONDecodeError as error:
        raise RequestError(field=f"{FIELD}.S3Key", problem=f"names an object that is not JSON ({error})", allowed="a pipeline definition") from None


def assemble_definition(*, parts: Mapping[str, Any], s3_text: str | None = None) -> str:
    """The definition as canonical JSON, from its template properties (or the text of its S3 object)."""
    if s3_text is not None:
        return definition_from_object(substitutions=parts.get("Substitutions", {}), text=s3_text)
    for key in ("Head", "StepOrder", "Steps"):
        if key not in parts:
            raise RequestError(field=f"{FIELD}.{key}", problem="is missing", allowed="Head, StepOrder and Steps, or S3Bucket and S3Key")
    try:
        head = json.loads(parts["Head"])
        steps = {name: json.loads(text) for name, text in parts["Steps"].items()}
    except (TypeError, AttributeError, json.JSONDecodeError) as error:
        raise RequestError(field=FIELD, problem=f"is not JSON ({error})", allowed="a JSON Head and one JSON string per step") from None
    if not isinstance(head, dict):
        raise RequestError(field=f"{FIELD}.Head", problem="is not a JSON object", allowed="the definition without its steps")
    order = parts["StepOrder"]
    if not isinstance(order, list) or not all(isinstance(name, str) for name in order) or sorted(order) != sorted(steps):
        raise RequestError(field=f"{FIELD}.StepOrder", problem=f"is {order!r}", allowed=f"each of the steps {sorted(steps)} exactly once")
    head["Steps"] = [steps[name] for name in order]
    return canonical_json(head)
