"""Gates on the whole synthesized app: cfn-lint, cdk-nag, determinism, and synth with no network."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from support.environments import app_context
import app as cdk_app
from base.config import EnvironmentConfig
from pipeline_defs.compiler.cache import CACHE_DISABLE_ENV
from pipeline_defs.loader import module_files
from planning.plan import plan_environment
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


def test_cdk_nag_has_no_unacknowledged_finding(synth_dir: Path) -> None:
    assert cdk_app.nag_violations(outdir=synth_dir) == []


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
    assert {path.rsplit("/", 1)[-1] for (path, rule) in nag if rule.endswith("-SQS3")} == {"DeadLetters", "GuardDeadLetters"}
    # No deployment function of CDK's own: the upsert function deploys job files.
    assert not [path for (path, rule) in nag if rule.endswith("-L1")]
    assert not [key for key in _acknowledgments(synth_dir) if key[1].startswith("Annotation::")]
    assert len(set(nag.values())) >= 10


def test_a_new_wildcard_is_a_finding(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path), context=app_context())
    stage = cdk_app.add_environment(app=app, plan=plan_environment(config=EnvironmentConfig(name="lab")))
    next(iter(stage.pipelines.values())).execution_role.role.add_to_principal_policy(
        iam.PolicyStatement(sid="Unreviewed", actions=["s3:*"], resources=["*"])
    )
    cdk.Validations.of(app).add_plugins(cdk_app.AwsSolutionsChecks())
    with pytest.raises(RuntimeError, match=r"(?s)lab/Pipeline[A-Za-z]+/ExecutionRole/Role/DefaultPolicy/Resource.*AwsSolutions-IAM5\[Action::s3:\*\]"):
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
