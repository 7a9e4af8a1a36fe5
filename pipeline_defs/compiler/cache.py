"""Compiled pipelines kept on disk between synths, so a synth with no pipeline change skips the SDK.

An entry holds one pipeline of one environment (``<cache dir>/<env>/<module file stem>.json``)
with the key it was compiled under: a digest of everything :mod:`~pipeline_defs.compiler.sources`
lists (module and imported pipeline modules, the rest of ``pipeline_defs/`` and ``base/``, the
interpreter, installed distributions, environment variables), the environment's
:class:`~pipeline_defs.context.BuildContext` fields and a hash of the ``@step`` signing seed (the
seed itself is never stored; the definition already publishes a public key derived from it).
An entry whose key differs, or that cannot be read, is a miss: the module is compiled and the
entry replaced atomically. Only successful compiles are stored, so every error is reported by
a real compile. Warnings a compile gave are stored and given again on every hit.

``PIPELINE_DEFS_NO_CACHE=1`` turns the cache off. Importing this module does not import the SDK;
a miss does.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import hashlib
import json
import os
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from pipeline_defs.compiler import sources
from pipeline_defs.compiler.cache_codec import decode, encode
from pipeline_defs.compiler.signing import SIGNING_SEED_ENV, signing_seed_from_environment
from pipeline_defs.compiler.sources import ModuleInputs
from pipeline_defs.context import BuildContext
from pipeline_defs.contract import CompiledPipeline, canonical_json
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.loader import PIPELINES_DIR, REPO_ROOT, display_path, load_pipeline_modules, module_files

CACHE_DISABLE_ENV = "PIPELINE_DEFS_NO_CACHE"
DEFAULT_CACHE_DIR = REPO_ROOT / ".cache" / "pipeline-defs"
ENTRY_FORMAT = 1
_SEED_DOMAIN = b"pipeline_defs/compile-cache/signing-seed/v1\0"


def cache_disabled() -> bool:
    """True when ``PIPELINE_DEFS_NO_CACHE`` is 1; unset, empty or 0 leave the cache on."""
    value = os.environ.get(CACHE_DISABLE_ENV, "")
    if value not in ("", "0", "1"):
        raise PipelineDefinitionError(
            f"environment variable {CACHE_DISABLE_ENV}={value!r} is not allowed: set it to 1 to compile "
            "without the cache, or leave it unset (or 0)"
        )
    return value == "1"


@dataclass
class CacheStats:
    """What one cached compile did, by module file: served, compiled, or compiled and never stored."""

    hits: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    uncacheable: dict[str, str] = field(default_factory=dict)


def environment_key(ctx: BuildContext, *, seed: bytes, development_only: bool) -> str:
    """The part of every key shared by an environment's modules."""
    settings = {f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx) if f.name != "session"}
    parts = {
        "format": ENTRY_FORMAT,
        "context": settings,
        "signing_seed_sha256": hashlib.sha256(_SEED_DOMAIN + seed).hexdigest(),
        "development_only_key": development_only,
        "interpreter": sources.interpreter(),
        "distributions": sources.installed_distributions(),
        "environment": sources.environment_variables(excluded=(SIGNING_SEED_ENV, CACHE_DISABLE_ENV)),
        "shared_files": sources.files_digest(sources.shared_files()),
    }
    return hashlib.sha256(canonical_json(parts).encode("utf-8")).hexdigest()


def module_key(path: Path, *, inputs: ModuleInputs, environment: str) -> str:
    """One module's key: the environment's, its name as the compiler sees it, its files."""
    parts = {
        "environment": environment,
        "module": display_path(path),
        "in_pipelines_package": path.resolve().parent == PIPELINES_DIR.resolve(),
        "files": sources.files_digest(inputs.files),
    }
    return hashlib.sha256(canonical_json(parts).encode("utf-8")).hexdigest()


def entry_path(cache_dir: Path, *, env_name: str, module_path: Path) -> Path:
    return cache_dir / env_name / f"{module_path.stem}.json"


_Recorded = tuple[str, str, str, int]
"""A warning as stored: builtin category name, message, file name and line it was reported at."""


def _recordable(caught: Sequence[warnings.WarningMessage]) -> list[_Recorded]:
    """Warnings worth giving again, in order, once each; ResourceWarning follows garbage collection."""
    recorded: list[_Recorded] = []
    for item in caught:
        category = next(c for c in item.category.__mro__ if getattr(builtins, c.__name__, None) is c)
        entry = (category.__name__, str(item.message), item.filename, item.lineno)
        if not issubclass(category, ResourceWarning) and entry not in recorded:
            recorded.append(entry)
    return recorded


def _warn_again(recorded: Sequence[_Recorded]) -> None:
    for category, message, filename, lineno in recorded:
        warnings.warn_explicit(message, getattr(builtins, category), filename, lineno)


def compile_recording_warnings(compile_one: Callable[[], CompiledPipeline]) -> tuple[CompiledPipeline, list[_Recorded]]:
    """Run one compile, keeping its warnings to store; on failure they are given at once."""
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = compile_one()
    except Exception:
        _warn_again(_recordable(caught))
        raise
    return result, _recordable(caught)


def _stored_warnings(data: object) -> list[_Recorded]:
    """Stored warnings, each checked: a tampered entry must not make a hit raise something else."""
    recorded = []
    for category, message, filename, lineno in data:  # type: ignore[union-attr]
        kind = getattr(builtins, category, None)
        if not (isinstance(kind, type) and issubclass(kind, Warning)) or not isinstance(lineno, int):
            raise ValueError(f"not a stored warning: {category!r}")
        recorded.append((category, str(message), str(filename), lineno))
    return recorded


def read_entry(path: Path, *, key: str) -> tuple[CompiledPipeline, list[_Recorded]] | None:
    """The entry's pipeline and warnings when it was stored under ``key``; None for anything else."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["format"] != ENTRY_FORMAT or data["key"] != key:
            return None
        pipeline = decode(data["pipeline"])
        recorded = _stored_warnings(data["warnings"])
    except Exception:  # noqa: BLE001 - a corrupt, foreign or unreadable entry is a miss, never a crash
        return None
    if not isinstance(pipeline, CompiledPipeline):
        return None
    return pipeline, recorded


def write_entry(path: Path, *, key: str, pipeline: CompiledPipeline, recorded: Sequence[_Recorded]) -> bool:
    """Store atomically (a reader sees the old entry or the new one); False when it cannot be stored.

    Stored only when reading it back gives the same encoding, so a hit is the compile's exact result.
    """
    try:
        encoded = encode(dataclasses.replace(pipeline, compile_seconds=0.0))
        data = {"format": ENTRY_FORMAT, "key": key, "pipeline": encoded, "warnings": [list(r) for r in recorded]}
        text = canonical_json(data)
        if canonical_json(encode(decode(json.loads(text)["pipeline"]))) != canonical_json(encoded):
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except (OSError, KeyError, TypeError, ValueError):
        return False
    return True


def _cached(path: Path, *, ctx: BuildContext, cache_dir: Path, environment: str, stats: CacheStats) -> tuple[str | None, CompiledPipeline | None]:
    """The module's key (None when it must not be stored) and its cached pipeline, if any."""
    shown = display_path(path)
    try:
        inputs = sources.module_inputs(path)
    except OSError:
        return None, None  # the loader reports a missing or unreadable module
    if inputs.uncacheable:
        stats.uncacheable[shown] = inputs.uncacheable
        return None, None
    key = module_key(path, inputs=inputs, environment=environment)
    started = time.perf_counter()
    found = read_entry(entry_path(cache_dir, env_name=ctx.env_name, module_path=path), key=key)
    if found is None:
        return key, None
    pipeline, recorded = found
    stats.hits.append(shown)
    _warn_again(recorded)
    return key, dataclasses.replace(pipeline, compile_seconds=time.perf_counter() - started)


def _compile_missed(
    missed: list[tuple[Path, str | None]],
    *,
    ctx: BuildContext,
    seed: bytes,
    development_only: bool,
    cache_dir: Path,
    known_names: list[str],
    all_paths: list[Path],
) -> list[CompiledPipeline]:
    """Compile what the cache could not serve (the SDK is imported here), storing each result."""
    from pipeline_defs.compiler import stages
    from pipeline_defs.compiler.build import job_files_snapshot

    loaded = load_pipeline_modules([path for path, _ in missed])
    names = known_names + [item.pipeline_name for item in loaded]
    if len(set(names)) != len(names):
        load_pipeline_modules(all_paths)  # raises the loader's error naming both files
    results = []
    with job_files_snapshot() as workdir:
        for (path, key), item in zip(missed, loaded):
            result, recorded = compile_recording_warnings(
                functools.partial(
                    stages.compile_module, item, ctx=ctx, signing_seed=seed, development_only_key=development_only, workdir=workdir
                )
            )
            if key is not None:
                write_entry(entry_path(cache_dir, env_name=ctx.env_name, module_path=path), key=key, pipeline=result, recorded=recorded)
            _warn_again(recorded)
            results.append(result)
    return results


def compile_environment_cached(
    ctx: BuildContext,
    *,
    cache_dir: Path | None = DEFAULT_CACHE_DIR,
    module_paths: Sequence[Path] | None = None,
    stats: CacheStats | None = None,
) -> tuple[CompiledPipeline, ...]:
    """Every pipeline module (or the given ones) for one environment, sorted by name, from the cache where it holds.

    Equal to :func:`~pipeline_defs.compiler.stages.compile_environment` of the same inputs, field
    by field and type by type. ``cache_dir=None`` or ``PIPELINE_DEFS_NO_CACHE=1`` compiles everything.
    """
    if cache_dir is None or cache_disabled():
        from pipeline_defs.compiler.stages import compile_environment

        return compile_environment(ctx, module_paths=None if module_paths is None else list(module_paths))
    stats = stats if stats is not None else CacheStats()
    seed, development_only = signing_seed_from_environment()
    paths = list(module_paths) if module_paths is not None else module_files()
    environment = environment_key(ctx, seed=seed, development_only=development_only)
    results: list[CompiledPipeline] = []
    missed: list[tuple[Path, str | None]] = []
    for path in paths:
        key, pipeline = _cached(path, ctx=ctx, cache_dir=cache_dir, environment=environment, stats=stats)
        if pipeline is None:
            missed.append((path, key))
            stats.misses.append(display_path(path))
        else:
            results.append(pipeline)
    known = [result.module_pipeline_name for result in results]
    if missed:
        results += _compile_missed(
            missed, ctx=ctx, seed=seed, development_only=development_only, cache_dir=cache_dir, known_names=known, all_paths=paths
        )
    elif len(set(known)) != len(known):
        load_pipeline_modules(paths)  # raises the loader's error naming both files
    return tuple(sorted(results, key=lambda r: r.pipeline_name))

