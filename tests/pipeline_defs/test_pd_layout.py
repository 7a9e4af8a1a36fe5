"""pipeline_defs stays readable: small modules, short functions (pipeline modules and job scripts aside).

A module may grow past the limit only when its docstring says why, with the words
"longer than 300 lines because", so the reason is read before the code.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "pipeline_defs"
EXCLUDED = ("pipelines", "jobs")
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
REASON = f"longer than {MAX_MODULE_LINES} lines because"


def _modules() -> list[Path]:
    modules = sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in EXCLUDED)
    assert PACKAGE / "contract.py" in modules and PACKAGE / "compiler" / "__init__.py" in modules
    return modules


def test_modules_are_at_most_300_lines_unless_their_docstring_says_why() -> None:
    too_long = {}
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES and REASON not in (ast.get_docstring(ast.parse(text)) or ""):
            too_long[path.relative_to(PACKAGE).as_posix()] = lines
    assert too_long == {}


def test_functions_are_at_most_60_lines() -> None:
    too_long = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long[f"{path.relative_to(PACKAGE).as_posix()}:{node.name}"] = length
    assert too_long == {}
