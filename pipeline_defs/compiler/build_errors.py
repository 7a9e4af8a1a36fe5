"""A failure while a module builds, told in the module's terms: what was raised, at which line, in which step.

The SDK defers most of its work to ``Pipeline.definition()``, so an exception there has no frame in
the pipeline module: the step it was building is then named from the traceback, a value that
cannot become JSON by where it sits in the request, and the step's own line by where the module
created it (recorded by :func:`record_creation`). Module code is compiled with its
repository-relative file name, which tells its frames from the SDK's (absolute paths).
"""

from __future__ import annotations

import linecache
import os
import sys
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Any, Iterator

_CREATED_AT = "_pipeline_defs_created_at"


def _is_module_code(filename: str) -> bool:
    return not os.path.isabs(filename) and filename.endswith(".py") and not filename.startswith("<")


def _where(filename: str, lineno: int) -> str:
    code = linecache.getline(filename, lineno).strip()
    return f"{filename}:{lineno}" + (f": {code}" if code else "")


def record_creation(step: Any) -> None:
    """Remember the module line that created ``step`` (called from the SDK's ``Step.__init__``)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and not _is_module_code(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is not None and _CREATED_AT not in vars(step):
        vars(step)[_CREATED_AT] = (frame.f_code.co_filename, frame.f_lineno)


def _frames(error: BaseException) -> Iterator[tuple[FrameType, int]]:
    tb: TracebackType | None = error.__traceback__
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next


def _module_line(error: BaseException) -> str | None:
    lines = [(frame.f_code.co_filename, lineno) for frame, lineno in _frames(error) if _is_module_code(frame.f_code.co_filename)]
    return _where(*lines[-1]) if lines else None


def _failing_step(error: BaseException) -> Any:
    """The innermost SDK step whose method was running when ``error`` was raised."""
    from sagemaker.mlops.workflow.steps import Step

    steps = [frame.f_locals.get("self") for frame, _ in _frames(error)]
    steps = [step for step in steps if isinstance(step, Step)]
    return steps[-1] if steps else None


def _first_unserializable(value: Any, path: str = "") -> tuple[str, Any] | None:
    if isinstance(value, dict):
        for key, child in value.items():
            found = _first_unserializable(child, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for index, child in enumerate(value):
            found = _first_unserializable(child, f"{path}[{index}]")
            if found:
                return found
    elif not isinstance(value, (str, int, float, bool, type(None))):
        return path, value
    return None


def _unserializable_field(error: BaseException) -> tuple[str | None, str, str] | None:
    """(step, field, type name) of the first value of the definition that is not JSON."""
    if not (isinstance(error, TypeError) and "is not JSON serializable" in str(error)):
        return None
    for frame, _ in _frames(error):
        request = frame.f_locals.get("request_dict") if frame.f_code.co_name == "definition" else None
        if not isinstance(request, dict):
            continue
        for step in request.get("Steps") or []:
            found = _first_unserializable(step)
            if found:
                return step.get("Name"), found[0], type(found[1]).__name__
    return None


def _sdk_steps(steps: Any) -> Iterator[Any]:
    """Every SDK step object under ``steps``: condition branches, ForEach bodies and collections included."""
    for step in steps or []:
        yield step
        for attribute in ("if_steps", "else_steps", "for_each_body", "steps"):
            yield from _sdk_steps(getattr(step, attribute, None))


@dataclass(frozen=True)
class BuildFailure:
    """What a failure becomes: the message, and the step and field when known."""

    message: str
    step: str | None = None
    field: str | None = None
    where: str | None = None


def explain(error: BaseException, *, stage: str, steps: Any = ()) -> BuildFailure:
    """``<stage> raised <Type>: <message>``, at the module's line, naming the step and field it can.

    ``steps`` are the pipeline's SDK steps, when it was built: a failure inside one of them points
    at the line that created it.
    """
    text = f"{stage} raised {type(error).__name__}: {error}"
    step, field = None, None
    unserializable = _unserializable_field(error)
    if unserializable:
        step, field, kind = unserializable
        text += (
            f"; the SDK left a {kind} object where the API takes plain data (an SDK defect: pin it in "
            "pipeline_defs/compiler/sdk_step_pins.py)"
        )
    failing = _failing_step(error)
    if failing is not None and step is None:
        step = getattr(failing, "name", None)
    line = _module_line(error)
    where = f"at {line}" if line else None
    if where is None and step is not None:
        created = [vars(s).get(_CREATED_AT) for s in _sdk_steps(steps) if getattr(s, "name", None) == step]
        if created and created[0]:
            where = f"step {step!r} created at {_where(*created[0])}"
    return BuildFailure(message=text + (f"; {where}" if where else ""), step=step, field=field, where=where)
