"""A compiled pipeline as JSON and back, exactly: every value carries its type.

The compile cache stores :class:`~pipeline_defs.contract.CompiledPipeline` this way rather than
pickled, so a corrupt or foreign entry can only fail to decode, never run code. Only the types a
compiled pipeline holds are known here; a value of any other type (a field added later with a new
type) raises :class:`UnsupportedValue`, and the cache then stores nothing for that pipeline.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
from types import MappingProxyType
from typing import Any

from pipeline_defs.contract import CompiledPipeline, DeclaredParameter
from pipeline_defs.schedules import DataAccess, Guardrail, GuardrailExemption, Schedule

_DATACLASSES: dict[str, type] = {cls.__name__: cls for cls in (CompiledPipeline, DeclaredParameter, Schedule, GuardrailExemption, DataAccess)}
_ENUMS: dict[str, type[enum.Enum]] = {cls.__name__: cls for cls in (Guardrail,)}
_PLAIN = (str, bool, int, float, type(None))


class UnsupportedValue(TypeError):
    """A value of a type the codec does not know (so it cannot promise to read it back equal)."""


def _pairs(mapping: Any) -> list:
    return [[encode(key), encode(value)] for key, value in mapping.items()]


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data in which every container, enum and dataclass names its type."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is bytes:
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if kind is tuple or kind is list:
        return {f"${kind.__name__}": [encode(item) for item in value]}
    if kind is dict:
        return {"$dict": _pairs(value)}
    if kind is MappingProxyType:
        return {"$mappingproxy": _pairs(value)}
    if isinstance(value, enum.Enum) and _ENUMS.get(kind.__name__) is kind:
        return {"$enum": kind.__name__, "value": encode(value.value)}
    if dataclasses.is_dataclass(value) and _DATACLASSES.get(kind.__name__) is kind:
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return {"$dataclass": kind.__name__, "fields": fields}
    raise UnsupportedValue(f"cannot store a {kind.__module__}.{kind.__qualname__} in the compile cache")


def decode(data: Any) -> Any:
    """The value :func:`encode` was given; malformed data raises (KeyError, TypeError, ValueError)."""
    if type(data) in _PLAIN:
        return data
    if type(data) is not dict or len(data) not in (1, 2):
        raise ValueError(f"not an encoded value: {str(data)[:80]}")
    if "$bytes" in data:
        return base64.b64decode(data["$bytes"].encode("ascii"), validate=True)
    if "$tuple" in data:
        return tuple(decode(item) for item in data["$tuple"])
    if "$list" in data:
        return [decode(item) for item in data["$list"]]
    if "$dict" in data:
        return {decode(key): decode(value) for key, value in data["$dict"]}
    if "$mappingproxy" in data:
        return MappingProxyType({decode(key): decode(value) for key, value in data["$mappingproxy"]})
    if "$enum" in data:
        return _ENUMS[data["$enum"]](decode(data["value"]))
    cls = _DATACLASSES[data["$dataclass"]]
    return cls(**{name: decode(value) for name, value in data["fields"].items()})
