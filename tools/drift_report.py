"""The drift check's result and its one rendering, plain text for a terminal or a CI log."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence

from base.naming import MANAGED_BY_TAG
from tools.drift_assembly import ROLE_PLACEHOLDER
from tools.drift_compare import ABSENT, Difference, Named

VALUE_WIDTH = 72
"""Characters of a value shown; a longer one is shown from just before where the two differ."""


@dataclass
class PendingMove:
    """A pipeline the app moved to its own stack while the account still has it managed by the old one.

    ``differences`` are what the deploy that moves it will change, unless someone edited it by hand.
    """

    owner: str
    stack: str
    differences: list[Difference] = field(default_factory=list)


@dataclass
class DriftReport:
    """What differs between the synthesized app and the account, pipeline names sorted."""

    changed: dict[str, list[Difference]] = field(default_factory=dict)
    awaiting_move: dict[str, PendingMove] = field(default_factory=dict)
    """Managed by a stack the app moves them from: the move is not deployed yet, which is not drift."""
    missing: list[str] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)
    retained: list[str] = field(default_factory=list)
    """Tagged as managed but no longer in the app: left behind by a retain policy, not drift."""
    in_sync: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.changed or self.missing or self.unmanaged)


def _value(*, value: Any) -> str:
    return "(absent)" if value is ABSENT else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _short_pair(*, old: str, new: str) -> tuple[str, str]:
    """Both values cut to the part where they differ, so long ones that differ at the end stay distinct."""
    if len(old) <= VALUE_WIDTH and len(new) <= VALUE_WIDTH:
        return old, new
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    start = max(0, start - 12)
    cut = [("…" if start else "") + text[start:] for text in (old, new)]
    return tuple(text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…" for text in cut)  # type: ignore[return-value]


def _names(*, names: Sequence[str], shown: int = 3) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _location(*, path: Sequence[Any]) -> str:
    """``step Train: Arguments.ResourceConfig.InstanceType``, ``Parameters[Threshold]``, ``tag SourceVersion``."""
    section, rest = path[0], list(path[1:])
    prefix = ""
    if section == "definition" and len(rest) >= 2 and rest[0] == "Steps" and isinstance(rest[1], Named):
        prefix, rest = f"step {rest[1].name}", rest[2:]
    elif section in ("setting", "tag"):
        prefix, rest = f"{section} {rest[0]}", rest[1:]
    text = ""
    for part in rest:
        if isinstance(part, Named):
            text += f"[{part.name}]"
        elif isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return f"{prefix}: {text}" if prefix and text else prefix or text or "definition"


def render_difference(*, difference: Difference) -> str:
    """One line: where, then synthesized → deployed."""
    if difference.path[0] == "placeholder":
        name = difference.path[1]
        label = f"setting {name}" if name == ROLE_PLACEHOLDER else f"${{{name}}}"
        others = "; ".join(
            f"{_value(value=value)} in {_names(names=names)}" for value, names in difference.synthesized.items()
        )
        return f"{label} is {_value(value=difference.deployed)} here, but {others}"
    old, new = _short_pair(old=_value(value=difference.synthesized), new=_value(value=difference.deployed))
    return f"{_location(path=difference.path)}: {old} → {new}"


def render_report(*, report: DriftReport, environment: str, prefix: str, limit: int = 20) -> str:
    """Plain text for a terminal or a CI log; ``limit`` lines per changed pipeline."""
    lines = [f"drift check of environment {environment} (pipelines named {prefix}*)"]
    if report.changed:
        lines.append(f"changed outside CloudFormation ({len(report.changed)}), synthesized → deployed:")
        for name, differences in report.changed.items():
            lines.append(f"  {name}")
            lines += [f"    {render_difference(difference=d)}" for d in differences[:limit]]
            if len(differences) > limit:
                lines.append(f"    … and {len(differences) - limit} more")
    if report.awaiting_move:
        lines.append(
            f"not moved yet ({len(report.awaiting_move)}): still managed by the stack the app moves them from; "
            f"`make deploy ENV={environment}` hands them over (synthesized → deployed, until then):"
        )
        for name, move in report.awaiting_move.items():
            lines.append(f"  {name}: {MANAGED_BY_TAG} {move.owner}, in the app {move.stack}")
            lines += [f"    {render_difference(difference=d)}" for d in move.differences[:limit]]
            if len(move.differences) > limit:
                lines.append(f"    … and {len(move.differences) - limit} more")
    for title, names in (
        ("missing in the account", report.missing),
        (f"unmanaged (no {MANAGED_BY_TAG} tag)", report.unmanaged),
        ("not drift: managed, no longer in the app (kept by a retain policy)", report.retained),
    ):
        if names:
            lines.append(f"{title} ({len(names)}):")
            lines += [f"  {name}" for name in names]
    lines.append(f"in sync ({len(report.in_sync)}): {_names(names=report.in_sync, shown=10) or '-'}")
    waiting = f"; {len(report.awaiting_move)} not moved to their own stacks yet" if report.awaiting_move else ""
    if report.drifted:
        lines.append(
            f"drift: {len(report.changed)} changed, {len(report.missing)} missing, {len(report.unmanaged)} unmanaged{waiting}"
        )
    else:
        lines.append(f"no drift{waiting}")
    return "\n".join(lines) + "\n"
