"""The exact message each reader of the handler kit gives for a missing or malformed field, how a bad
value appears in it (its JSON type, then the value, at most 120 characters), log field values as
JSON types, and the named logger each handler writes to."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from support.lambdas import load_kit

kit = load_kit()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("x", "'x'"),
        ("", "''"),
        (True, "a boolean True"),
        (False, "a boolean False"),
        (None, "null"),
        ({"a": 1}, "an object {'a': 1}"),
        ([1], "a list [1]"),
        (3, "a number 3"),
        (1.5, "a number 1.5"),
        ({1}, "a set {1}"),
        (b"x", "a bytes b'x'"),
    ],
)
def test_each_kind_of_value_is_shown_with_its_type(value: Any, text: str) -> None:
    assert kit.shown(value) == text


def test_a_shown_value_is_at_most_120_characters() -> None:
    assert kit.shown("x" * 118) == "'" + "x" * 118 + "'"  # 120 characters: kept whole
    assert kit.shown("x" * 119) == "'" + "x" * 116 + "..."  # 121: cut to 117 and marked
    assert len(kit.shown(list(range(100)))) == 120


def test_each_handler_logs_under_its_own_name() -> None:
    logger = kit.logger_for(name="kit-own-name")
    assert logger is logging.getLogger("kit-own-name")
    assert logger.name == "kit-own-name"


def _message(read: Any) -> str:
    with pytest.raises(kit.RequestError) as caught:
        read()
    return str(caught.value)


FIELDS = kit.Fields.of(event={"n": "x", "zero": 0, "one": 1, "ten": 10, "text": 5, "empty": "", "list": [1], "obj": {"a": 1}, "bad": "{", "pairs": "k=v"})


@pytest.mark.parametrize(
    ("read", "message"),
    [
        (lambda: FIELDS.integer(key="missing"), "field 'missing' is missing; allowed: an integer, as a number or a decimal string"),
        (lambda: FIELDS.integer(key="n"), "field 'n' is 'x'; allowed: an integer, as a number or a decimal string"),
        (lambda: FIELDS.integer(key="zero", minimum=1), "field 'zero' is a number 0; allowed: an integer (at least 1), as a number or a decimal string"),
        (lambda: FIELDS.integer(key="ten", maximum=9), "field 'ten' is a number 10; allowed: an integer (at most 9), as a number or a decimal string"),
        (lambda: FIELDS.text(key="missing"), "field 'missing' is missing; allowed: a non-empty string"),
        (lambda: FIELDS.text(key="text"), "field 'text' is a number 5; allowed: a non-empty string"),
        (lambda: FIELDS.text(key="empty"), "field 'empty' is ''; allowed: a non-empty string"),
        (lambda: FIELDS.text(key="text", default=None), "field 'text' is a number 5; allowed: a string"),
        (lambda: FIELDS.text(key="n", pattern=re.compile(r"[0-9]+"), allowed="digits"), "field 'n' is 'x'; allowed: digits"),
        (lambda: FIELDS.json_value(key="missing", kind=list, allowed="a list"), "field 'missing' is missing; allowed: a list"),
        (lambda: FIELDS.json_value(key="obj", kind=list, allowed="a list"), "field 'obj' is an object {'a': 1}; allowed: a list"),
        (lambda: FIELDS.json_value(key="bad", kind=list, allowed="a list"), "field 'bad' is not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1)); allowed: a list"),
        (lambda: FIELDS.object(key="missing"), "field 'missing' is missing; allowed: a JSON object"),
        (lambda: FIELDS.object(key="list", allowed="the properties"), "field 'list' is a list [1]; allowed: the properties"),
        (lambda: FIELDS.pairs(key="missing", names=("Key", "Value")), "field 'missing' is missing; allowed: a list of {Key, Value} objects"),
        (lambda: FIELDS.pairs(key="pairs", names=("Key", "Value")), "field 'pairs' is 'k=v'; allowed: a list of {Key, Value} objects"),
        (lambda: FIELDS.pairs(key="obj", names=("Name", "Value"), default=()), "field 'obj' is an object {'a': 1}; allowed: a list of {Name, Value} objects"),
    ],
)
def test_each_reader_names_the_field_the_value_and_what_is_allowed(read: Any, message: str) -> None:
    assert _message(read) == message


def test_integer_bounds_are_inclusive() -> None:
    assert FIELDS.integer(key="one", minimum=1, maximum=1) == 1
    assert FIELDS.integer(key="ten", minimum=10, maximum=10) == 10


def test_a_token_without_parts_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError) as caught:
        kit.idempotency_token()
    assert str(caught.value) == "an idempotency token needs at least one part"


def test_log_fields_become_json_types_all_the_way_down(caplog: pytest.LogCaptureFixture) -> None:
    logger = kit.logger_for(name="kit-json")
    with caplog.at_level(logging.INFO, logger="kit-json"):
        kit.log_action(logger=logger, action="x", none=None, flag=True, ratio=0.5, count=3, nested={1: {"a": (1, object)}, "b": None})
    (record,) = caplog.records
    assert (record.none, record.flag, record.ratio, record.count) == (None, True, 0.5, 3)
    assert record.nested == {"1": {"a": [1, str(object)]}, "b": None}
