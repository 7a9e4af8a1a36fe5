"""Parse an event into a typed request: one error type, whose message names the field.

``Fields`` reads one JSON object of an event; every reader checks presence and type and raises
``RequestError`` with the field's path from the event root (``ResourceProperties.PipelineName``,
``items_json[3]``), what is wrong with it and what is allowed, so a failed invocation says what to fix.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

REQUIRED: Any = object()
"""Default of a reader: the field must be present (and, for text, non-empty)."""


class RequestError(ValueError):
    """An event field the handler cannot act on."""

    def __init__(self, *, field: str, problem: str, allowed: str) -> None:
        self.field = field
        self.problem = problem
        self.allowed = allowed
        super().__init__(f"field '{field}' {problem}; allowed: {allowed}")


def shown(value: Any) -> str:
    """How a bad value appears in a message: strings quoted, anything else with its JSON type."""
    if isinstance(value, str):
        text = repr(value)
    else:
        kind = {dict: "an object", list: "a list", bool: "a boolean", type(None): "null"}.get(type(value))
        kind = kind or ("a number" if isinstance(value, (int, float)) else f"a {type(value).__name__}")
        text = kind if value is None else f"{kind} {value!r}"
    return text if len(text) <= 120 else text[:117] + "..."


@dataclass(frozen=True)
class Fields:
    """Typed reads of one JSON object; ``path`` is where it sits in the event (empty at the root)."""

    values: Mapping[str, Any]
    path: str = ""

    @classmethod
    def of(cls, *, event: Any) -> Fields:
        """The event itself, which must be a JSON object."""
        if not isinstance(event, Mapping):
            raise RequestError(field="event", problem=f"is {shown(event)}", allowed="a JSON object")
        return cls(values=event)

    def name(self, key: str) -> str:
        """The path of ``key`` from the event root."""
        return f"{self.path}.{key}" if self.path else key

    def fail(self, *, key: str, problem: str, allowed: str) -> RequestError:
        """The error for ``key``, for checks a reader cannot make (cross-field rules)."""
        return RequestError(field=self.name(key), problem=problem, allowed=allowed)

    def _present(self, key: str) -> bool:
        return self.values.get(key) is not None

    def text(self, *, key: str, allowed: str | None = None, pattern: re.Pattern[str] | None = None, default: Any = REQUIRED) -> str:
        """A string; a required one must be non-empty, and match ``pattern`` when one is given."""
        allowed = allowed or ("a non-empty string" if default is REQUIRED else "a string")
        if not self._present(key):
            if default is REQUIRED:
                raise self.fail(key=key, problem="is missing", allowed=allowed)
            return default
        value = self.values[key]
        if not isinstance(value, str) or (default is REQUIRED and not value):
            raise self.fail(key=key, problem=f"is {shown(value)}", allowed=allowed)
        if pattern is not None and value and not pattern.fullmatch(value):
            raise self.fail(key=key, problem=f"is {shown(value)}", allowed=allowed)
        return value

    def integer(self, *, key: str, minimum: int | None = None, maximum: int | None = None, default: Any = REQUIRED) -> int:
        """An integer, or its decimal string (CloudFormation and pipeline parameters send strings).

        An empty string counts as absent: CloudFormation sends an unset optional number that way.
        """
        bounds = [f"at least {minimum}"] if minimum is not None else []
        bounds += [f"at most {maximum}"] if maximum is not None else []
        allowed = "an integer" + (f" ({' and '.join(bounds)})" if bounds else "") + ", as a number or a decimal string"
        value = self.values.get(key)
        if value is None or value == "":
            if default is REQUIRED:
                raise self.fail(key=key, problem="is missing", allowed=allowed)
            return default
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            number = int(value)
        if number is None or (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise self.fail(key=key, problem=f"is {shown(value)}", allowed=allowed)
        return number

    def flag(self, *, key: str, default: bool) -> bool:
        """A boolean, or ``"true"``/``"false"`` in any case (CloudFormation sends every scalar as a string)."""
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.fail(key=key, problem=f"is {shown(value)}", allowed="true or false")

    def object(self, *, key: str, allowed: str = "a JSON object") -> Fields:
        """A nested object, read with its own path."""
        if not self._present(key):
            raise self.fail(key=key, problem="is missing", allowed=allowed)
        value = self.values[key]
        if not isinstance(value, Mapping):
            raise self.fail(key=key, problem=f"is {shown(value)}", allowed=allowed)
        return Fields(values=value, path=self.name(key))

    def json_value(self, *, key: str, kind: type, allowed: str) -> Any:
        """A JSON value of ``kind`` (list or dict), given either decoded or as JSON text."""
        if not self._present(key):
            raise self.fail(key=key, problem="is missing", allowed=allowed)
        raw = self.values[key]
        try:
            value = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError as error:
            raise self.fail(key=key, problem=f"is not JSON ({error})", allowed=allowed) from None
        if not isinstance(value, kind):
            raise self.fail(key=key, problem=f"is {shown(value)}", allowed=allowed)
        return value

    def pairs(self, *, key: str, names: tuple[str, str], default: Any = REQUIRED) -> tuple[tuple[str, str], ...]:
        """A list of two-key objects such as ``[{"Key": .., "Value": ..}]``, as string pairs in list order."""
        first, second = names
        allowed = f"a list of {{{first}, {second}}} objects"
        if not self._present(key):
            if default is REQUIRED:
                raise self.fail(key=key, problem="is missing", allowed=allowed)
            return default
        value = self.values[key]
        if not isinstance(value, list):
            raise self.fail(key=key, problem=f"is {shown(value)}", allowed=allowed)
        for index, entry in enumerate(value):
            if not isinstance(entry, Mapping) or not {first, second} <= set(entry):
                raise RequestError(field=f"{self.name(key)}[{index}]", problem=f"is {shown(entry)}", allowed=allowed)
        return tuple((str(entry[first]), str(entry[second])) for entry in value)
