"""Idempotency tokens: one derivation for every ``ClientRequestToken`` the handlers send."""

from __future__ import annotations

import hashlib

# SageMaker's IdempotencyToken shape (ClientRequestToken of CreatePipeline, DeletePipeline,
# StartPipelineExecution, StopPipelineExecution in the botocore service model): 32 to 128 characters.
MIN_TOKEN_LENGTH = 32
MAX_TOKEN_LENGTH = 128


def idempotency_token(**parts: str) -> str:
    """SHA-256 hex (64 characters) of the named parts' values joined by ``/``, in the order given.

    The parts must name one logical request: a retry passes the same values and gets the same token,
    so SageMaker acts once; another request differs in some value. The names say what a token is
    derived from; only the values are hashed, so tokens keep the values earlier releases sent.
    """
    if not parts:
        raise ValueError("an idempotency token needs at least one part")
    for name, value in parts.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"idempotency token part {name!r} is {value!r}: expected a non-empty string, or requests could share a token")
    token = hashlib.sha256("/".join(parts.values()).encode("utf-8")).hexdigest()
    assert MIN_TOKEN_LENGTH <= len(token) <= MAX_TOKEN_LENGTH
    return token
