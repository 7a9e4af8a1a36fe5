"""Structural comparison of a synthesized pipeline (with ``${Name}`` placeholders) and a deployed one.

The result is a list of :class:`Difference` (a JSON path, the synthesized and the deployed value);
``tools.drift`` renders it. A placeholder whose CloudFormation expression can be worked out from the
deployed pipeline's ARN (pseudo parameters, literals, ``Fn::Join`` of those) must equal its value;
any other matches whatever the deployed text has there, but one expression must stand for one value
throughout a pipeline and across the environment's pipelines (see :func:`conflicting_values`), so a
key, subnet or role swapped by hand still shows.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping

from pipeline_defs.placeholders import ACCOUNT_ID, PARTITION, REGION


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()
"""The value on the side where a key, list item or tag does not exist."""


@dataclass(frozen=True)
class Named:
    """An item of a list of objects with unique ``Name`` (steps, parameters), addressed by that name."""

    name: str


PathPart = str | int | Named


@dataclass(frozen=True)
class Difference:
    """One place where the account differs from the synthesized app.

    ``path`` starts with its section: ``definition``, ``setting``, ``tag`` or ``placeholder`` (for a
    placeholder, ``synthesized`` maps the value other pipelines have to their names).
    """

    path: tuple[PathPart, ...]
    synthesized: Any
    deployed: Any


_TOKEN = re.compile(r"(\$\{[^}]*\})")
"""Fn::Sub's ``${Name}`` syntax, the form every placeholder takes in a definition."""


def pseudo_parameters(*, arn: str) -> dict[str, str]:
    """Pseudo parameter values of the account and region that hold the pipeline ``arn``."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return {}
    partition, region, account = parts[1], parts[3], parts[4]
    return {
        PARTITION.name: partition,
        REGION.name: region,
        ACCOUNT_ID.name: account,
        "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
    }


def resolve(*, expression: Any, pseudo: Mapping[str, str]) -> str | None:
    """The value of a CloudFormation expression, or None when only the account knows it."""
    if isinstance(expression, str):
        return expression
    if isinstance(expression, dict) and len(expression) == 1:
        (function, argument), = expression.items()
        if function == "Ref" and isinstance(argument, str):
            return pseudo.get(argument)
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            values = [resolve(expression=item, pseudo=pseudo) for item in argument[1]]
            return None if None in values else str(argument[0]).join(values)  # type: ignore[arg-type]
    return None


def expression_key(*, expression: Any) -> str:
    """Identity of an expression: two placeholders with the same one must have the same value."""
    return json.dumps(expression, sort_keys=True)


class PlaceholderValues:
    """The values of one pipeline's placeholders: worked out, or taken from the deployed text."""

    def __init__(self, *, variables: Mapping[str, Any], pseudo: Mapping[str, str]) -> None:
        self._keys: dict[str, str] = {}
        self.known: dict[str, str] = {}
        self.seen: dict[str, tuple[str, str]] = {}
        """Expression key → (placeholder name, the value found in the deployed pipeline)."""
        for name, expression in variables.items():
            key = expression_key(expression=expression)
            self._keys[name] = key
            value = resolve(expression=expression, pseudo=pseudo)
            if value is not None:
                self.known[key] = value
        for name, value in pseudo.items():
            self._keys.setdefault(name, expression_key(expression={"Ref": name}))
            self.known.setdefault(self._keys[name], value)

    def key(self, *, name: str) -> str:
        return self._keys.get(name, expression_key(expression={"Ref": name}))

    def value(self, *, name: str) -> str | None:
        key = self.key(name=name)
        return self.known.get(key, self.seen.get(key, (name, None))[1])

    def fill(self, *, text: str) -> str:
        """``text`` with the placeholders whose value is known filled in, the others left as ``${Name}``."""
        return _TOKEN.sub(lambda match: self.value(name=match.group(1)[2:-1]) or match.group(1), text)

    def matches(self, *, expected: str, deployed: Any) -> bool:
        """Whether ``deployed`` is ``expected`` with its placeholders filled in consistently."""
        if not isinstance(deployed, str):
            return False
        pattern, groups = [], {}
        for index, part in enumerate(_TOKEN.split(expected)):
            if index % 2 == 0:
                pattern.append(re.escape(part))
                continue
            name = part[2:-1]
            value = self.value(name=name)
            if value is not None:
                pattern.append(re.escape(value))
            elif name in groups:
                pattern.append(f"(?P={groups[name]})")
            else:
                groups[name] = f"g{len(groups)}"
                pattern.append(f"(?P<{groups[name]}>.+?)")
        match = re.fullmatch("".join(pattern), deployed, flags=re.DOTALL)
        if match is None:
            return False
        for name, group in groups.items():
            self.seen[self.key(name=name)] = (name, match.group(group))
        return True


def _named(*, items: list[Any]) -> bool:
    names = [item.get("Name") for item in items if isinstance(item, dict)]
    return len(names) == len(items) and all(isinstance(n, str) for n in names) and len(set(names)) == len(names)


def _same_scalar(*, expected: Any, deployed: Any) -> bool:
    """Equal JSON scalars: 1 and 1.0 are the same number, but true is not 1."""
    numbers = (int, float)
    if isinstance(expected, numbers) and isinstance(deployed, numbers) and not isinstance(expected, bool) and not isinstance(deployed, bool):
        return expected == deployed
    return type(expected) is type(deployed) and expected == deployed


def compare(
    *, expected: Any, deployed: Any, path: tuple[PathPart, ...], values: PlaceholderValues
) -> list[Difference]:
    """Every difference between ``expected`` and ``deployed`` below ``path``, in document order."""
    if isinstance(expected, str) and _TOKEN.search(expected):
        if values.matches(expected=expected, deployed=deployed):
            return []
        return [Difference(path, values.fill(text=expected), deployed)]
    if isinstance(expected, dict) and isinstance(deployed, dict):
        found = []
        for key in [*expected, *(k for k in deployed if k not in expected)]:
            found += compare(
                expected=expected.get(key, ABSENT), deployed=deployed.get(key, ABSENT), path=(*path, key), values=values
            )
        return found
    if isinstance(expected, list) and isinstance(deployed, list):
        if _named(items=expected) and _named(items=deployed):
            by_name = {item["Name"]: item for item in deployed}
            names = [item["Name"] for item in expected]
            expected_by_name = dict(zip(names, expected))
            return [
                difference
                for name in [*names, *(n for n in by_name if n not in expected_by_name)]
                for difference in compare(
                    expected=expected_by_name.get(name, ABSENT),
                    deployed=by_name.get(name, ABSENT),
                    path=(*path, Named(name)),
                    values=values,
                )
            ]
        return [
            difference
            for index in range(max(len(expected), len(deployed)))
            for difference in compare(
                expected=expected[index] if index < len(expected) else ABSENT,
                deployed=deployed[index] if index < len(deployed) else ABSENT,
                path=(*path, index),
                values=values,
            )
        ]
    return [] if _same_scalar(expected=expected, deployed=deployed) else [Difference(path, expected, deployed)]


def conflicting_values(*, seen: Mapping[str, Mapping[str, tuple[str, str]]]) -> dict[str, list[Difference]]:
    """Per pipeline, the placeholders whose value differs from what other pipelines have for the same expression.

    ``seen`` maps pipeline → :attr:`PlaceholderValues.seen`. The value most pipelines share is taken
    as right; with no single such value, every pipeline involved is listed.
    """
    by_key: dict[str, dict[str, tuple[str, str]]] = {}
    for pipeline, found in seen.items():
        for key, named_value in found.items():
            by_key.setdefault(key, {})[pipeline] = named_value
    conflicts: dict[str, list[Difference]] = {}
    for pipelines in by_key.values():
        counts = Counter(value for _, value in pipelines.values())
        if len(counts) < 2:
            continue
        ranked = counts.most_common()
        majority = ranked[0][0] if ranked[0][1] > ranked[1][1] else None
        for pipeline, (name, value) in sorted(pipelines.items()):
            if value == majority:
                continue
            others: dict[str, list[str]] = {}
            for other, (_, other_value) in sorted(pipelines.items()):
                if other_value != value:
                    others.setdefault(other_value, []).append(other)
            conflicts.setdefault(pipeline, []).append(Difference(("placeholder", name), others, value))
    return conflicts


def compare_pipeline(
    *,
    definition: Any,
    settings: Mapping[str, Any],
    tags: Mapping[str, str],
    deployed_definition: Any,
    deployed_settings: Mapping[str, Any],
    deployed_tags: Mapping[str, str],
    values: PlaceholderValues,
) -> list[Difference]:
    """Definition, the settings the template sets, and every tag except AWS's own ``aws:`` ones."""
    found = compare(expected=definition, deployed=deployed_definition, path=("definition",), values=values)
    for field_name, expected in settings.items():
        found += compare(
            expected=expected, deployed=deployed_settings.get(field_name, ABSENT), path=("setting", field_name), values=values
        )
    live_tags = {k: v for k, v in deployed_tags.items() if not k.startswith("aws:")}
    found += compare(expected=dict(tags), deployed=live_tags, path=("tag",), values=values)
    return found

