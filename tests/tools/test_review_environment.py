"""A new or removed environment in full, and what the review leaves out: outputs, asset plumbing, node's noise."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tool_inputs import REVIEW_NOW, derive, pipeline_properties

from base.errors import ExitCode
from tools.assembly import load_environments
from tools.review.diff import compare_outputs, show_change
from tools.review.render import render_plain
from tools.review.synth import ReviewError, wait_for_synth


def _review(old: dict, new: dict):
    return compare_outputs(old=old, new=new, base="a", head="b", now=REVIEW_NOW)


def test_a_new_environment_shows_its_account_region_security_and_schedules(synth_dir: Path) -> None:
    environments = load_environments(outdir=synth_dir)
    result = _review({"sandbox": environments["sandbox"]}, environments)
    prod = result.environments[0]
    assert (prod.name, prod.status) == ("prod", "added")
    assert prod.summary[:4] == (
        "account/region: 111111111111/eu-west-1",
        "internet routes: none (isolated subnets)",
        "network-isolation exemptions: smp-prod-batch-inference",
        "job run-time cap: 24 h",
    )
    assert (
        "guardrail DenyInstanceTypesOutsideAllowlist: Deny sagemaker:CreateHyperParameterTuningJob, sagemaker:CreateProcessingJob, "
        "sagemaker:CreateTrainingJob, sagemaker:CreateTransformJob on * when ForAnyValue:StringNotLike sagemaker:InstanceTypes = "
        "ml.m5.large, ml.m5.xlarge, ml.m5.2xlarge, ml.c5.2xlarge, ml.g4dn.xlarge"
    ) in prod.summary
    assert prod.pipeline_details["smp-prod-batch-inference"] == (
        "schedule nightly",
        "    expression: cron(30 1 * * ? *)",
        "    time zone: Europe/Paris",
        "    state: enabled",
        "    parameters: BatchSize=4",
        "    next runs: 2026-12-02 01:30, 2026-12-03 01:30, 2026-12-04 01:30 Europe/Paris",
    )
    # Three jobs, two at the 24 h default of @step functions and ScoreBatches' own 1 h, every night.
    assert "+ smp-prod-batch-inference: ml.m5 49 h/run; ml.m5 1,490.4 h/month" in prod.cost
    plain = render_plain(result).splitlines()
    assert plain[1:4] == ["prod: environment added", "    account/region: 111111111111/eu-west-1", "    internet routes: none (isolated subnets)"]
    assert [str(f) for f in prod.security] == ["prod: environment added"] and result.security_relevant

    removed = _review(environments, {"sandbox": environments["sandbox"]}).environments[0]
    assert (removed.status, removed.summary, removed.pipelines_removed) == ("removed", prod.summary, prod.pipelines_added)
    assert removed.cost[0].startswith("- smp-prod-batch-inference: ml.m5 49 h/run")


def test_outputs_asset_hashes_and_job_file_keys_are_not_entries(synth_dir: Path, tmp_path: Path) -> None:
    def edit(templates: dict) -> None:
        shared = templates["smp-sandbox-pipelines"]
        text = re.sub(r"[0-9a-f]{64}", "f" * 64, json.dumps(shared))  # every Lambda code asset rebuilt
        shared.clear()
        shared.update(json.loads(text))
        shared["Outputs"]["Extra"] = {"Value": "x"}
        properties = pipeline_properties(templates)
        properties["JobFiles"]["S3Key"] = "0" * 64 + ".zip"

    head = derive(synth_dir, tmp_path / "head.out", edit)
    result = _review(load_environments(outdir=synth_dir), load_environments(outdir=head))
    assert all(env.unchanged for env in result.environments), render_plain(result)
    assert not result.security_relevant


def test_long_values_are_shown_around_their_first_difference() -> None:
    old = "s3://bucket/" + "a" * 200 + "/old/" + "z" * 100
    new = "s3://bucket/" + "a" * 200 + "/new/" + "z" * 100
    shown = show_change(old, new, limit=60)
    before, after = shown.split(" → ")
    assert "/old/" in before and "/new/" in after
    assert before.startswith("…") and before.endswith("…") and len(before) <= 62
    assert show_change("short", "other") == '"short" → "other"'


BANNER = [
    "!" * 60,
    "!!" + " " * 56 + "!!",
    "!!  Node 18 has reached end-of-life on 2025-04-30 and is not supported.  !!",
    "!!" + " " * 56 + "!!",
    "!" * 60,
]


def _failing_synth(*, lines: list[str]) -> subprocess.Popen:
    """A synth failing as jsii reports node's first lines: each as the repr of its bytes, then the app's error."""
    script = "import sys\n" + "".join(f"print({(line + chr(10)).encode()!r}, file=sys.stderr)\n" for line in lines)
    script += "print('error: cdk.json environments.prod.vpcCidr is wrong', file=sys.stderr); sys.exit(2)"
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_nodes_banner_and_byte_reprs_never_reach_the_message() -> None:
    with pytest.raises(ReviewError) as raised:
        wait_for_synth(process=_failing_synth(lines=[*BANNER, "café is ready"]), label="origin/main")
    assert raised.value.exit_code == ExitCode.BAD_INPUT
    assert str(raised.value).splitlines() == [
        "synth of origin/main failed with exit code 2:",
        "café is ready",
        "error: cdk.json environments.prod.vpcCidr is wrong",
    ]
