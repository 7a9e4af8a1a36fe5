"""Who answers for a guardrail exemption and the last day it holds: one rule for modules and settings.

Every exemption names an owner and an expiry date, and synth refuses it from the day after that date
(UTC), so an opt-out is looked at again instead of lasting forever. Only that refusal depends on the
date; nothing synth writes does.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

EXPIRY_ALLOWED = "an ISO date 'YYYY-MM-DD', the last day (UTC) the exemption holds"
OWNER_ALLOWED = "the team or contact that answers for the exemption: a non-empty string on one line"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def expiry_problem(value: object) -> str | None:
    """Why ``value`` is no expiry date (``None`` when it is one)."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return f"is {value!r}: expected {EXPIRY_ALLOWED}"
    try:
        date.fromisoformat(value)
    except ValueError as error:
        return f"is {value!r}, not a date ({error}): expected {EXPIRY_ALLOWED}"
    return None


def owner_problem(value: object) -> str | None:
    """Why ``value`` names no owner (``None`` when it does)."""
    if not isinstance(value, str) or not value.strip() or "\n" in value or "\r" in value:
        return f"is {value!r}: expected {OWNER_ALLOWED}"
    return None


def has_lapsed(*, expires: str, today: date) -> bool:
    """Whether an exemption valid through ``expires`` (a checked ISO date) no longer holds on ``today``."""
    return today > date.fromisoformat(expires)


def utc_today() -> date:
    """The day synth checks expiry dates against: today in UTC, the same on every machine at one moment."""
    return datetime.now(timezone.utc).date()
