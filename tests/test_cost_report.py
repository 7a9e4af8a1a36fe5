"""The cost report: the exact Cost Explorer request, paging, the table, and no credentials."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from stacks import cost_report

ROOT = Path(__file__).resolve().parents[1]


def _group(pipeline: str, amount: str) -> dict:
    return {"Keys": [f"smp:pipeline${pipeline}"], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}


def test_query_sends_the_tag_filter_and_follows_pages() -> None:
    client = boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    expected = {
        "TimePeriod": {"Start": "2026-10-01", "End": "2026-12-01"},
        "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost"],
        "Filter": {"Tags": {"Key": "CostCenter", "Values": ["ml-platform-prod"], "MatchOptions": ["EQUALS"]}},
        "GroupBy": [{"Type": "TAG", "Key": "smp:pipeline"}],
    }
    with Stubber(client) as stub:
        stub.add_response(
            "get_cost_and_usage",
            {"ResultsByTime": [{"TimePeriod": {"Start": "2026-10-01", "End": "2026-11-01"}, "Groups": [_group("smp-prod-abalone", "12.5"), _group("", "0.75")]}], "NextPageToken": "p2"},
            expected,
        )
        stub.add_response(
            "get_cost_and_usage",
            {"ResultsByTime": [{"TimePeriod": {"Start": "2026-11-01", "End": "2026-12-01"}, "Groups": [_group("smp-prod-abalone", "20"), _group("smp-prod-batch", "3.25")]}]},
            {**expected, "NextPageToken": "p2"},
        )
        lines = cost_report.query(client=client, cost_tag_key="CostCenter", cost_tag_value="ml-platform-prod", start=date(2026, 10, 1), end=date(2026, 12, 1), granularity="MONTHLY")
        stub.assert_no_pending_responses()
    assert [(l.pipeline, l.period_start, l.amount) for l in lines] == [
        ("smp-prod-abalone", "2026-10-01", 12.5),
        ("(no pipeline tag)", "2026-10-01", 0.75),
        ("smp-prod-abalone", "2026-11-01", 20.0),
        ("smp-prod-batch", "2026-11-01", 3.25),
    ]
    table = cost_report.render(lines=lines, environment="prod")
    assert table.splitlines()[0] == "smp-prod-abalone"
    assert "  total               32.50 USD" in table
    assert [line.split() for line in table.rstrip().splitlines()[-3:]] == [["smp-prod-abalone", "32.50"], ["smp-prod-batch", "3.25"], ["(no", "pipeline", "tag)", "0.75"]]


def test_main_prints_the_report_with_a_given_client(capsys: pytest.CaptureFixture[str]) -> None:
    client = boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stub:
        stub.add_response("get_cost_and_usage", {"ResultsByTime": []})
        assert cost_report.main(["--env", "prod", "--start", "2026-11-01", "--end", "2026-11-22"], client=client) == 0
    assert capsys.readouterr().out == "No spend tagged for environment prod in this range.\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--env", "nosuchenv", "--start", "2026-11-01", "--end", "2026-11-02"], "--env 'nosuchenv' is not an environment"), (["--env", "prod", "--start", "2026-11-02", "--end", "2026-11-01"], "must be after --start")],
)
def test_bad_arguments(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cost_report.main(argv) == 2
    assert message in capsys.readouterr().err


def test_without_credentials_it_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_EC2_METADATA_DISABLED="true")
    result = subprocess.run([sys.executable, "-m", "stacks.cost_report", "--env", "prod", "--start", "2026-11-01", "--end", "2026-11-22"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "no AWS credentials found" in result.stderr
    assert "Traceback" not in result.stderr
