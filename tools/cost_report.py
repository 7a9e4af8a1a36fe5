"""Spend per pipeline from Cost Explorer, for one environment's cost tag over a date range.

    python -m tools.cost_report --env prod --start 2026-11-01 --end 2026-12-01 [--granularity DAILY]

Jobs carry the environment's cost tag and ``smp:pipeline`` (both must be activated as cost
allocation tags in the billing console). Needs AWS credentials of the paying account; without
them, or when Cost Explorer refuses the query, it says so and exits 4 (unavailable).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any, Sequence

from base.errors import ExitCode, UnavailableError
from pipeline_defs.contract import PIPELINE_TAG
from tools.command import CommandParser, UsageError, add_environment_arguments, environment_settings, run

UNTAGGED = "(no pipeline tag)"
COST_EXPLORER_REGION = "us-east-1"
"""Cost Explorer has one endpoint, in us-east-1, whatever the environment's region."""


class CostExplorerUnavailableError(UnavailableError):
    """No credentials for Cost Explorer, no answer, or a refusal; the message says which."""


@dataclass(frozen=True)
class CostLine:
    pipeline: str
    period_start: str
    amount: float
    unit: str


def query(*, client: Any, cost_tag_key: str, cost_tag_value: str, start: date, end: date, granularity: str) -> list[CostLine]:
    """All pages of GetCostAndUsage, filtered to the cost tag and grouped by pipeline tag."""
    request: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": granularity,
        "Metrics": ["UnblendedCost"],
        "Filter": {"Tags": {"Key": cost_tag_key, "Values": [cost_tag_value], "MatchOptions": ["EQUALS"]}},
        "GroupBy": [{"Type": "TAG", "Key": PIPELINE_TAG}],
    }
    lines: list[CostLine] = []
    while True:
        page = client.get_cost_and_usage(**request)
        for period in page.get("ResultsByTime", []):
            for group in period.get("Groups", []):
                tag = group["Keys"][0].split("$", 1)[-1] or UNTAGGED
                metric = group["Metrics"]["UnblendedCost"]
                lines.append(CostLine(pipeline=tag, period_start=period["TimePeriod"]["Start"], amount=float(metric["Amount"]), unit=metric["Unit"]))
        token = page.get("NextPageToken")
        if not token:
            return lines
        request["NextPageToken"] = token


def render(*, lines: Sequence[CostLine], environment: str) -> str:
    """One table per pipeline (period, amount), then the total per pipeline, largest first."""
    by_pipeline: dict[str, list[CostLine]] = defaultdict(list)
    for line in lines:
        by_pipeline[line.pipeline].append(line)
    if not by_pipeline:
        return f"No spend tagged for environment {environment} in this range.\n"
    totals = sorted(((sum(l.amount for l in ls), name) for name, ls in by_pipeline.items()), reverse=True)
    out = []
    for total, name in totals:
        unit = by_pipeline[name][0].unit
        out.append(f"{name}\n  {'period':<12} {'amount':>12}")
        for line in sorted(by_pipeline[name], key=lambda l: l.period_start):
            out.append(f"  {line.period_start:<12} {line.amount:>12.2f} {line.unit}")
        out.append(f"  {'total':<12} {total:>12.2f} {unit}\n")
    width = max(len(n) for n in by_pipeline)
    out.append(f"{'pipeline':<{width}}  {'total':>12}")
    out += [f"{name:<{width}}  {total:>12.2f}" for total, name in totals]
    return "\n".join(out) + "\n"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day: expected YYYY-MM-DD") from None


def _parser() -> CommandParser:
    parser = CommandParser(prog="python -m tools.cost_report", description="Spend per pipeline from Cost Explorer.")
    add_environment_arguments(parser, env_required=True)
    parser.add_argument("--start", required=True, type=_day, help="first day, YYYY-MM-DD")
    parser.add_argument("--end", required=True, type=_day, help="day after the last, YYYY-MM-DD")
    parser.add_argument("--granularity", default="MONTHLY", choices=["DAILY", "MONTHLY"])
    return parser


def report(args: argparse.Namespace, *, client: Any = None) -> int:
    """Print the report of ``args.env``; ``client`` is a Cost Explorer client (default: from the AWS credentials)."""
    if args.end <= args.start:
        raise UsageError(f"--end {args.end} must be after --start {args.start}")
    config = environment_settings(root=args.root, name=args.env)

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        ce = client or boto3.client("ce", region_name=COST_EXPLORER_REGION)
        lines = query(
            client=ce,
            cost_tag_key=config.cost_tag_key,
            cost_tag_value=config.cost_tag_value,
            start=args.start,
            end=args.end,
            granularity=args.granularity,
        )
    except NoCredentialsError:
        raise CostExplorerUnavailableError(
            "no AWS credentials found: Cost Explorer needs the paying account's credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID)"
        ) from None
    except ClientError as error:
        raise CostExplorerUnavailableError(f"Cost Explorer refused the query: {error}") from error
    except BotoCoreError as error:
        raise CostExplorerUnavailableError(f"Cost Explorer could not be asked: {error}") from error
    print(render(lines=lines, environment=args.env), end="")
    return ExitCode.OK


def main(argv: Sequence[str] | None = None, *, client: Any = None) -> int:
    return run(parser=_parser(), argv=argv, command=lambda args: report(args, client=client))


if __name__ == "__main__":
    sys.exit(main())
