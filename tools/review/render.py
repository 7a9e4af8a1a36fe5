"""The review as text: plain for a terminal, markdown for a pull-request comment."""

from __future__ import annotations

from tools.review.diff import EnvironmentReview, PipelineChange, Review, show_value

MAX_CHANGES_PER_STEP = 20


def _step_lines(change: PipelineChange) -> list[tuple[int, str]]:
    """(depth, text) lines of one pipeline, shared by both renderings."""
    lines: list[tuple[int, str]] = []
    for step in change.steps:
        mark = {"added": "+", "removed": "-", "changed": "~"}[step.kind]
        lines.append((0, f"{mark} step {step.step} ({step.step_type}){'' if step.kind == 'changed' else ' ' + step.kind}"))
        for value in step.changes[:MAX_CHANGES_PER_STEP]:
            lines.append((1, f"{value.path}: {show_value(value.old)} → {show_value(value.new)}"))
        if len(step.changes) > MAX_CHANGES_PER_STEP:
            lines.append((1, f"… {len(step.changes) - MAX_CHANGES_PER_STEP} more"))
    lines.extend((0, line) for line in change.parameters)
    lines.extend((0, f"~ {value.path}: {show_value(value.old)} → {show_value(value.new)}") for value in change.settings)
    lines.extend((0, line) for line in change.resources)
    lines.extend((1 if line.startswith("    ") else 0, line.strip()) for line in change.schedules)
    return lines


def _verdict(review: Review) -> str:
    return "security-relevant changes: YES" if review.security_relevant else "security-relevant changes: none"


def render_plain(review: Review) -> str:
    out = [f"review {review.base} → {review.head}"]
    for env in review.environments:
        out.extend(_plain_environment(env))
    out.append(_verdict(review))
    return "\n".join(out) + "\n"


def _plain_environment(env: EnvironmentReview) -> list[str]:
    if env.status != "changed":
        return [f"{env.name}: environment {env.status}"] + [f"  {'+' if env.status == 'added' else '-'} pipeline {p}" for p in env.pipelines_added + env.pipelines_removed]
    if env.unchanged:
        return [f"{env.name}: no changes"]
    out = [f"{env.name}:"]
    out += [f"  + pipeline {name}" for name in env.pipelines_added]
    out += [f"  - pipeline {name}" for name in env.pipelines_removed]
    for change in env.pipelines_changed:
        out.append(f"  ~ pipeline {change.pipeline}")
        out += [f"      {'    ' * depth}{text}" for depth, text in _step_lines(change)]
    if env.schedules:
        out.append("  schedules:")
        out += [f"    {line}" for line in env.schedules]
    if env.resources:
        out.append("  other resources:")
        out += [f"    {line}" for line in env.resources]
    if env.security:
        out.append("  SECURITY:")
        out += [f"    ! {finding}" for finding in env.security]
    for selector, table in sorted(env.cdk_tables.items()):
        out.append(f"  cdk diff --security-only {selector}:")
        out += [f"    {line}" for line in table.splitlines()]
    return out


def render_markdown(review: Review) -> str:
    flag = "⚠️ " if review.security_relevant else ""
    out = [f"### Pipeline review: `{review.base}` → {review.head}", "", f"**{flag}{_verdict(review).capitalize()}**", ""]
    for env in review.environments:
        out.extend(_markdown_environment(env))
    return "\n".join(out).rstrip("\n") + "\n"


def _code(text: str) -> str:
    return f"`{text.replace('`', '')}`"


def _markdown_environment(env: EnvironmentReview) -> list[str]:
    out = [f"#### {env.name}", ""]
    if env.status != "changed":
        out.append(f"Environment {env.status}.")
        out += [f"- {'+' if env.status == 'added' else '-'} pipeline {_code(p)}" for p in env.pipelines_added + env.pipelines_removed]
        return out + [""]
    if env.unchanged:
        return out + ["No changes.", ""]
    out += [f"- added pipeline {_code(name)}" for name in env.pipelines_added]
    out += [f"- removed pipeline {_code(name)}" for name in env.pipelines_removed]
    for change in env.pipelines_changed:
        out.append(f"- pipeline {_code(change.pipeline)}")
        for depth, text in _step_lines(change):
            head, sep, rest = text.partition(": ")
            shown = f"{_code(head)}: {rest}" if sep and depth else text
            out.append(f"{'  ' * (depth + 1)}- {shown}")
    if env.schedules:
        out += ["", "Schedules:", ""] + [f"- {line.strip()}" for line in env.schedules]
    if env.resources:
        out += ["", "<details><summary>Other resources</summary>", ""] + [f"- {line}" for line in env.resources] + ["", "</details>"]
    if env.security:
        out += ["", "**Security-relevant:**", ""] + [f"- ⚠️ {finding}" for finding in env.security]
    for selector, table in sorted(env.cdk_tables.items()):
        out += ["", f"`cdk diff --security-only {selector}`:", "", "```text", table, "```"]
    return out + [""]
