"""The one error base and exit-code convention every command of the project follows.

A command catches :class:`UserError`, prints its message (no traceback unless ``--debug``) and exits
with the error's code, so the same mistake gives the same code under synth, compile, review, cost
report, drift and local run.
"""

from __future__ import annotations

import difflib
import enum
from typing import Iterable


class ExitCode(enum.IntEnum):
    """Exit codes shared by every command (the README's table lists them per command)."""

    OK = 0
    ATTENTION = 1
    """The command ran and found what a person must look at: a security-relevant change, drift."""
    BAD_INPUT = 2
    """Wrong input: a setting, a pipeline module, a schedule, a command-line argument, a git ref."""
    CHECK_FAILED = 3
    """A quality gate refused the result: a cdk-nag finding nobody acknowledged."""
    UNAVAILABLE = 4
    """Something the command needs is missing or refused it: Docker, AWS credentials, an AWS error."""


class UserError(Exception):
    """An error the user can fix; the message names what is wrong, where, and what is allowed."""

    exit_code: ExitCode = ExitCode.BAD_INPUT


class UnavailableError(UserError):
    """A prerequisite outside the project is missing or refused the request."""

    exit_code = ExitCode.UNAVAILABLE


def nearest_name_hint(name: object, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when ``name`` is a likely typo of one ``known`` name, else ``""``.

    Case is ignored, so ``schedules`` suggests ``SCHEDULES``; one shared wording for every typo of a
    setting, module-level name, pipeline, schedule or environment.
    """
    if not isinstance(name, str) or not name:
        return ""
    by_folded = {}
    for candidate in sorted(known):
        by_folded.setdefault(candidate.casefold(), candidate)
    match = difflib.get_close_matches(name.casefold(), list(by_folded), n=1, cutoff=0.6)
    return f" (did you mean {by_folded[match[0]]!r}?)" if match and by_folded[match[0]] != name else ""
