"""Each function's code asset holds its own folder and handler_kit, nothing else, and imports from itself alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.functions.lambda_code import function_folders, handler_code, handler_string
from support.assembly import Assembly
from support.lambdas import LAMBDA_SRC

SHARED = "handler_kit"


def _source_files(folder: str) -> dict[str, bytes]:
    root = LAMBDA_SRC / folder
    return {
        str(path.relative_to(LAMBDA_SRC)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def staged(assembly: Assembly, synth_dir: Path) -> dict[str, Path]:
    """Handler folder -> the staged asset directory of its function, for every function the app synthesizes."""
    found: dict[str, set[Path]] = {}
    for stack in assembly.stacks.values():
        for function in stack.resources("AWS::Lambda::Function").values():
            properties = function["Properties"]
            handler = properties.get("Handler", "")
            if not handler.endswith(".handler.on_event"):
                continue  # CDK's own functions (Provider framework, bucket deployment)
            asset_hash = properties["Code"]["S3Key"].removesuffix(".zip")
            found.setdefault(handler.split(".")[0], set()).add(synth_dir / f"asset.{asset_hash}")
    assert all(len(directories) == 1 for directories in found.values()), found  # one asset per function, whichever environment
    return {folder: directories.pop() for folder, directories in found.items()}


def test_every_function_folder_is_deployed(staged: dict[str, Path]) -> None:
    assert sorted(staged) == function_folders() == ["data_passing", "fan_out", "pipeline_upsert", "schedule_guard"]


def test_each_asset_holds_exactly_its_folder_and_the_kit(staged: dict[str, Path]) -> None:
    for folder, directory in staged.items():
        assert sorted(p.name for p in directory.iterdir()) == sorted([folder, SHARED]), folder
        files = {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}
        assert files == {**_source_files(folder), **_source_files(SHARED)}, folder


def test_each_handler_imports_from_its_asset_alone(staged: dict[str, Path]) -> None:
    """As in Lambda: the asset root is the working directory and first on sys.path, the project is not."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(AWS_DEFAULT_REGION="eu-west-1", PYTHONDONTWRITEBYTECODE="1")
    for folder, directory in staged.items():
        code = f"import importlib, sys; module = importlib.import_module('{folder}.handler'); assert callable(module.on_event); print(sys.modules['handler_kit'].__file__)"
        result = subprocess.run([sys.executable, "-c", code], cwd=directory, env=env, capture_output=True, text=True)
        assert result.returncode == 0, f"{folder}: {result.stderr[-2000:]}"
        assert Path(result.stdout.strip()).parent == directory / SHARED


def test_handler_strings_name_the_module_inside_the_asset() -> None:
    assert handler_string(folder="fan_out") == "fan_out.handler.on_event"
    assert handler_string(folder="pipeline_upsert", function="other") == "pipeline_upsert.handler.other"


def test_a_folder_without_a_handler_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"Lambda code folder 'handler_kit' has no handler.py in .*lambda_src: expected one of \['data_passing', 'fan_out', 'pipeline_upsert', 'schedule_guard'\]"):
        handler_code(folder=SHARED)
