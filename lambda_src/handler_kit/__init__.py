"""The one skeleton of every Lambda handler here: event -> typed request -> core(clients) -> result.

Each function's code asset holds its own folder and this one (``/var/task`` is the asset root), so a
handler imports it as ``handler_kit``; standard library only, because nothing is bundled.
"""

from .logs import log_action, logger_for
from .names import PIPELINE_NAME, PIPELINE_NAME_ALLOWED
from .requests import Fields, RequestError, shown
from .tokens import MAX_TOKEN_LENGTH, MIN_TOKEN_LENGTH, idempotency_token

__all__ = [
    "MAX_TOKEN_LENGTH",
    "MIN_TOKEN_LENGTH",
    "PIPELINE_NAME",
    "PIPELINE_NAME_ALLOWED",
    "Fields",
    "RequestError",
    "idempotency_token",
    "log_action",
    "logger_for",
    "shown",
]
