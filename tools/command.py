"""What every command shares, so a mistake gives the same message shape and exit code everywhere.

Each command parses with :class:`CommandParser` and runs through :func:`run`: a
:class:`~base.errors.UserError` becomes one ``error: ...`` line on stderr (the traceback only with
``--debug``) and the error's :class:`~base.errors.ExitCode`.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

from base.config import DEFAULT_ENVIRONMENT, PROJECT_ROOT, EnvironmentConfig, project_environments
from base.errors import UserError


class UsageError(UserError):
    """A command-line argument that cannot be used; the message names it and what is allowed."""


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose mistakes follow the convention (``UsageError``, exit code 2) and that takes ``--debug``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_argument("--debug", action="store_true", help="print the traceback of an error")

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def add_environment_arguments(parser: argparse.ArgumentParser, *, env_required: bool) -> None:
    """``--env`` and ``--root``: which environment of which project's ``cdk.json``."""
    if env_required:
        parser.add_argument("--env", required=True, help="environment name from cdk.json")
    else:
        parser.add_argument("--env", default=DEFAULT_ENVIRONMENT, help=f"environment name from cdk.json (default {DEFAULT_ENVIRONMENT})")
    parser.add_argument(
        "--root", type=Path, default=PROJECT_ROOT, help="project directory whose cdk.json names the environments (default: this checkout)"
    )


def environment_settings(*, root: Path, name: str) -> EnvironmentConfig:
    """One environment's validated settings, read through ``base.config`` (the one ``cdk.json`` reader)."""
    if not (root / "cdk.json").is_file():
        raise UsageError(f"--root {root} has no cdk.json: expected the project directory, e.g. {PROJECT_ROOT}")
    environments = project_environments(root=root)
    if name not in environments:
        raise UsageError(f"--env {name!r} is not an environment of {root / 'cdk.json'}: expected one of {sorted(environments)}")
    return environments[name]


def run(*, parser: CommandParser, argv: Sequence[str] | None, command: Callable[[argparse.Namespace], int]) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``) and run ``command``; a UserError becomes its message and exit code."""
    args: argparse.Namespace | None = None
    try:
        args = parser.parse_args(argv)
        return int(command(args))
    except UserError as error:
        if args is not None and args.debug:
            traceback.print_exc()
        print(f"error: {error}", file=sys.stderr)
        return int(error.exit_code)
