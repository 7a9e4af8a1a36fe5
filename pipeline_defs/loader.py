"""Finding and importing pipeline modules, with file names that do not depend on the checkout.

Code objects are compiled with a repository-relative file name: ``@step`` functions are pickled
by value and a pickled code object carries its file name into the staged payload.

The loader reads the module-level names in :data:`DECLARATION_NAMES`, and ``DATA_ACCESS`` and
``CHILD_PIPELINES``; a module that spells one of :data:`DECLARATION_NAMES` nearly (``SCHEDULE``,
``GUARDRAIL_EXEMPTION``, ``PIPELINE``, ``MAX_PARALLEL_STEP``) fails naming the nearest one, since a
misspelt optional declaration would otherwise be dropped without a word.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import linecache
import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from base.errors import nearest_name_hint
from base.naming import pipeline_name_problem
from pipeline_defs.context import PACKAGE_ROOT
from pipeline_defs.contract import DEFAULT_MAX_PARALLEL_STEPS
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.schedules import DataAccess, GuardrailExemption, Schedule

PIPELINES_PACKAGE = "pipeline_defs.pipelines"
PIPELINES_DIR = PACKAGE_ROOT / "pipelines"
REPO_ROOT = PACKAGE_ROOT.parent
HELPER_PREFIX = "_"
"""Modules in ``pipelines/`` starting with this are helpers the loader skips, not pipelines."""

REQUIRED_NAMES = ("PIPELINE_NAME", "build_pipeline")
OPTIONAL_NAMES = ("SCHEDULES", "GUARDRAIL_EXEMPTIONS", "MAX_PARALLEL_STEPS")
DECLARATION_NAMES = REQUIRED_NAMES + OPTIONAL_NAMES
"""The module-level names whose near misses the loader refuses."""
NEAR_DUPLICATE_RATIO = 0.85
"""How alike an extra name must be to a declared one to be a slip (``SCHEDULE`` beside ``SCHEDULES``)."""


@dataclass(frozen=True)
class PipelineModule:
    """A loaded pipeline module and what it declares."""

    module_file: str
    module: types.ModuleType = field(repr=False)
    pipeline_name: str
    build: Callable[[Any], Any] = field(repr=False)
    schedules: tuple[Schedule, ...]
    exemptions: tuple[GuardrailExemption, ...]
    data_access: DataAccess = DataAccess()
    child_pipelines: tuple[str, ...] = ()
    """Module names of the pipelines this one may start through the fan-out step."""
    max_parallel_steps: int = DEFAULT_MAX_PARALLEL_STEPS


def module_files(directory: Path = PIPELINES_DIR) -> list[Path]:
    return sorted(p for p in directory.glob("*.py") if not p.name.startswith(HELPER_PREFIX))


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


def _top_level_names(path: Path) -> set[str]:
    """Names a module assigns or defines at its top level (imports excluded), from its source."""
    names: set[str] = set()
    pending = list(ast.parse(path.read_bytes(), filename=path.name).body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            pending.extend(ast.iter_child_nodes(node))
        elif isinstance(node, ast.ExceptHandler):
            pending.extend(node.body)
    return names


def _misspelt_declaration(defined: set[str]) -> tuple[str, str] | None:
    """``(name, meant)`` for a module-level name that is a near miss of a declaration name.

    A near miss counts when the declaration it resembles is absent (``SCHEDULE`` or ``schedules``
    without ``SCHEDULES``, ``build_pipelines`` without ``build_pipeline``), or when an upper-case
    name is all but equal to one that is present (``SCHEDULE`` beside ``SCHEDULES``). Names compare
    with declarations of their own style (upper-case constants, lower-case functions) or equal but for case.
    """
    for name in sorted(defined - set(DECLARATION_NAMES)):
        for meant in DECLARATION_NAMES:
            alike = name.casefold() == meant.casefold() or (name.isupper() == meant.isupper() and nearest_name_hint(name, [meant]))
            if meant not in defined and alike:
                return name, meant
            if meant in defined and name.isupper() and meant.isupper() and difflib.SequenceMatcher(None, name, meant).ratio() >= NEAR_DUPLICATE_RATIO:
                return name, meant
    return None


def _check_declaration_names(path: Path, shown: str) -> None:
    """Fail on a misspelt declaration, or on a module that declares no pipeline at all (a helper)."""
    defined = _top_level_names(path)
    slip = _misspelt_declaration(defined)
    if slip is not None:
        name, meant = slip
        raise PipelineDefinitionError(
            f"module-level name {name!r} is not one the loader reads (did you mean {meant!r}?); "
            f"a pipeline module declares {', '.join(DECLARATION_NAMES)}",
            module_file=shown,
            field=name,
        )
    if not defined & set(REQUIRED_NAMES):
        raise PipelineDefinitionError(
            "defines neither PIPELINE_NAME nor build_pipeline, so it is not a pipeline module: every "
            f"module in pipeline_defs/pipelines/ is loaded as a pipeline unless its file name starts "
            f"with {HELPER_PREFIX!r}; rename a helper module to {HELPER_PREFIX + path.name!r}",
            module_file=shown,
        )


def load_pipeline_module(path: Path) -> PipelineModule:
    """Import a module and check it exposes PIPELINE_NAME, build_pipeline and optional lists."""
    shown = display_path(path)
    module = import_module_file(path)
    _check_declaration_names(path, shown)
    if not hasattr(module, "PIPELINE_NAME"):
        raise PipelineDefinitionError(
            "PIPELINE_NAME is not defined: set it to the pipeline's name (letters, digits and single hyphens)",
            module_file=shown,
            field="PIPELINE_NAME",
        )
    name = module.PIPELINE_NAME
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
    data_access = getattr(module, "DATA_ACCESS", DataAccess())
    if not isinstance(data_access, DataAccess):
        raise PipelineDefinitionError(
            f"DATA_ACCESS must be a DataAccess(read=(...), write=(...)), got {data_access!r}", module_file=shown, pipeline=name, field="DATA_ACCESS"
        )
    children = _declared_tuple(module, "CHILD_PIPELINES", str, shown, name)
    return PipelineModule(
        module_file=shown,
        module=module,
        pipeline_name=name,
        build=build,
        schedules=schedules,
        exemptions=exemptions,
        data_access=data_access,
        child_pipelines=children,
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


def _collision_key(pipeline_name: str) -> str:
    """Pipeline names the deployed resources cannot tell apart share this key (case, hyphen runs)."""
    return re.sub(r"-+", "-", pipeline_name.casefold())


def load_pipeline_modules(paths: list[Path] | None = None) -> list[PipelineModule]:
    """Load every module; two modules with one pipeline name (or file name, case aside) fail naming both files."""
    paths = list(paths if paths is not None else module_files())
    by_stem: dict[str, Path] = {}
    for path in paths:
        other = by_stem.setdefault(path.stem.casefold(), path)
        if other != path:
            raise PipelineDefinitionError(
                f"module file name {path.name!r} differs from {display_path(other)} only in letter case: "
                "case-insensitive file systems (macOS, Windows) keep only one of them; rename one",
                module_file=display_path(path),
            )
    loaded = [load_pipeline_module(p) for p in paths]
    by_name: dict[str, PipelineModule] = {}
    for item in loaded:
        other = by_name.setdefault(_collision_key(item.pipeline_name), item)
        if other is item:
            continue
        if other.pipeline_name == item.pipeline_name:
            message = f"pipeline name {item.pipeline_name!r} is already used by {other.module_file}"
        else:
            message = (
                f"pipeline name {item.pipeline_name!r} differs from {other.pipeline_name!r} ({other.module_file}) "
                "only in letter case or repeated hyphens, which pipeline names and resource ids do not "
                "tell apart; rename one"
            )
        raise PipelineDefinitionError(message, module_file=item.module_file, pipeline=item.pipeline_name, field="PIPELINE_NAME")
    return loaded
