"""The cost report: the exact Cost Explorer request, paging, the table, and its exit codes (0, 2 bad input, 4 no AWS)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from tool_inputs import project_root

from base.config import PROJECT_ROOT
from tools import cost_report

REPORT = ["--env", "prod", "--start", "2026-11-01", "--end", "2026-11-22"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project whose cdk.json holds the tests' environments (prod's cost tag value: ml-platform-prod)."""
    return project_root(root=tmp_path / "project")


def _client() -> object:
    return boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")


def _group(pipeline: str, amount: str) -> dict:
    return {"Keys": [f"smp:pipeline${pipeline}"], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}


def test_query_sends_the_tag_filter_and_follows_pages() -> None:
    client = _client()
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


def test_main_asks_for_the_environments_cost_tag_and_prints_the_report(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response(
            "get_cost_and_usage",
            {"ResultsByTime": []},
            {
                "TimePeriod": {"Start": "2026-11-01", "End": "2026-11-22"},
                "Granularity": "DAILY",
                "Metrics": ["UnblendedCost"],
                "Filter": {"Tags": {"Key": "CostCenter", "Values": ["ml-platform-prod"], "MatchOptions": ["EQUALS"]}},
                "GroupBy": [{"Type": "TAG", "Key": "smp:pipeline"}],
            },
        )
        assert cost_report.main([*REPORT, "--root", str(root), "--granularity", "DAILY"], client=client) == 0
        stub.assert_no_pending_responses()
    assert capsys.readouterr().out == "No spend tagged for environment prod in this range.\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env", "nosuchenv", "--start", "2026-11-01", "--end", "2026-11-02"], "error: --env 'nosuchenv' is not an environment of {root}/cdk.json: expected one of ['prod', 'sandbox']"),
        (["--env", "prod", "--start", "2026-11-02", "--end", "2026-11-01"], "error: --end 2026-11-01 must be after --start 2026-11-02"),
        (["--env", "prod", "--start", "2026-11", "--end", "2026-12-01"], "error: argument --start: '2026-11' is not a day: expected YYYY-MM-DD"),
        (["--env", "prod", "--start", "2026-11-01"], "error: the following arguments are required: --end"),
    ],
)
def test_bad_arguments_exit_2(argv: list[str], message: str, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cost_report.main([*argv, "--root", str(root)], client=_client()) == 2
    err = capsys.readouterr().err
    assert err.startswith(message.format(root=root)) and len(err.splitlines()) == 1


def test_bad_settings_exit_2_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project_root(root=tmp_path, environments={"prod": {"costTagValue": ""}})
    assert cost_report.main([*REPORT, "--root", str(root)], client=_client()) == 2
    assert capsys.readouterr().err.startswith("error: context 'environments.prod.costTagValue' is ''")


def test_a_root_without_cdk_json_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cost_report.main([*REPORT, "--root", str(tmp_path)], client=_client()) == 2
    assert capsys.readouterr().err.startswith(f"error: --root {tmp_path} has no cdk.json")


def test_a_refused_query_exits_4(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error("get_cost_and_usage", service_error_code="AccessDeniedException", service_message="not allowed", http_status_code=400)
        assert cost_report.main([*REPORT, "--root", str(root)], client=client) == 4
    err = capsys.readouterr().err
    assert err.startswith("error: Cost Explorer refused the query: An error occurred (AccessDeniedException)") and "not allowed" in err


def test_without_credentials_the_command_exits_4_without_a_traceback(root: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_EC2_METADATA_DISABLED="true")
    result = subprocess.run(
        [sys.executable, "-m", "tools.cost_report", *REPORT, "--root", str(root)],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 4, result.stderr
    assert result.stderr.startswith("error: no AWS credentials found") and len(result.stderr.splitlines()) == 1
