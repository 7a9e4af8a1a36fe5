"""app.py's error handling: a failed synth leaves the output directory as it found it."""

from __future__ import annotations

from pathlib import Path

import pytest

import app as cdk_app
from base.errors import UserError


def _write_half_an_assembly(outdir: Path) -> None:
    (outdir / "asset.0123").mkdir(parents=True)
    (outdir / "asset.0123" / "handler.py").write_text("")
    (outdir / "manifest.json").write_text("{}")


def test_a_user_error_removes_what_the_run_wrote_and_exits_with_its_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "previous.template.json").write_text("{}")
    with pytest.raises(SystemExit) as exited, cdk_app.user_errors_reported(outdir=tmp_path):
        _write_half_an_assembly(tmp_path)
        raise UserError("context 'environments.lab' is null")
    assert exited.value.code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["previous.template.json"]
    assert capsys.readouterr().err == "error: context 'environments.lab' is null\n"


def test_an_unexpected_failure_also_cleans_up_but_keeps_its_traceback(tmp_path: Path) -> None:
    outdir = tmp_path / "cdk.out"
    with pytest.raises(RuntimeError, match="There is already a Construct"), cdk_app.user_errors_reported(outdir=outdir):
        _write_half_an_assembly(outdir)
        raise RuntimeError("There is already a Construct with name 'Probe'")
    assert not outdir.exists()


@pytest.mark.parametrize(("value", "traceback_shown"), [("1", True), ("0", False), ("", False)])
def test_smp_debug_decides_whether_the_traceback_is_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str, traceback_shown: bool
) -> None:
    monkeypatch.setenv(cdk_app.DEBUG_VARIABLE, value)
    with pytest.raises(SystemExit), cdk_app.user_errors_reported(outdir=None):
        raise UserError("bad")
    err = capsys.readouterr().err
    assert ("Traceback (most recent call last)" in err) is traceback_shown
    assert err.endswith("error: bad\n")
