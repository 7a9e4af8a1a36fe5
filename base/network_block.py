"""Blocks and records every network attempt: sockets, DNS and botocore request sending.

Synth and compile must work with no network; this proves it. Used in-process (``blocked()``) and
copied as ``sitecustomize.py`` into subprocesses (``PD_INSTALL_GUARD=1``; attempts are appended to
``PD_NETWORK_ATTEMPTS_FILE``), so it imports nothing outside the stdlib at module level.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket

ATTEMPTS: list[str] = []
_RECORD_FILE = os.environ.get("PD_NETWORK_ATTEMPTS_FILE")


class NetworkBlocked(OSError):
    pass


def _record(what: str) -> None:
    ATTEMPTS.append(what)
    if _RECORD_FILE:
        with open(_RECORD_FILE, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(what) + "\n")


def _blocked(name: str):
    def refuse(*args, **kwargs):
        _record(f"{name}{args[1:2] if name.startswith('socket.') else args[:1]}")
        raise NetworkBlocked(f"network access during an offline run: {name}")

    return refuse


def install():
    """Refuse connects, DNS lookups and botocore sends; returns a function undoing it."""
    import botocore.endpoint
    import botocore.httpsession

    replaced = [
        (socket.socket, "connect", _blocked("socket.connect")),
        (socket.socket, "connect_ex", _blocked("socket.connect_ex")),
        (socket, "create_connection", _blocked("create_connection")),
        (socket, "getaddrinfo", _blocked("getaddrinfo")),
        (botocore.httpsession.URLLib3Session, "send", _blocked("botocore.URLLib3Session.send")),
        (botocore.endpoint.Endpoint, "_send", _blocked("botocore.Endpoint._send")),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in replaced]
    for owner, name, replacement in replaced:
        setattr(owner, name, replacement)

    def uninstall() -> None:
        for owner, name, original in originals:
            setattr(owner, name, original)

    return uninstall


@contextlib.contextmanager
def blocked():
    """The network blocked for the duration of the block only (other suites share the process)."""
    uninstall = install()
    try:
        yield
    finally:
        uninstall()


def shift_clock(days: int) -> None:
    """Make time.time / time.time_ns (what the SDK's build timestamps read) report another day.

    datetime.datetime is left alone: replacing the class breaks C extensions (pandas).
    """
    import time

    offset = days * 86400.0
    real_time, real_time_ns = time.time, time.time_ns
    time.time = lambda: real_time() + offset
    time.time_ns = lambda: real_time_ns() + int(offset * 1e9)


if os.environ.get("PD_INSTALL_GUARD") == "1":
    install()
    if os.environ.get("PD_SHIFT_CLOCK_DAYS"):
        shift_clock(int(os.environ["PD_SHIFT_CLOCK_DAYS"]))
