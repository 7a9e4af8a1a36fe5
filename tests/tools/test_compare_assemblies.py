"""The assembly comparison names every differing, missing and added file, and maps moved directories."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.compare_assemblies import main


def _tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


def test_identical_trees_with_a_moved_directory_compare_equal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _tree(tmp_path / "old", {"a.template.json": "{}", "assembly-prod/pipeline-files/p/code.py": "x"})
    new = _tree(tmp_path / "new", {"a.template.json": "{}", "pipeline-files/prod/p/code.py": "x"})
    assert main([str(old), str(new), "--moved", "assembly-prod/pipeline-files=pipeline-files/prod"]) == 0
    assert capsys.readouterr().out == "2 files compared: 0 differ, 0 only in old, 0 only in new\n"


def test_every_difference_is_named_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _tree(tmp_path / "old", {"same.json": "1", "changed.json": "1", "gone.json": "1"})
    new = _tree(tmp_path / "new", {"same.json": "1", "changed.json": "2", "added.json": "1"})
    assert main([str(old), str(new)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "only in old: gone.json",
        "only in new: added.json",
        "differ: changed.json",
        "3 files compared: 1 differ, 1 only in old, 1 only in new",
    ]


def test_a_missing_directory_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope"), str(tmp_path)]) == 2
    assert "old assembly" in capsys.readouterr().err
