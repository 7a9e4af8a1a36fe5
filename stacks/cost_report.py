"""Spend per pipeline from Cost Explorer, for one environment's cost tag over a date range.

    python -m stacks.cost_report --env prod --start 2026-11-01 --end 2026-12-01 [--granularity DAILY]

Jobs carry the environment's cost tag and ``smp:pipeline`` (both must be activated as cost
allocation tags in the billing console). Needs AWS credentials of the paying account; without
them it says so and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Sequence

from pipeline_defs.contract import PIPELINE_TAG
from base.config import ConfigError, load_environments

ROOT = Path(__file__).resolve().parents[1]
UNTAGGED = "(no pipeline tag)"


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


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m stacks.cost_report", description="Spend per pipeline from Cost Explorer.")
    parser.add_argument("--env", required=True, help="environment name from cdk.json")
    parser.add_argument("--start", required=True, type=date.fromisoformat, help="first day, YYYY-MM-DD")
    parser.add_argument("--end", required=True, type=date.fromisoformat, help="day after the last, YYYY-MM-DD")
    parser.add_argument("--granularity", default="MONTHLY", choices=["DAILY", "MONTHLY"])
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, *, client: Any = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    if args.end <= args.start:
        print(f"error: --end {args.end} must be after --start {args.start}", file=sys.stderr)
        return 2
    try:
        environments = load_environments(json.loads((ROOT / "cdk.json").read_text())["context"])
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.env not in environments:
        print(f"error: --env {args.env!r} is not an environment of cdk.json; expected one of {sorted(environments)}", file=sys.stderr)
        return 2
    config = environments[args.env]

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    try:
        ce = client or boto3.client("ce", region_name="us-east-1")
        lines = query(client=ce, cost_tag_key=config.cost_tag_key, cost_tag_value=config.cost_tag_value, start=args.start, end=args.end, granularity=args.granularity)
    except NoCredentialsError:
        print("error: no AWS credentials found: Cost Explorer needs the paying account's credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID).", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError, NoRegionError) as error:
        print(f"error: Cost Explorer refused the query: {error}", file=sys.stderr)
        return 1
    print(render(lines=lines, environment=args.env), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
