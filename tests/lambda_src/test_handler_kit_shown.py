"""How a bad value appears in a handler's error message (its JSON type, then the value), the length
bound on it, and the named logger each handler writes to."""

from __future__ import annotations

import logging
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
