"""Shared fixtures: one offline compile of every pipeline per test session (the SDK is slow to load)."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
TEST_SIGNING_SEED = "tests-only signing seed, known to every test run"

if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from base import network_block  # noqa: E402


@pytest.fixture
def offline_guard():
    """Network blocked (and attempts recorded) for one test: compiling must not need it."""
    with network_block.blocked():
        yield network_block


TEST_STEP_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/smp-step-runtime@sha256:689e9dd50804826d04c324c720104e2fc7362bd1a54df6e4898a8b423f2cae15"


@pytest.fixture(scope="session")
def sandbox_context():
    from pipeline_defs.context import context_for_environment

    return context_for_environment(
        env_name="sandbox",
        region=None,
        cost_tag_key="CostCenter",
        cost_tag_value="ml-platform",
        allowed_instance_types=("ml.m5.large", "ml.m5.xlarge"),
        step_image_uri=TEST_STEP_IMAGE,
    )


def _compile_offline(ctx, module_paths=None):
    """Compile for ``ctx`` with the network blocked and SDK warnings as errors; name -> result."""
    previous = os.environ.get("PIPELINE_DEFS_SIGNING_SEED")
    os.environ["PIPELINE_DEFS_SIGNING_SEED"] = TEST_SIGNING_SEED
    attempts_before = len(network_block.ATTEMPTS)
    try:
        with network_block.blocked(), warnings.catch_warnings():
            from pipeline_defs.compiler import compile_environment

            warnings.simplefilter("error", UserWarning)
            warnings.filterwarnings("ignore", message="Running within a PipelineSession")
            results = compile_environment(ctx, module_paths=module_paths)
        assert network_block.ATTEMPTS[attempts_before:] == [], "the compile tried to reach the network"
    finally:
        if previous is None:
            os.environ.pop("PIPELINE_DEFS_SIGNING_SEED", None)
        else:
            os.environ["PIPELINE_DEFS_SIGNING_SEED"] = previous
    return {result.module_pipeline_name: result for result in results}


@pytest.fixture(scope="session")
def compiled(sandbox_context):
    """Every pipeline compiled once for the sandbox, with the network blocked."""
    return _compile_offline(sandbox_context)


STEP_MODULES = HERE / "step_modules"


@pytest.fixture(scope="session")
def step_compiled(sandbox_context):
    """Each module of ``step_modules/`` (one per step type or feature) compiled once, network blocked."""
    return _compile_offline(sandbox_context, sorted(STEP_MODULES.glob("*.py")))


@pytest.fixture(scope="session")
def step_definitions(step_compiled):
    import json

    return {name: json.loads(result.definition) for name, result in step_compiled.items()}


@pytest.fixture(scope="session")
def definitions(compiled):
    import json

    return {name: json.loads(result.definition) for name, result in compiled.items()}
