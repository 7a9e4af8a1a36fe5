"""Gates on the whole synthesized app: cfn-lint, cdk-nag, checkov, determinism, and synth with no network."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from support.environments import PLAN_DAY, app_context
import app as cdk_app
from base.config import EnvironmentConfig
from pipeline_defs.compiler.cache import CACHE_DISABLE_ENV
from pipeline_defs.loader import module_files
from planning.plan import plan_environment
from support.checkov import load_skips, run_checkov, unskipped, unused
from support.synth import synth_in_subprocess

def _templates(outdir: Path) -> list[Path]:
    return sorted(outdir.rglob("*.template.json"))


def test_every_environment_synthesizes(synth_dir: Path) -> None:
    names = sorted(p.name.split(".")[0][:-8] for p in _templates(synth_dir))
    pipelines = sorted({n.removeprefix("sandbox") for n in names if n.startswith("sandboxPipeline") and n != "sandboxPipelines"})
    assert len(pipelines) == len(module_files())
    shared = ("Guardrails", "Network", "Pipelines")
    assert names == sorted(f"{env}{stack}" for env in ("prod", "sandbox") for stack in (*shared, *pipelines))


def test_cfn_lint_reports_no_error(synth_dir: Path) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--non-zero-exit-code", "error", "--format", "parseable", *map(str, _templates(synth_dir))],
        capture_output=True,
        text=True,
        timeout=600,
    )
    errors = [line for line in result.stdout.splitlines() if ":E" in line]
    assert result.returncode == 0 and errors == [], result.stdout + result.stderr


def test_cdk_nag_has_no_unacknowledged_finding_and_no_unused_acknowledgment(synth_dir: Path) -> None:
    assert cdk_app.nag_violations(outdir=synth_dir) == []


def test_checkov_fails_nothing_outside_the_reasoned_skip_list(synth_dir: Path) -> None:
    """checkov (pinned, in its own virtualenv) over every template of the session's synth."""
    failures = run_checkov(templates=_templates(synth_dir))
    skips = load_skips()
    assert len(failures) >= len(skips)
    assert unskipped(failures=failures, skips=skips) == []
    # An entry that matches nothing is stale: a fixed finding must leave the list with its reason.
    assert unused(failures=failures, skips=skips) == []


def _acknowledgments(synth_dir: Path) -> dict[tuple[str, str], str]:
    found = {}
    for metadata in synth_dir.rglob("*.metadata.json"):
        for path, entries in json.loads(metadata.read_text()).items():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    found.update({(path, rule): reason for rule, reason in entry["data"].items()})
    return found


def test_every_acknowledgment_is_for_a_named_rule_with_a_specific_reason(synth_dir: Path) -> None:
    nag = {key: reason for key, reason in _acknowledgments(synth_dir).items() if key[1].startswith("AwsSolutions::")}
    assert len(nag) >= 40
    assert all(len(reason) > 40 for reason in nag.values()), nag
    # Wildcards are acknowledged one by one, never a whole rule.
    whole_rules = {rule for _, rule in nag if "[" not in rule}
    assert whole_rules == {"AwsSolutions::AwsSolutions-SQS3"}, whole_rules
    assert {path.split("/", 2)[2] for (path, rule) in nag if rule.endswith("-SQS3")} == {"Pipelines/Schedules/DeadLetters"}
    # The platform's functions have no managed policy: the only one left is on CDK's AwsCustomResource function.
    managed = {(path.split("/", 2)[2], rule) for (path, rule) in nag if "-IAM4[" in rule}
    basic = "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"
    assert managed == {("Network/AWS679f53fac002430cb0da5b7982bd2287", basic)}
    assert all("every log group of the account" in reason for (path, rule), reason in nag.items() if "-IAM4[" in rule)
    # No deployment function of CDK's own: the upsert function deploys job files.
    assert not [path for (path, rule) in nag if rule.endswith("-L1")]
    assert not [key for key in _acknowledgments(synth_dir) if key[1].startswith("Annotation::")]
    assert len(set(nag.values())) >= 10


def test_each_acknowledgment_covers_exactly_one_resource(synth_dir: Path) -> None:
    """Each acknowledgment suppresses its finding on one resource: its own or, for CDK-built constructs, the one below it."""
    report = json.loads((synth_dir / "validation-report.json").read_text())
    (nag,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    covered: dict[tuple[str, str], set[str]] = {}
    for violation in nag["suppressedViolations"]:
        key = (violation["acknowledgedAt"], violation["acknowledgedId"])
        covered.setdefault(key, set()).update(c["constructPath"] for c in violation["violatingConstructs"])
    assert len(covered) >= 40
    assert {key: paths for key, paths in covered.items() if len(paths) != 1} == {}
    assert len(covered) == len([key for key in _acknowledgments(synth_dir) if key[1].startswith("AwsSolutions::")])


def _lab_stage(tmp_path: Path):
    app = cdk.App(outdir=str(tmp_path), context=app_context())
    stage = cdk_app.add_environment(app=app, plan=plan_environment(today=PLAN_DAY, config=EnvironmentConfig(name="lab")))
    cdk.Validations.of(app).add_plugins(cdk_app.AwsSolutionsChecks())
    return app, stage


def test_a_new_wildcard_is_a_finding(tmp_path: Path) -> None:
    app, stage = _lab_stage(tmp_path)
    next(iter(stage.pipelines.values())).execution_role.role.add_to_principal_policy(
        iam.PolicyStatement(sid="Unreviewed", actions=["s3:*"], resources=["*"])
    )
    with pytest.raises(RuntimeError, match=r"(?s)lab/Pipeline[A-Za-z]+/ExecutionRole/Role/DefaultPolicy/Resource.*AwsSolutions-IAM5\[Action::s3:\*\]"):
        app.synth()


def test_a_new_wildcard_grant_to_an_acknowledged_role_fails_synth_naming_it(tmp_path: Path) -> None:
    """The provider framework's grants are acknowledged finding by finding: a bucket read added to them is not."""
    app, stage = _lab_stage(tmp_path)
    bucket = s3.Bucket(stage.services, "Extra")
    bucket.grant_read(stage.services.provider.provider.node.find_child("framework-onEvent"))
    with pytest.raises(RuntimeError, match=r"lab/Pipelines/Upsert/ProviderRole/DefaultPolicy: AwsSolutions-IAM5\[Action::s3:GetObject\*\] is not acknowledged"):
        app.synth()


def test_two_synths_are_byte_identical(synth_dir: Path, tmp_path: Path) -> None:
    """The session's synth (network blocked, UTC) against one in another directory, zone and hash seed,
    compiled from scratch (no compile cache), so the cache cannot hide a nondeterministic build."""
    first, second = synth_dir, tmp_path / "elsewhere" / "out-2"
    synth_in_subprocess(outdir=second, cwd=tmp_path, extra_env={"TZ": "Asia/Tokyo", "PYTHONHASHSEED": "2", CACHE_DISABLE_ENV: "1"}, block_network=False, context=app_context())

    first_files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    second_files = sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert first_files == second_files
    assert any(str(p).endswith(".template.json") for p in first_files)
    assert any(str(p).endswith(".assets.json") for p in first_files)
    different = [str(p) for p in first_files if not filecmp.cmp(first / p, second / p, shallow=False)]
    assert different == []


def test_the_network_block_used_for_synth_really_blocks(tmp_path: Path) -> None:
    """Guards the offline proof above: with the same sitecustomize, a connection attempt fails."""
    import shutil

    from base import network_block

    site = tmp_path / "site"
    site.mkdir()
    shutil.copyfile(network_block.__file__, site / "sitecustomize.py")
    probe = "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 9))\nexcept OSError as e:\n    print(e)\n"
    result = subprocess.run([sys.executable, "-c", probe], env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "PD_INSTALL_GUARD": "1"}, capture_output=True, text=True, timeout=60)
    assert "network access during an offline run" in result.stdout, result.stderr
