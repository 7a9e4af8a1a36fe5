"""Import Lambda code the way the runtime does: the asset root on ``sys.path``, then ``<folder>.handler``.

In Lambda, ``/var/task`` is the code asset's root, holding the function's folder and ``handler_kit``;
here ``lambda_src/`` plays that part, so ``handler_kit`` resolves exactly as it will when deployed.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"


def _import_from_asset_root(module: str) -> ModuleType:
    if str(LAMBDA_SRC) not in sys.path:
        sys.path.insert(0, str(LAMBDA_SRC))
    return importlib.import_module(module)


def load_handler(name: str, *, module: str = "handler") -> ModuleType:
    """``lambda_src/<name>/<module>.py`` as the module ``<name>.<module>``."""
    return _import_from_asset_root(f"{name}.{module}")


def load_kit() -> ModuleType:
    """``lambda_src/handler_kit``, the skeleton every handler imports."""
    return _import_from_asset_root("handler_kit")
