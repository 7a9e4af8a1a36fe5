"""``python -m tools.review``: its exit codes (0 clean, 1 security-relevant, 2 bad input) and one error line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tool_inputs import derive, set_preprocess_instance_type

from base.config import PROJECT_ROOT
from tools.review.cli import main


def _outputs(base: Path, head: Path) -> list[str]:
    return ["--base", "main", "--base-outdir", str(base), "--head-outdir", str(head), "--no-cdk-tables"]


def test_identical_outputs_exit_0(synth_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_outputs(synth_dir, synth_dir)) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "review main → working tree"
    assert out.rstrip().splitlines()[-1] == "security-relevant changes: none"


def test_a_security_relevant_change_exits_1(synth_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = derive(synth_dir, tmp_path / "head.out", set_preprocess_instance_type)
    assert main([*_outputs(synth_dir, head), "--markdown"]) == 1
    assert "**⚠️ Security-relevant changes: yes**" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "error: the following arguments are required: --base (see `python -m tools.review --help`)"),
        (["--base", "no-such-ref-anywhere"], "error: --base 'no-such-ref-anywhere' is not a commit in"),
        (["--base", "HEAD", "--head-outdir", "{tmp}"], "error: --head-outdir {tmp} has no manifest.json: expected a cdk.out directory"),
        (["--base", "HEAD", "--base-outdir", "{synth}"], "error: --base-outdir needs --head-outdir"),
    ],
)
def test_bad_input_exits_2_with_one_error_line(
    argv: list[str], message: str, synth_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    filled = [a.format(tmp=tmp_path, synth=synth_dir) for a in argv]
    assert main(filled) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith(message.format(tmp=tmp_path))


def test_debug_adds_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--base", "no-such-ref-anywhere", "--debug"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "tools.review.synth.ReviewError" in err


def test_the_module_runs_as_a_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.review", "--base", "no-such-ref-anywhere"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: --base 'no-such-ref-anywhere' is not a commit") and "Traceback" not in result.stderr


def test_git_path_synthesizes_the_base_ref_in_a_temporary_tree(synth_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """End to end through ``git archive`` of HEAD (the working tree side reuses the session synth)."""
    code = main(["--base", "HEAD", "--head-outdir", str(synth_dir), "--no-cdk-tables"])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    assert captured.out.startswith("review HEAD → working tree\n")
    assert captured.out.rstrip().splitlines()[-1].startswith("security-relevant changes:")
    assert code == (1 if "YES" in captured.out.splitlines()[-1] else 0)
