"""The handler skeleton: request errors that name the field, typed readers, idempotency tokens, structured logs."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from typing import Any

import pytest
from botocore.loaders import Loader

from base.naming import PIPELINE_NAME_PATTERN
from support.lambdas import LAMBDA_SRC, load_kit

kit = load_kit()


def _error(read: Any) -> Any:
    with pytest.raises(kit.RequestError) as caught:
        read()
    return caught.value


def test_request_error_names_the_field_the_problem_and_what_is_allowed() -> None:
    error = kit.RequestError(field="ResourceProperties.Tags[2]", problem="is 'x'", allowed="a {Key, Value} object")
    assert str(error) == "field 'ResourceProperties.Tags[2]' is 'x'; allowed: a {Key, Value} object"
    assert (error.field, error.problem, error.allowed) == ("ResourceProperties.Tags[2]", "is 'x'", "a {Key, Value} object")
    assert isinstance(error, ValueError)


def test_an_event_that_is_not_an_object_is_a_request_error() -> None:
    error = _error(lambda: kit.Fields.of(event=["not", "an", "object"]))
    assert str(error) == "field 'event' is a list ['not', 'an', 'object']; allowed: a JSON object"


def test_nested_fields_are_named_by_their_path_from_the_event_root() -> None:
    event = kit.Fields.of(event={"ResourceProperties": {"Definition": {"Head": "{}"}}})
    definition = event.object(key="ResourceProperties").object(key="Definition")
    assert definition.path == "ResourceProperties.Definition"
    error = _error(lambda: definition.text(key="StepOrder", allowed="a list"))
    assert (error.field, error.problem) == ("ResourceProperties.Definition.StepOrder", "is missing")
    error = _error(lambda: event.object(key="ResourceProperties").object(key="Definition").object(key="Head"))
    assert str(error) == "field 'ResourceProperties.Definition.Head' is '{}'; allowed: a JSON object"


def test_text_requires_a_non_empty_string_matching_the_pattern() -> None:
    fields = kit.Fields.of(event={"name": "ok-1", "empty": "", "number": 5, "bad": "no_underscores"})
    pattern = re.compile(r"[a-z0-9-]+")
    assert fields.text(key="name", pattern=pattern, allowed="lowercase") == "ok-1"
    assert str(_error(lambda: fields.text(key="missing", allowed="a name"))) == "field 'missing' is missing; allowed: a name"
    assert _error(lambda: fields.text(key="empty", allowed="a name")).problem == "is ''"
    assert _error(lambda: fields.text(key="number", allowed="a name")).problem == "is a number 5"
    assert _error(lambda: fields.text(key="bad", pattern=pattern, allowed="lowercase")).problem == "is 'no_underscores'"
    # An optional field may be absent or empty; a wrong type is still an error.
    assert fields.text(key="missing", default="fallback") == "fallback"
    assert fields.text(key="empty", default="fallback") == ""
    assert str(_error(lambda: fields.text(key="number", default=""))) == "field 'number' is a number 5; allowed: a string"


@pytest.mark.parametrize(("value", "expected"), [(4, 4), ("4", 4), (" 12 ", 12), (7.0, 7), ("-3", -3)])
def test_integer_takes_numbers_and_decimal_strings(value: Any, expected: int) -> None:
    assert kit.Fields.of(event={"n": value}).integer(key="n") == expected


@pytest.mark.parametrize("value", ["many", "4.5", 4.5, True, [4], {"n": 4}])
def test_integer_rejects_everything_else(value: Any) -> None:
    error = _error(lambda: kit.Fields.of(event={"n": value}).integer(key="n", minimum=1, maximum=64))
    assert error.field == "n" and error.allowed == "an integer (at least 1 and at most 64), as a number or a decimal string"


def test_integer_bounds_and_absence() -> None:
    fields = kit.Fields.of(event={"zero": "0", "big": 65, "unset": "", "null": None})
    assert _error(lambda: fields.integer(key="zero", minimum=1)).problem == "is '0'"
    assert _error(lambda: fields.integer(key="big", maximum=64)).problem == "is a number 65"
    # CloudFormation sends an unset optional number as "".
    assert fields.integer(key="unset", default=None) is None
    assert fields.integer(key="null", default=20) == 20
    assert _error(lambda: fields.integer(key="unset")).problem == "is missing"


def test_flag_takes_booleans_and_their_strings_only() -> None:
    fields = kit.Fields.of(event={"yes": "TRUE", "no": "false", "bool": True, "typo": "yes"})
    assert (fields.flag(key="yes", default=False), fields.flag(key="no", default=True), fields.flag(key="bool", default=False)) == (True, False, True)
    assert fields.flag(key="absent", default=True) is True
    assert str(_error(lambda: fields.flag(key="typo", default=False))) == "field 'typo' is 'yes'; allowed: true or false"


def test_json_takes_text_or_decoded_values_of_the_kind() -> None:
    fields = kit.Fields.of(event={"text": "[1, 2]", "decoded": [3], "broken": "[1,", "object": '{"a": 1}'})
    assert fields.json_value(key="text", kind=list, allowed="a list") == [1, 2]
    assert fields.json_value(key="decoded", kind=list, allowed="a list") == [3]
    assert _error(lambda: fields.json_value(key="broken", kind=list, allowed="a list")).problem.startswith("is not JSON (")
    assert _error(lambda: fields.json_value(key="object", kind=list, allowed="a list")).problem == "is an object {'a': 1}"
    assert _error(lambda: fields.json_value(key="absent", kind=list, allowed="a list")).problem == "is missing"


def test_pairs_read_name_value_lists_and_name_the_bad_entry() -> None:
    fields = kit.Fields.of(event={"tags": [{"Key": "a", "Value": 1}, {"Key": "b", "Value": "x"}], "bad": [{"Key": "a", "Value": "1"}, {"Key": "b"}], "text": "a=1"})
    assert fields.pairs(key="tags", names=("Key", "Value")) == (("a", "1"), ("b", "x"))
    assert fields.pairs(key="absent", names=("Key", "Value"), default=()) == ()
    error = _error(lambda: fields.pairs(key="bad", names=("Key", "Value")))
    assert str(error) == "field 'bad[1]' is an object {'Key': 'b'}; allowed: a list of {Key, Value} objects"
    assert _error(lambda: fields.pairs(key="text", names=("Name", "Value"))).allowed == "a list of {Name, Value} objects"


def test_long_values_are_shortened_in_messages() -> None:
    error = _error(lambda: kit.Fields.of(event={"name": "x" * 500}).integer(key="name"))
    assert len(error.problem) < 130 and error.problem.endswith("...")


# Idempotency tokens -------------------------------------------------------------------------------


def test_token_limits_are_those_of_every_client_request_token_the_handlers_send() -> None:
    model = Loader().load_service_model("sagemaker", "service-2")
    for operation in ("CreatePipeline", "DeletePipeline", "StartPipelineExecution", "StopPipelineExecution"):
        shape = model["shapes"][model["operations"][operation]["input"]["shape"]]["members"]["ClientRequestToken"]["shape"]
        assert (model["shapes"][shape]["min"], model["shapes"][shape]["max"]) == (kit.MIN_TOKEN_LENGTH, kit.MAX_TOKEN_LENGTH), operation
    token = kit.idempotency_token(stack_id="s", request_id="r", purpose="create")
    assert kit.MIN_TOKEN_LENGTH <= len(token) <= kit.MAX_TOKEN_LENGTH


def test_token_is_the_digest_of_the_values_in_the_order_given() -> None:
    token = kit.idempotency_token(pipeline="smp-prod-p", schedule="daily", delivery="event-1")
    assert token == hashlib.sha256(b"smp-prod-p/daily/event-1").hexdigest()
    assert kit.idempotency_token(schedule="daily", pipeline="smp-prod-p", delivery="event-1") != token


def test_token_is_stable_across_retries_in_other_processes() -> None:
    """A retry may run in a fresh container: nothing process-specific (hash seeds, ids) may enter the token."""
    code = "import handler_kit; print(handler_kit.idempotency_token(stack_id='arn:aws:cloudformation:eu-west-1:1:stack/s/1', request_id='r-1', purpose='create'))"
    tokens = {
        subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(LAMBDA_SRC), "PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True).stdout.strip()
        for seed in ("0", "1", "random")
    }
    assert tokens == {kit.idempotency_token(stack_id="arn:aws:cloudformation:eu-west-1:1:stack/s/1", request_id="r-1", purpose="create")}


def test_tokens_differ_when_any_part_differs() -> None:
    base = {"stack_id": "arn:aws:cloudformation:eu-west-1:1:stack/s/1", "request_id": "r-1", "purpose": "create"}
    variants = [base, {**base, "request_id": "r-2"}, {**base, "purpose": "delete"}, {**base, "stack_id": "arn:aws:cloudformation:eu-west-1:1:stack/t/1"}]
    assert len({kit.idempotency_token(**parts) for parts in variants}) == len(variants)


@pytest.mark.parametrize("parts", [{}, {"request_id": ""}, {"request_id": None}, {"index": 3}])
def test_token_refuses_parts_that_cannot_tell_requests_apart(parts: dict) -> None:
    with pytest.raises(ValueError, match="idempotency token"):
        kit.idempotency_token(**parts)


# Structured logs -----------------------------------------------------------------------------------


def test_log_lines_carry_named_fields_not_json_in_the_message(caplog: pytest.LogCaptureFixture) -> None:
    logger = kit.logger_for(name="kit-test")
    with caplog.at_level(logging.INFO, logger="kit-test"):
        kit.log_action(logger=logger, action="start", pipeline="smp-prod-p", changed=("role",), when=object)
    (record,) = caplog.records
    assert record.getMessage() == "start"
    assert (record.action, record.pipeline, record.changed) == ("start", "smp-prod-p", ["role"])
    assert record.when == str(object)  # anything that is not JSON is logged as text
    json.dumps({"action": record.action, "pipeline": record.pipeline, "changed": record.changed, "when": record.when})


@pytest.mark.parametrize("field", ["message", "name", "levelname", "requestId", "timestamp"])
def test_log_fields_may_not_shadow_record_or_lambda_keys(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        kit.log_action(logger=kit.logger_for(name="kit-test"), action="x", **{field: "y"})


def test_logger_level_comes_from_log_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    assert kit.logger_for(name="kit-test-level").level == logging.WARNING
    monkeypatch.delenv("LOG_LEVEL")
    assert kit.logger_for(name="kit-test-level").level == logging.INFO


# The pipeline-name rule is a copy of the project's ------------------------------------------------

NAMES = ["a", "A1", "a-b", "a--b", "-a", "a-", "a_b", "a.b", "", "é", "a b", "1" * 256, "1" * 257, "smp-prod-parallel-shards"]


@pytest.mark.parametrize("name", NAMES)
def test_pipeline_name_rule_is_the_projects(name: str) -> None:
    assert bool(kit.PIPELINE_NAME.fullmatch(name)) == bool(PIPELINE_NAME_PATTERN.match(name))
