"""Shared fixtures: one synthesis of the whole app per test session, read back as an assembly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from support.assembly import Assembly  # noqa: E402


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``cdk.out`` of the app exactly as the CLI runs it, with the network blocked and no AWS credentials."""
    from support.environments import app_context
    from support.synth import synth_in_subprocess

    workdir = tmp_path_factory.mktemp("synth")
    outdir = workdir / "cdk.out"
    synth_in_subprocess(outdir=outdir, cwd=workdir, extra_env={"TZ": "UTC", "PYTHONHASHSEED": "1"}, block_network=True, context=app_context())
    return outdir


@pytest.fixture(scope="session")
def assembly(synth_dir: Path) -> Assembly:
    return Assembly(synth_dir)
