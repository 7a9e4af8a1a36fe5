"""Code assets, handler strings and runtime of the Lambda functions in ``lambda_src/``, without bundling.

A function's asset is ``lambda_src/`` minus every other function folder: its own folder and
``handler_kit/`` (the skeleton every handler shares), nothing else. Lambda puts the asset root
(``/var/task``) on ``sys.path``, so the handler ``<folder>.handler.<function>`` imports ``handler_kit``.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"
ENTRY_POINT = "on_event"
PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_14
# Interpreter caches written by local test runs must not change the asset hash.
ASSET_EXCLUDES = ["__pycache__", "*.pyc"]


def function_folders() -> list[str]:
    """The folders of ``lambda_src/`` that hold a ``handler.py``: one per function."""
    return sorted(path.parent.name for path in LAMBDA_SRC.glob("*/handler.py"))


def handler_code(*, folder: str) -> lambda_.Code:
    """The asset of the function in ``lambda_src/<folder>``: that folder and ``handler_kit/``."""
    folders = function_folders()
    if folder not in folders:
        raise ValueError(f"Lambda code folder {folder!r} has no handler.py in {LAMBDA_SRC}: expected one of {folders}")
    return lambda_.Code.from_asset(str(LAMBDA_SRC), exclude=[*(f for f in folders if f != folder), *ASSET_EXCLUDES])


def handler_string(*, folder: str, function: str = ENTRY_POINT) -> str:
    """``<folder>.handler.<function>``: the module is imported as a package of the asset root."""
    return f"{folder}.handler.{function}"
