"""Inject service errors in front of moto, at botocore's ``before-call`` hook.

A ``before-call`` handler that answers short-circuits the request, so the backend (moto) never sees
a throttled call; ``before-send`` would not do, because botocore calls every handler of that event.
"""

from __future__ import annotations

import random
import threading
from typing import Any


class Throttler:
    """Answers a fraction of one operation's calls with ThrottlingException (seeded, thread-safe)."""

    def __init__(self, client: Any, *, operation: str, rate: float, seed: int = 7) -> None:
        self.rate = rate
        self.throttled = 0
        self.passed = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        service = client.meta.service_model.service_id.hyphenize()
        self._client = client
        self._event = f"before-call.{service}.{operation}"
        client.meta.events.register_first(self._event, self._maybe_throttle)

    def remove(self) -> None:
        self._client.meta.events.unregister(self._event, self._maybe_throttle)

    def _maybe_throttle(self, **_: Any) -> Any:
        with self._lock:
            if self._random.random() >= self.rate:
                self.passed += 1
                return None
            self.throttled += 1
        http = type("Http", (), {"status_code": 400, "headers": {}})()
        return http, {
            "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
