"""The data-passing Lambda step: typed outputs, and a JSON string the next job reads with json.loads."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from support.lambdas import load_handler, load_kit

data_passing = load_handler("data_passing")
kit = load_kit()


def test_outputs_have_their_declared_types() -> None:
    outputs = data_passing.on_event({"dataset_uri": "s3://bucket/datasets/abalone/", "requested_samples": "5000"}, None)
    assert outputs["sample_count"] == 5000 and isinstance(outputs["sample_count"], int)
    assert outputs["use_gpu"] is False
    assert outputs["learning_rate"] == 0.1
    assert outputs["run_label"] == "abalone-5000"
    assert json.loads(outputs["settings_json"])["max_depth"] == 5


def test_integer_parameters_arrive_as_numbers_too() -> None:
    request = data_passing.parse_request(event={"dataset_uri": "s3://bucket/key", "requested_samples": 2_000_000})
    assert data_passing.compute_settings(request=request)["sample_count"] == data_passing.MAX_SAMPLES


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"requested_samples": 1}, "field 'dataset_uri' is missing; allowed: an s3:// URI"),
        ({"dataset_uri": 42, "requested_samples": 1}, "field 'dataset_uri' is a number 42"),
        ({"dataset_uri": "/local", "requested_samples": 1}, "field 'dataset_uri' is '/local'; allowed: an s3:// URI"),
        ({"dataset_uri": "s3://", "requested_samples": 1}, "field 'dataset_uri' is 's3://'"),
        ({"dataset_uri": "s3://b/k"}, "field 'requested_samples' is missing"),
        ({"dataset_uri": "s3://b/k", "requested_samples": "many"}, "field 'requested_samples' is 'many'; allowed: an integer (at least 1)"),
        ({"dataset_uri": "s3://b/k", "requested_samples": [1]}, "field 'requested_samples' is a list [1]"),
        ({"dataset_uri": "s3://b/k", "requested_samples": 0}, "field 'requested_samples' is a number 0"),
        (["s3://b/k", 1], "field 'event' is a list"),
    ],
)
def test_bad_inputs_name_the_field(event: Any, message: str) -> None:
    with pytest.raises(kit.RequestError) as caught:
        data_passing.on_event(event, None)
    assert message in str(caught.value)


def test_log_line_is_named_fields(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="data_passing"):
        data_passing.on_event({"dataset_uri": "s3://bucket/abalone", "requested_samples": 20_000}, None)
    (record,) = [r for r in caplog.records if r.name == "data_passing"]
    assert record.getMessage() == "settings"
    assert (record.action, record.run_label, record.sample_count) == ("settings", "abalone-20000", 20_000)
