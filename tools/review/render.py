"""The review as text: plain for a terminal, markdown for a pull-request comment.

Both render the same (depth, text) lines. In markdown a line is a list item whose leading mark
(``+``, ``-``, ``~``) and path sit in code spans and whose other characters are escaped, so a mark
never starts a nested list and a value never turns into emphasis or a link.
"""

from __future__ import annotations

import re

from tools.review.diff import DETAIL, EnvironmentReview, PipelineChange, Review, show_change

MAX_CHANGES_PER_STEP = 20

Lines = list[tuple[int, str]]


def _detailed(lines: tuple[str, ...] | list[str], *, depth: int) -> Lines:
    """Lines with their details (indented by :data:`DETAIL`) one level deeper."""
    return [(depth + 1, line.strip()) if line.startswith(DETAIL) else (depth, line) for line in lines]


def _pipeline_lines(change: PipelineChange) -> Lines:
    """(depth, text) lines under one changed pipeline, shared by both renderings."""
    lines: Lines = []
    for step in change.steps:
        mark = {"added": "+", "removed": "-", "changed": "~"}[step.kind]
        lines.append((0, f"{mark} step {step.step} ({step.step_type}){'' if step.kind == 'changed' else ' ' + step.kind}"))
        for value in step.changes[:MAX_CHANGES_PER_STEP]:
            lines.append((1, f"{value.path}: {show_change(value.old, value.new)}"))
        if len(step.changes) > MAX_CHANGES_PER_STEP:
            lines.append((1, f"… {len(step.changes) - MAX_CHANGES_PER_STEP} more"))
    lines.extend((0, line) for line in change.parameters)
    lines.extend((0, f"~ {value.path}: {show_change(value.old, value.new)}") for value in change.settings)
    lines.extend(_detailed(change.resources, depth=0))
    lines.extend(_detailed(change.schedules, depth=0))
    return lines


def _sections(env: EnvironmentReview) -> list[tuple[str, Lines]]:
    """The environment's sections after its pipelines: title and lines."""
    sections = []
    if env.schedules:
        sections.append(("schedules", _detailed(env.schedules, depth=0)))
    if env.resources:
        sections.append(("other resources", _detailed(env.resources, depth=0)))
    if env.cost:
        sections.append(("instance-hours (most per run; per month)", [(0, line) for line in env.cost]))
    return sections


def _pipelines(env: EnvironmentReview) -> list[tuple[str, Lines]]:
    """Each pipeline line (added, removed, changed) and the lines under it."""
    entries = [(f"+ pipeline {name}", _detailed(env.pipeline_details.get(name, ()), depth=0)) for name in env.pipelines_added]
    entries += [(f"- pipeline {name}", _detailed(env.pipeline_details.get(name, ()), depth=0)) for name in env.pipelines_removed]
    entries += [(f"~ pipeline {change.pipeline}", _pipeline_lines(change)) for change in env.pipelines_changed]
    return entries


def _verdict(review: Review) -> str:
    return "security-relevant changes: YES" if review.security_relevant else "security-relevant changes: none"


def render_plain(review: Review) -> str:
    out = [f"review {review.base} → {review.head}"]
    for env in review.environments:
        out.extend(_plain_environment(env))
    out.append(_verdict(review))
    return "\n".join(out) + "\n"


def _plain_environment(env: EnvironmentReview) -> list[str]:
    if env.unchanged:
        return [f"{env.name}: no changes"]
    out = [f"{env.name}: environment {env.status}" if env.status != "changed" else f"{env.name}:"]
    out += [f"    {line}" for line in env.summary]
    for head, lines in _pipelines(env):
        out.append(f"  {head}")
        out += [f"      {'    ' * depth}{text}" for depth, text in lines]
    for title, lines in _sections(env):
        out.append(f"  {title}:")
        out += [f"    {'    ' * depth}{text}" for depth, text in lines]
    if env.security:
        out.append("  SECURITY:")
        out += [f"    ! {finding}" for finding in env.security]
    for selector, table in sorted(env.cdk_tables.items()):
        out.append(f"  cdk diff --security-only {selector}:")
        out += [f"    {line}" for line in table.splitlines()]
    return out


_MARK = re.compile(r"^([+~!-]) ")
PATH_LIKE = re.compile(r"[^\s]*[.\[:-][^\s]*")
"""A JSON path or a resource name before ``: ``, shown as code (``Arguments.X``, ``smp-prod-x``)."""
_ESCAPED = re.compile(r"([\\`*_\[\]<>#|~])")
_LEADING = re.compile(r"^(\d*)([+.)-])")


def _escape(text: str) -> str:
    """Text a markdown renderer shows as is: characters that could start emphasis, a link, HTML or code escaped,
    and a leading ``+``, ``-`` or ``1.`` that would start a nested list."""
    return _LEADING.sub(r"\1\\\2", _ESCAPED.sub(r"\\\1", text))


def _code(text: str) -> str:
    """A code span; backticks inside are dropped (a span cannot hold them portably)."""
    return f"`{text.replace('`', '')}`"


def _markdown_line(text: str) -> str:
    """``+ step X`` → ```+` step X``; ``path: old → new`` → ```path`: old → new``, the rest escaped."""
    mark = _MARK.match(text)
    prefix = ""
    if mark:
        prefix, text = f"{_code(mark.group(1))} ", text[mark.end() :]
    head, sep, rest = text.partition(": ")
    if sep and PATH_LIKE.fullmatch(head):
        return f"{prefix}{_code(head)}: {_escape(rest)}"
    return prefix + _escape(text)


def _markdown_list(lines: Lines, *, depth: int) -> list[str]:
    return [f"{'  ' * (depth + level)}- {_markdown_line(text)}" for level, text in lines]


def render_markdown(review: Review) -> str:
    flag = "⚠️ " if review.security_relevant else ""
    out = [f"### Pipeline review: {_code(review.base)} → {_escape(review.head)}", "", f"**{flag}{_verdict(review).capitalize()}**", ""]
    for env in review.environments:
        out.extend(_markdown_environment(env))
    return "\n".join(out).rstrip("\n") + "\n"


def _markdown_environment(env: EnvironmentReview) -> list[str]:
    out = [f"#### {_escape(env.name)}", ""]
    if env.unchanged:
        return out + ["No changes.", ""]
    if env.status != "changed":
        out += [f"Environment {env.status}:", ""] + [f"- {_markdown_line(line)}" for line in env.summary] + [""]
    for head, lines in _pipelines(env):
        out.append(f"- {_markdown_line(head)}")
        out += _markdown_list(lines, depth=1)
    for title, lines in _sections(env):
        out += ["", f"{title.capitalize()}:", ""] + _markdown_list(lines, depth=0)
    if env.security:
        out += ["", "**Security-relevant:**", ""] + [f"- ⚠️ {_escape(str(finding))}" for finding in env.security]
    for selector, table in sorted(env.cdk_tables.items()):
        out += ["", f"{_code(f'cdk diff --security-only {selector}')}:", "", "```text", table, "```"]
    return out + [""]
