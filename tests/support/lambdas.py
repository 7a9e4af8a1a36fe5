"""Load a Lambda handler module from ``lambda_src/<name>/handler.py`` the way the runtime does (by file)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"


def load_handler(name: str) -> ModuleType:
    module_name = f"lambda_{name}_handler"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, LAMBDA_SRC / name / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
