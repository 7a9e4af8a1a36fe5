"""After synth, one table on stderr: what each environment will run, when, what it may use, and with which exemptions.

Console output only (``cdk synth`` keeps stdout for templates); next run times are relative to now
and never written into cdk.out.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, Iterable, Sequence
from zoneinfo import ZoneInfo

from pipeline_defs.contract import iter_steps
from planning.cost import ScheduledRuns, pipeline_cost
from planning.plan import EnvironmentPlan
from planning.schedule_expressions import ScheduleExpressionError, next_runs
from planning.schedules import PlannedSchedule

HEADERS = ("environment", "pipeline", "steps", "schedules (next run)", "instance-hours (most per run; per month)", "guardrail exemptions")


@dataclass(frozen=True)
class SummaryRow:
    environment: str
    pipeline: str
    steps: int
    schedules: str
    instance_hours: str
    exemptions: str

    def cells(self) -> tuple[str, ...]:
        return (self.environment, self.pipeline, str(self.steps), self.schedules, self.instance_hours, self.exemptions)


def next_run_text(*, expression: str, timezone_name: str | None, now: datetime, count: int = 1) -> str:
    """``2026-11-23 03:00 UTC``: the next ``count`` times ``expression`` fires in its time zone, or why it cannot say."""
    zone = ZoneInfo(timezone_name) if timezone_name else timezone.utc
    local_now = now.astimezone(zone).replace(tzinfo=None)
    try:
        runs = next_runs(expression, after=local_now, count=count)
    except ScheduleExpressionError as error:
        return f"invalid: {error}"
    return f"{', '.join(f'{run:%Y-%m-%d %H:%M}' for run in runs)} {timezone_name or 'UTC'}" if runs else "not computed"


def _schedule_text(schedule: PlannedSchedule, *, now: datetime) -> str:
    text = f"{schedule.schedule_name} {schedule.expression}"
    if not schedule.deployed:
        return f"{text} (not deployed)"
    if not schedule.enabled:
        return f"{text} (disabled)"
    return f"{text} → {next_run_text(expression=schedule.expression, timezone_name=schedule.timezone, now=now)}"


def summary_rows(*, plans: Iterable[EnvironmentPlan], now: datetime) -> list[SummaryRow]:
    """One row per pipeline of every environment's plan."""
    rows = []
    for plan in plans:
        schedules = plan.schedules
        for item in sorted(plan.pipelines, key=lambda c: c.pipeline_name):
            own = [s for s in schedules if s.pipeline_name == item.pipeline_name]
            exemptions = [
                e.guardrail.value + (f" ({', '.join(e.steps)})" if e.steps else "") for e in item.guardrail_exemptions
            ]
            definition = json.loads(item.definition)
            cost = pipeline_cost(
                definition=definition,
                schedules=[
                    ScheduledRuns(expression=s.expression, parameter_values=s.parameter_values, enabled=s.enabled and s.deployed)
                    for s in own
                ],
                cap_seconds=plan.config.max_job_runtime_hours * 3600,
                now=now,
            )
            rows.append(
                SummaryRow(
                    environment=plan.config.name,
                    pipeline=item.pipeline_name,
                    steps=sum(1 for _step in iter_steps(definition.get("Steps", []))),
                    schedules="; ".join(_schedule_text(s, now=now) for s in own) or "-",
                    instance_hours=cost.text(),
                    exemptions="; ".join(exemptions) or "-",
                )
            )
    return rows


def format_table(rows: Sequence[SummaryRow]) -> str:
    """Left-aligned columns, one header line, one line per pipeline."""
    table = [HEADERS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]]) + "\n"


def print_synth_summary(
    *, plans: Sequence[EnvironmentPlan], stream: IO[str] | None = None, now: datetime | None = None
) -> None:
    """The table for every planned environment, on stderr unless told otherwise."""
    rows = summary_rows(plans=plans, now=now or datetime.now(timezone.utc))
    (stream or sys.stderr).write(format_table(rows))
