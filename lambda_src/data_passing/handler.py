"""Lambda step of the data-passing example: derives run settings from the step's inputs.

SageMaker passes the LambdaStep ``inputs`` as the event and reads the declared outputs from the
returned object: primitives stay primitives, and the non-primitive result travels as a JSON string
(``settings_json``) that the consuming job reads with ``json.loads``, never ``eval``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from handler_kit import Fields, log_action, logger_for

LOGGER = logger_for(name="data_passing")

MAX_SAMPLES = 1_000_000
S3_URI = re.compile(r"s3://[^/\s]+(/.*)?")


@dataclass(frozen=True)
class SettingsRequest:
    """The LambdaStep inputs: the dataset and how many samples the run asks for."""

    dataset_uri: str
    requested_samples: int


def parse_request(*, event: Any) -> SettingsRequest:
    """``{"dataset_uri": "s3://...", "requested_samples": int or decimal string}``."""
    fields = Fields.of(event=event)
    return SettingsRequest(
        dataset_uri=fields.text(key="dataset_uri", pattern=S3_URI, allowed="an s3:// URI"),
        requested_samples=fields.integer(key="requested_samples", minimum=1),
    )


def compute_settings(*, request: SettingsRequest) -> dict[str, Any]:
    """Settings for the next step; the rules are simple on purpose, the types are the point."""
    sample_count = min(request.requested_samples, MAX_SAMPLES)
    use_gpu = sample_count > 100_000
    learning_rate = 0.1 if sample_count < 10_000 else 0.05
    run_label = f"{request.dataset_uri.rstrip('/').rsplit('/', 1)[-1]}-{sample_count}"
    settings = {"features": ["length", "diameter", "height", "whole_weight"], "max_depth": 5, "early_stopping": {"rounds": 10}}
    return {
        "sample_count": sample_count,
        "run_label": run_label,
        "use_gpu": use_gpu,
        "learning_rate": learning_rate,
        "settings_json": json.dumps(settings, sort_keys=True),
    }


def on_event(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """LambdaStep entry point."""
    result = compute_settings(request=parse_request(event=event))
    log_action(logger=LOGGER, action="settings", run_label=result["run_label"], sample_count=result["sample_count"])
    return result
