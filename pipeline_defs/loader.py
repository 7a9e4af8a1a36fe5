"""Finding and importing pipeline modules, with file names that do not depend on the checkout.

Code objects are compiled with a repository-relative file name: ``@step`` functions are pickled
by value and a pickled code object carries its file name into the staged payload.
"""

from __future__ import annotations

import contextlib
import linecache
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from base.naming import pipeline_name_problem
from pipeline_defs.context import PACKAGE_ROOT
from pipeline_defs.contract import DEFAULT_MAX_PARALLEL_STEPS
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.schedules import GuardrailExemption, Schedule

PIPELINES_PACKAGE = "pipeline_defs.pipelines"
PIPELINES_DIR = PACKAGE_ROOT / "pipelines"
REPO_ROOT = PACKAGE_ROOT.parent


@dataclass(frozen=True)
class PipelineModule:
    """A loaded pipeline module and what it declares."""

    module_file: str
    module: types.ModuleType = field(repr=False)
    pipeline_name: str
    build: Callable[[Any], Any] = field(repr=False)
    schedules: tuple[Schedule, ...]
    exemptions: tuple[GuardrailExemption, ...]
    max_parallel_steps: int = DEFAULT_MAX_PARALLEL_STEPS


def module_files(directory: Path = PIPELINES_DIR) -> list[Path]:
    return sorted(p for p in directory.glob("*.py") if not p.name.startswith("_"))


def display_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return path.name


def _module_name(path: Path) -> str:
    if path.resolve().parent == PIPELINES_DIR.resolve():
        return f"{PIPELINES_PACKAGE}.{path.stem}"
    return f"pipeline_defs_external.{path.stem}"


def import_module_file(path: Path) -> types.ModuleType:
    """Execute a module file; failures name the file and the cause."""
    shown = display_path(path)
    try:
        source = path.read_bytes()
        code = compile(source, shown, "exec", dont_inherit=True)
    except (OSError, SyntaxError, ValueError) as error:
        raise PipelineDefinitionError(
            f"cannot import: {type(error).__name__}: {error}", module_file=shown
        ) from error
    # Tracebacks and build errors quote the module's lines by its shown name.
    linecache.cache[shown] = (len(source), None, source.decode("utf-8", "replace").splitlines(True), shown)
    module = types.ModuleType(_module_name(path))
    # Repository-relative too: cloudpickle ships __file__ with every by-value function.
    module.__file__ = shown
    module.__package__ = module.__name__.rpartition(".")[0]
    try:
        with registered_module(module):
            exec(code, module.__dict__)  # noqa: S102 - pipeline modules are repository code
    except Exception as error:  # noqa: BLE001 - any import failure is reported with its file
        raise PipelineDefinitionError(
            f"cannot import: {type(error).__name__}: {error}", module_file=shown
        ) from error
    return module


@contextlib.contextmanager
def registered_module(module: types.ModuleType) -> Iterator[None]:
    """Make the module importable by name while it runs (dataclasses, typing, pickling)."""
    previous = sys.modules.get(module.__name__)
    sys.modules[module.__name__] = module
    try:
        yield
    finally:
        if previous is None:
            sys.modules.pop(module.__name__, None)
        else:
            sys.modules[module.__name__] = previous


def load_pipeline_module(path: Path) -> PipelineModule:
    """Import a module and check it exposes PIPELINE_NAME, build_pipeline and optional lists."""
    shown = display_path(path)
    module = import_module_file(path)
    name = getattr(module, "PIPELINE_NAME", None)
    problem = pipeline_name_problem(name)
    if problem:
        raise PipelineDefinitionError(
            f"PIPELINE_NAME {name!r} {problem}",
            module_file=shown,
            field="PIPELINE_NAME",
        )
    build = getattr(module, "build_pipeline", None)
    if not callable(build):
        raise PipelineDefinitionError(
            "must define build_pipeline(ctx: BuildContext) -> Pipeline",
            module_file=shown,
            pipeline=name,
            field="build_pipeline",
        )
    schedules = _declared_tuple(module, "SCHEDULES", Schedule, shown, name)
    exemptions = _declared_tuple(module, "GUARDRAIL_EXEMPTIONS", GuardrailExemption, shown, name)
    return PipelineModule(
        module_file=shown,
        module=module,
        pipeline_name=name,
        build=build,
        schedules=schedules,
        exemptions=exemptions,
        max_parallel_steps=_declared_parallelism(module, shown, name),
    )


def _declared_parallelism(module: types.ModuleType, shown: str, name: str) -> int:
    """``MAX_PARALLEL_STEPS``: an integer of at least 1 (SageMaker's ``MaxParallelExecutionSteps``)."""
    value = getattr(module, "MAX_PARALLEL_STEPS", DEFAULT_MAX_PARALLEL_STEPS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PipelineDefinitionError(
            f"MAX_PARALLEL_STEPS must be an integer of at least 1 (steps of one execution running at "
            f"once; default {DEFAULT_MAX_PARALLEL_STEPS}), got {value!r}",
            module_file=shown,
            pipeline=name,
            field="MAX_PARALLEL_STEPS",
        )
    return value


def _declared_tuple(module: types.ModuleType, attribute: str, kind: type, shown: str, name: str) -> tuple:
    value = getattr(module, attribute, ())
    if not isinstance(value, (tuple, list)) or not all(isinstance(v, kind) for v in value):
        raise PipelineDefinitionError(
            f"{attribute} must be a tuple of {kind.__name__}, got {value!r}",
            module_file=shown,
            pipeline=name,
            field=attribute,
        )
    return tuple(value)


def load_pipeline_modules(paths: list[Path] | None = None) -> list[PipelineModule]:
    """Load every module; two modules with one pipeline name fail naming both files."""
    loaded = [load_pipeline_module(p) for p in (paths if paths is not None else module_files())]
    by_name: dict[str, str] = {}
    for item in loaded:
        if item.pipeline_name in by_name:
            raise PipelineDefinitionError(
                f"pipeline name {item.pipeline_name!r} is already used by {by_name[item.pipeline_name]}",
                module_file=item.module_file,
                pipeline=item.pipeline_name,
                field="PIPELINE_NAME",
            )
        by_name[item.pipeline_name] = item.module_file
    return loaded
