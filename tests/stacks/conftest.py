"""Fixtures of the stack tests: the compiler's own output, compiled once per session in this process."""

from __future__ import annotations

from typing import Any

import pytest

from base.config import EnvironmentConfig
from planning.compilation import compile_pipelines


@pytest.fixture(scope="session")
def sandbox_compiled() -> dict[str, Any]:
    """Every pipeline compiled for a plain sandbox, by full pipeline name."""
    return {c.pipeline_name: c for c in compile_pipelines(config=EnvironmentConfig(name="sandbox"))}
