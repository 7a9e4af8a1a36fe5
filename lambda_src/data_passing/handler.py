"""Lambda step of the data-passing example: derives run settings from the step's inputs.

SageMaker passes the LambdaStep ``inputs`` as the event and reads the declared outputs from the
returned object: primitives stay primitives, and the non-primitive result travels as a JSON string
(``settings_json``) that the consuming job reads with ``json.loads``, never ``eval``.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Mapping

LOGGER = logging.getLogger()
LOGGER.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

MAX_SAMPLES = 1_000_000


def compute_settings(*, dataset_uri: str, requested_samples: int) -> dict[str, Any]:
    """Settings for the next step; the rules are simple on purpose, the types are the point."""
    if not dataset_uri.startswith("s3://"):
        raise ValueError(f"dataset_uri is {dataset_uri!r}: expected an s3:// URI")
    if requested_samples < 1:
        raise ValueError(f"requested_samples is {requested_samples}: expected at least 1")
    sample_count = min(requested_samples, MAX_SAMPLES)
    use_gpu = sample_count > 100_000
    learning_rate = 0.1 if sample_count < 10_000 else 0.05
    run_label = f"{dataset_uri.rstrip('/').rsplit('/', 1)[-1]}-{sample_count}"
    settings = {"features": ["length", "diameter", "height", "whole_weight"], "max_depth": 5, "early_stopping": {"rounds": 10}}
    return {
        "sample_count": sample_count,
        "run_label": run_label,
        "use_gpu": use_gpu,
        "learning_rate": learning_rate,
        "settings_json": json.dumps(settings, sort_keys=True),
    }


def on_event(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """LambdaStep entry point: ``{"dataset_uri": str, "requested_samples": int|str}``."""
    try:
        dataset_uri = str(event["dataset_uri"])
        requested = int(event["requested_samples"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"data-passing step input is invalid ({error!r}); expected dataset_uri and an integer requested_samples") from None
    result = compute_settings(dataset_uri=dataset_uri, requested_samples=requested)
    LOGGER.info(json.dumps({"action": "settings", "run_label": result["run_label"], "sample_count": result["sample_count"]}))
    return result
