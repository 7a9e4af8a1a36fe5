"""The upsert function's definition assembly: the exact refusal for each malformed part, the one
serialization it writes, placeholders filled from S3, and SageMaker's size limit at its edge."""

from __future__ import annotations

import json
from typing import Any

import pytest

from support.lambdas import load_handler, load_kit

definition = load_handler("pipeline_upsert", module="definition")
handler = load_handler("pipeline_upsert")
kit = load_kit()

HEAD = json.dumps({"Version": "2020-12-01", "Parameters": []})
STEPS = {"A": json.dumps({"Name": "A", "Type": "Fail"}), "B": json.dumps({"Name": "B", "Type": "Fail"})}


def _refusal(read: Any) -> str:
    with pytest.raises(kit.RequestError) as caught:
        read()
    return str(caught.value)


def test_steps_are_put_back_in_their_order_as_canonical_json() -> None:
    text = definition.assemble_definition(parts={"Head": HEAD, "StepOrder": ["B", "A"], "Steps": STEPS})
    assert text == '{"Parameters":[],"Steps":[{"Name":"B","Type":"Fail"},{"Name":"A","Type":"Fail"}],"Version":"2020-12-01"}'


def test_canonical_json_keeps_unicode_sorts_keys_and_has_no_spaces() -> None:
    assert definition.canonical_json({"b": "é", "a": [1, {"d": None, "c": True}]}) == '{"a":[1,{"c":true,"d":null}],"b":"é"}'


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"StepOrder": [], "Steps": {}}, "field 'ResourceProperties.Definition.Head' is missing; allowed: Head, StepOrder and Steps, or S3Bucket and S3Key"),
        ({"Head": HEAD, "Steps": {}}, "field 'ResourceProperties.Definition.StepOrder' is missing; allowed: Head, StepOrder and Steps, or S3Bucket and S3Key"),
        ({"Head": HEAD, "StepOrder": []}, "field 'ResourceProperties.Definition.Steps' is missing; allowed: Head, StepOrder and Steps, or S3Bucket and S3Key"),
        ({"Head": "[1]", "StepOrder": [], "Steps": {}}, "field 'ResourceProperties.Definition.Head' is not a JSON object; allowed: the definition without its steps"),
        ({"Head": HEAD, "StepOrder": "A", "Steps": {"A": STEPS["A"]}}, "field 'ResourceProperties.Definition.StepOrder' is 'A'; allowed: each of the steps ['A'] exactly once"),
        ({"Head": HEAD, "StepOrder": ["A", 1], "Steps": {"A": STEPS["A"]}}, "field 'ResourceProperties.Definition.StepOrder' is ['A', 1]; allowed: each of the steps ['A'] exactly once"),
        ({"Head": HEAD, "StepOrder": ["A"], "Steps": ["A"]}, "field 'ResourceProperties.Definition' is not JSON ('list' object has no attribute 'items'); allowed: a JSON Head and one JSON string per step"),
        ({"Head": 5, "StepOrder": [], "Steps": {}}, "field 'ResourceProperties.Definition' is not JSON (the JSON object must be str, bytes or bytearray, not int); allowed: a JSON Head and one JSON string per step"),
    ],
)
def test_each_malformed_part_is_refused_naming_it(parts: dict, message: str) -> None:
    assert _refusal(lambda: definition.assemble_definition(parts=parts)) == message


def test_a_definition_from_s3_has_every_placeholder_filled() -> None:
    text = '{"Role": "${Role}", "Steps": [], "Bucket": "${Bucket}", "Again": "${Role}"}'
    filled = definition.assemble_definition(parts={"Substitutions": {"Role": "r", "Bucket": "b"}}, s3_text=text)
    assert filled == '{"Again":"r","Bucket":"b","Role":"r","Steps":[]}'
    assert definition.assemble_definition(parts={}, s3_text='{"Steps": []}') == '{"Steps":[]}'


def test_a_definition_from_s3_is_refused_naming_what_is_wrong() -> None:
    assert _refusal(lambda: definition.definition_from_object(substitutions=["Role"], text="{}")) == (
        "field 'ResourceProperties.Definition.Substitutions' is not an object; allowed: an object of placeholder name to value"
    )
    assert _refusal(lambda: definition.definition_from_object(substitutions={}, text="${B} ${A} ${B}")) == (
        "field 'ResourceProperties.Definition.Substitutions' has no value for placeholders ['B', 'A'] of the definition in S3; allowed: a value for every ${Name} the definition uses"
    )
    assert _refusal(lambda: definition.definition_from_object(substitutions={"A": "x"}, text="{${A}}")) == (
        "field 'ResourceProperties.Definition.S3Key' names an object that is not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1)); allowed: a pipeline definition"
    )


def test_a_definition_of_sagemakers_maximum_size_is_accepted_and_one_more_character_refused() -> None:
    limit = handler.MAX_DEFINITION_CHARACTERS
    assert limit == 1_048_576
    text = '{"Pad":"' + "x" * (limit - 10) + '"}'
    assert len(text) == limit
    assert handler._definition_text(definition=text, s3_client=None) == text
    longer = '{"Pad":"' + "x" * (limit - 9) + '"}'
    assert _refusal(lambda: handler._definition_text(definition=longer, s3_client=None)) == (
        f"field 'ResourceProperties.Definition' assembles to {limit + 1} characters; allowed: at most {limit} (SageMaker's limit)"
    )
