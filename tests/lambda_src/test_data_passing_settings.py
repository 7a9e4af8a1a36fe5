"""The data-passing step's settings at each threshold, and the exact JSON text the consumer job reads."""

from __future__ import annotations

import json

import pytest

from support.lambdas import load_handler

data_passing = load_handler("data_passing")

SETTINGS_JSON = '{"early_stopping": {"rounds": 10}, "features": ["length", "diameter", "height", "whole_weight"], "max_depth": 5}'


def _settings(samples: int, uri: str = "s3://bucket/datasets/abalone/") -> dict:
    return data_passing.on_event({"dataset_uri": uri, "requested_samples": samples}, None)


@pytest.mark.parametrize(
    ("requested", "count", "use_gpu", "learning_rate"),
    [
        (1, 1, False, 0.1),
        (9_999, 9_999, False, 0.1),
        (10_000, 10_000, False, 0.05),
        (100_000, 100_000, False, 0.05),
        (100_001, 100_001, True, 0.05),
        (1_000_000, 1_000_000, True, 0.05),
        (1_000_001, 1_000_000, True, 0.05),
    ],
)
def test_every_output_at_each_threshold(requested: int, count: int, use_gpu: bool, learning_rate: float) -> None:
    assert _settings(requested) == {
        "sample_count": count,
        "run_label": f"abalone-{count}",
        "use_gpu": use_gpu,
        "learning_rate": learning_rate,
        "settings_json": SETTINGS_JSON,
    }


def test_settings_json_is_the_same_text_every_time_and_an_object_for_the_job() -> None:
    text = _settings(5)["settings_json"]
    assert text == SETTINGS_JSON
    assert json.loads(text) == {"features": ["length", "diameter", "height", "whole_weight"], "max_depth": 5, "early_stopping": {"rounds": 10}}


@pytest.mark.parametrize(
    ("uri", "label"),
    [
        ("s3://bucket/datasets/abalone/", "abalone-7"),
        ("s3://bucket/datasets/abalone//", "abalone-7"),
        ("s3://bucket/a/b/c.csv", "c.csv-7"),
        ("s3://bucket/models/ONNX/", "ONNX-7"),
        ("s3://bucket", "bucket-7"),
    ],
)
def test_run_label_is_the_last_key_segment_and_the_count(uri: str, label: str) -> None:
    assert _settings(7, uri)["run_label"] == label
