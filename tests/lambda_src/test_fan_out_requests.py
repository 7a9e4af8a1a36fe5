"""The fan-out step's inputs at their limits, with the exact message for each refusal."""

from __future__ import annotations

import json
from typing import Any

import pytest

from support.lambdas import load_handler, load_kit

fan_out = load_handler("fan_out")
kit = load_kit()

CHILD = "smp-sandbox-parallel-shards"


def _event(**overrides: Any) -> dict:
    return {"child_pipeline": CHILD, "items_json": "[{}]", "parent_execution_id": "exec-1", "parent_pipeline": "smp-sandbox-parent", **overrides}


def _refusal(event: dict) -> str:
    with pytest.raises(kit.RequestError) as caught:
        fan_out.parse_request(event=event)
    return str(caught.value)


def test_without_a_value_or_an_environment_default_20_starts_run_at_once() -> None:
    assert fan_out.parse_request(event=_event()).max_concurrency == 20
    assert fan_out.parse_request(event=_event(), default_concurrency=3).max_concurrency == 3
    assert fan_out.parse_request(event=_event(max_concurrency=64), default_concurrency=3).max_concurrency == 64


def test_at_most_10000_items() -> None:
    assert len(fan_out.parse_request(event=_event(items_json=json.dumps([{}] * 10_000))).items) == 10_000
    message = _refusal(_event(items_json=json.dumps([{}] * 10_001)))
    assert message == "field 'items_json' has 10001 items; allowed: a JSON list of at most 10000 objects of parameter values"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"parent_execution_id": ""}, "field 'parent_execution_id' is ''; allowed: the parent pipeline's execution id"),
        ({"parent_pipeline": "bad_name"}, "field 'parent_pipeline' is 'bad_name'; allowed: the parent's pipeline name (ExecutionVariables.PIPELINE_NAME)"),
        ({"parent_pipeline": "-parent"}, "field 'parent_pipeline' is '-parent'; allowed: the parent's pipeline name (ExecutionVariables.PIPELINE_NAME)"),
        ({"max_concurrency": 65}, "field 'max_concurrency' is a number 65; allowed: an integer (at least 1 and at most 64), as a number or a decimal string"),
        ({"items_json": '[{"1": 2}, {"a": 1, "2": 3}, [1]]'}, "field 'items_json[2]' is a list [1]; allowed: an object of parameter name to value"),
    ],
)
def test_a_bad_input_is_refused_naming_it_and_what_is_allowed(overrides: dict, message: str) -> None:
    assert _refusal(_event(**overrides)) == message
