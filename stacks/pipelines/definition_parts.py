"""Split a pipeline definition into template properties that ``cdk diff`` can show step by step.

The upsert handler (``lambda_src/pipeline_upsert/handler.py``, ``assemble_definition``) reverses
this. CloudFormation turns every scalar in custom resource properties into a string, so each part
travels as a JSON string rather than as nested objects.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline_defs.contract import canonical_json


def split_definition(*, definition: str) -> dict[str, Any]:
    """``Head`` (all but the steps), ``StepOrder`` and ``Steps`` (name → one step's JSON)."""
    document = json.loads(definition)
    steps = document.pop("Steps", [])
    return {
        "Head": canonical_json(document),
        "StepOrder": [step["Name"] for step in steps],
        "Steps": {step["Name"]: canonical_json(step) for step in steps},
    }
