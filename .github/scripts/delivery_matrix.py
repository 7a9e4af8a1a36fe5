#!/usr/bin/env python3
"""Print the workflows' job matrices from cdk.json, as ``name=value`` lines for ``$GITHUB_OUTPUT``.

``deploy``: every environment in ``cdk.json`` order with the role its deploy job assumes;
``review``: the environments with an account and their read-only review role. Read at run time,
so an environment added to ``cdk.json`` gets its jobs with nothing to regenerate. Standard library
and the base layer only: it runs before anything is installed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from base.config import project_context  # noqa: E402
from base.delivery import deploy_targets, review_targets  # noqa: E402
from base.errors import UserError  # noqa: E402


def matrix_outputs(*, root: Path) -> dict[str, str]:
    """The ``deploy`` and ``review`` matrices (``{"include": [...]}``) of the project at ``root``, as JSON."""
    context = project_context(root=root)
    return {
        "deploy": json.dumps({"include": deploy_targets(context=context)}, separators=(",", ":")),
        "review": json.dumps({"include": review_targets(context=context)}, separators=(",", ":")),
    }


def main() -> int:
    try:
        outputs = matrix_outputs(root=ROOT)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    for name, value in outputs.items():
        print(f"{name}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
