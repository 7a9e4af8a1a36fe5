"""Shared fixtures: one synthesis of the whole app per test session, read back as an assembly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from support.assembly import Assembly  # noqa: E402


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``cdk.out`` of the app exactly as cdk.json configures it."""
    import aws_cdk as cdk

    import app as cdk_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(outdir), context=cdk_app.project_context())
    cdk_app.build_app(app=app).synth()
    return outdir


@pytest.fixture(scope="session")
def assembly(synth_dir: Path) -> Assembly:
    return Assembly(synth_dir)
