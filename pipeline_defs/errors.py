"""The one error type synth reports for anything wrong in a pipeline definition or module."""

from __future__ import annotations

from typing import Callable

from base.errors import UserError


class PipelineDefinitionError(UserError):
    """A pipeline module or definition is wrong; the message names module, pipeline, step, field."""

    def __init__(
        self,
        message: str,
        *,
        module_file: str | None = None,
        pipeline: str | None = None,
        step: str | None = None,
        field: str | None = None,
    ) -> None:
        self.module_file = module_file
        self.pipeline = pipeline
        self.step = step
        self.field = field
        self.reason = message
        where = [
            f"{label} {value!r}"
            for label, value in (
                ("module", module_file),
                ("pipeline", pipeline),
                ("step", step),
                ("field", field),
            )
            if value
        ]
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


DefinitionFailure = Callable[..., PipelineDefinitionError]
"""The error maker of one pipeline's checks (module and pipeline bound): ``fail(message, step=..., field=...)``."""
