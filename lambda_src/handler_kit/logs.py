"""Structured logs: named fields on the log record, never JSON text inside the message.

The functions run with Lambda's JSON log format, whose formatter writes every extra attribute of a
record as a top-level key next to ``message``, so ``action``, ``pipeline`` and the like can be
queried in CloudWatch Logs Insights as fields.
"""

from __future__ import annotations

import logging
import os
from typing import Any

# Attributes every LogRecord has, and the keys Lambda's JSON formatter writes itself: a field with
# one of these names would be refused by ``logging`` or silently dropped from the log line.
RESERVED_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "timestamp",
    "level",
    "logger",
    "requestId",
    "tenantId",
    "location",
    "stackTrace",
    "errorType",
    "errorMessage",
}


def logger_for(*, name: str) -> logging.Logger:
    """The handler's logger, at ``LOG_LEVEL`` (default INFO) whatever level the runtime gave the root."""
    logger = logging.getLogger(name)
    logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
    return logger


def _json_safe(value: Any) -> Any:
    """The value as JSON types: the runtime's formatter cannot encode anything else and would drop the line."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return str(value)


def log_action(*, logger: logging.Logger, action: str, level: int = logging.INFO, **fields: Any) -> None:
    """One log line: ``action`` as the message and as a field, each keyword argument as a field."""
    clashing = sorted(RESERVED_FIELDS.intersection(fields))
    if clashing:
        raise ValueError(f"log fields {clashing} clash with names the log record or Lambda's JSON format already use")
    logger.log(level, action, extra={"action": action, **{name: _json_safe(value) for name, value in fields.items()}})
