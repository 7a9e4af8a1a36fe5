"""The import layering in pyproject.toml holds, and an upward import really breaks it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("base", "pipeline_defs", "planning", "stacks", "tools")


def _lint(*, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(cwd / "pyproject.toml")],
        cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
    )


def test_every_layer_contract_is_kept() -> None:
    result = _lint(cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def _tree_with(tmp_path: Path, *, module: str, line: str) -> Path:
    tree = tmp_path / "tree"
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__", "jobs", "schema"))
    shutil.copyfile(ROOT / "pyproject.toml", tree / "pyproject.toml")
    target = tree / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    return tree


def test_an_upward_import_fails_the_build(tmp_path: Path) -> None:
    result = _lint(cwd=_tree_with(tmp_path, module="base/config.py", line="import planning.plan  # upward"))
    assert result.returncode != 0
    assert "Layers import only downward BROKEN" in result.stdout
    assert "base.config -> planning.plan" in result.stdout


def test_cdk_outside_stacks_fails_the_build(tmp_path: Path) -> None:
    result = _lint(cwd=_tree_with(tmp_path, module="planning/plan.py", line="import aws_cdk  # CDK below stacks"))
    assert result.returncode != 0
    assert "Only stacks (and the commands above them) use CDK BROKEN" in result.stdout
