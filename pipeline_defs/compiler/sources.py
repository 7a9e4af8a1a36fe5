"""What a compiled pipeline can depend on besides its environment's settings: files, imports, versions.

The compile cache (:mod:`~pipeline_defs.compiler.cache`) keys every entry by these; whatever is
left out could serve a stale pipeline, so the sets are wide and only one is narrowed, with proof:

- every file of ``pipeline_defs/`` (compiler, validation, helpers, ``jobs/``, the schema) and of
  ``base/``, the only packages a pipeline module may import (the layering contract), except the
  pipeline modules themselves;
- per module: its own source and the pipeline modules it imports, found by reading its imports
  (and theirs). A module whose dependencies reading cannot settle (dynamic imports, ``exec``,
  repository code outside those two packages, a file beside a module outside the package) is
  never cached;
- the interpreter and every installed distribution (name and version, from the ``*.dist-info``
  names on ``sys.path``), and the environment variables a compile may read.

Pure Python and cheap: nothing here imports the SDK.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import base
from pipeline_defs.context import PACKAGE_ROOT
from pipeline_defs.loader import PIPELINES_DIR, PIPELINES_PACKAGE, REPO_ROOT, display_path, module_files

IGNORED_FILE_PATTERNS = ("__pycache__", "*.pyc", ".*")
"""Files no compile reads: bytecode and dotfiles (the job-file snapshot leaves them out too)."""

SHARED_SOURCE_ROOTS = (PACKAGE_ROOT, Path(base.__file__).resolve().parent)
"""The packages a pipeline module may import (``pyproject.toml``'s layers), keyed as a whole."""

DYNAMIC_IMPORT_NAMES = frozenset({"__import__", "importlib", "import_module", "runpy", "imp", "exec", "eval"})
"""Names through which a module could load code that reading its imports does not show."""
DYNAMIC_IMPORT_ATTRIBUTES = frozenset({"__import__", "import_module", "exec"})
"""The same as attributes (``builtins.exec``); ``eval`` is left out: ``model.eval()`` is common."""

ENVIRONMENT_VARIABLE_PREFIXES = ("PIPELINE_DEFS_", "SAGEMAKER_")
ENVIRONMENT_VARIABLES = ("AWS_DEFAULT_REGION", "AWS_REGION")


def is_ignored(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in IGNORED_FILE_PATTERNS)


def tree_files(root: Path) -> list[Path]:
    """Every file under ``root`` a compile may read, sorted, ignored names left out."""
    found = []
    for directory, directories, files in os.walk(root):
        directories[:] = sorted(d for d in directories if not is_ignored(d))
        found.extend(Path(directory, name) for name in sorted(files) if not is_ignored(name))
    return found


def _file_digest(path: Path) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


def files_digest(paths: Iterable[Path]) -> str:
    """One digest of files by their repository-relative names and contents."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(display_path(path).encode("utf-8") + b"\0" + _file_digest(path))
    return digest.hexdigest()


@dataclass(frozen=True)
class ModuleInputs:
    """The pipeline-module files one module's compile reads, or why that cannot be known."""

    files: frozenset[Path]
    uncacheable: str | None = None


def _pipeline_module_file(name: str) -> Path | None:
    """``pipeline_defs.pipelines.<name>`` as a pipeline module file, None for anything else."""
    parts = name.split(".")
    if parts[:2] != PIPELINES_PACKAGE.split(".") or len(parts) < 3 or parts[2].startswith("_"):
        return None
    path = PIPELINES_DIR / f"{parts[2]}.py"
    return path.resolve() if path.is_file() else None


def _package_of(path: Path) -> str | None:
    """The package a repository file belongs to (for relative imports), None outside the repository."""
    try:
        return ".".join(path.parent.relative_to(REPO_ROOT.resolve()).parts) or None
    except ValueError:
        return None


def _imported_names(tree: ast.AST, *, package: str | None) -> tuple[list[str], str | None]:
    """Absolute names a module's imports may load, and why reading them may not be enough."""
    names, reason = [], None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in DYNAMIC_IMPORT_NAMES:
            reason = reason or f"uses {node.id}"
        elif isinstance(node, ast.Attribute) and node.attr in DYNAMIC_IMPORT_ATTRIBUTES:
            reason = reason or f"uses {node.attr}"
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
            dynamic = [alias.name for alias in node.names if alias.name.split(".")[0] in DYNAMIC_IMPORT_NAMES]
            reason = reason or (f"imports {dynamic[0]}" if dynamic else None)
        elif isinstance(node, ast.ImportFrom) and node.level and package is None:
            reason = reason or "has a relative import outside the repository's packages"
        elif isinstance(node, ast.ImportFrom):
            if not node.level and (node.module or "").split(".")[0] in DYNAMIC_IMPORT_NAMES:
                reason = reason or f"imports {node.module}"
            parts = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(parts + ([node.module] if node.module else []))
            names.append(module)
            names.extend(f"{module}.{alias.name}" for alias in node.names)
    return names, reason


def _outside_reason(name: str, *, module_dir: Path) -> str | None:
    """Why importing ``name`` reads code no key covers: repository code outside the shared packages."""
    top = name.split(".")[0]
    if top in {root.name for root in SHARED_SOURCE_ROOTS}:
        return None
    if (REPO_ROOT / top).exists() or (REPO_ROOT / f"{top}.py").exists():
        return f"imports {top}, outside pipeline_defs/ and base/"
    if module_dir != PIPELINES_DIR.resolve() and ((module_dir / f"{top}.py").exists() or (module_dir / top).is_dir()):
        return f"imports {top} from beside the module"
    return None


@functools.lru_cache(maxsize=4096)
def _direct_inputs(path: Path, source: bytes) -> ModuleInputs:
    """The pipeline modules one file imports directly, and why that may not be all (cached by its bytes)."""
    try:
        tree = ast.parse(source, filename=str(path))
    except (SyntaxError, ValueError) as error:
        return ModuleInputs(frozenset(), uncacheable=f"cannot be parsed: {error}")
    names, reason = _imported_names(tree, package=_package_of(path))
    for name in names:
        reason = reason or _outside_reason(name, module_dir=path.parent)
    found = {file for file in map(_pipeline_module_file, names) if file is not None}
    return ModuleInputs(frozenset(found), uncacheable=reason)


def module_inputs(path: Path) -> ModuleInputs:
    """The module and every pipeline module it imports, transitively; uncacheable when unknowable."""
    pending, seen = [path.resolve()], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        direct = _direct_inputs(current, current.read_bytes())
        if direct.uncacheable:
            return ModuleInputs(frozenset(seen), uncacheable=f"{display_path(current)} {direct.uncacheable}")
        pending.extend(direct.files - seen)
    return ModuleInputs(frozenset(seen))


def shared_files() -> list[Path]:
    """Every file of the shared packages, pipeline modules only where shared code imports them."""
    pipeline_modules = {path.resolve() for path in module_files()}
    files = [path.resolve() for root in SHARED_SOURCE_ROOTS for path in tree_files(root)]
    imported: set[Path] = set()
    for path in files:
        if path.suffix == ".py" and path not in pipeline_modules:
            source = path.read_bytes()
            if path.parent == PIPELINES_DIR.resolve() or b"pipelines" in source:
                imported |= _direct_inputs(path, source).files
    return [path for path in files if path not in pipeline_modules or path in imported]


@functools.lru_cache(maxsize=1)
def installed_distributions() -> tuple[str, ...]:
    """``name-version`` of every distribution on ``sys.path`` (its metadata directory names)."""
    found = set()
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        found.update(name for name in names if name.endswith((".dist-info", ".egg-info")))
    return tuple(sorted(found))


def interpreter() -> str:
    """The Python that compiles: pickled ``@step`` code and the SDK's output depend on it."""
    version = ".".join(map(str, sys.version_info[:3]))
    return f"{sys.implementation.name} {version} {sys.platform}"


def environment_variables(*, excluded: Iterable[str]) -> list[tuple[str, str]]:
    """Variables a compile may read, with the digest of a file one names (e.g. a schema path)."""
    skipped = set(excluded)
    found = []
    for name in sorted(os.environ):
        if name in skipped or not (name.startswith(ENVIRONMENT_VARIABLE_PREFIXES) or name in ENVIRONMENT_VARIABLES):
            continue
        value = os.environ[name]
        path = Path(value)
        contents = _file_digest(path).hex() if value and path.is_file() else ""
        found.append((name, f"{value}\0{contents}"))
    return found
