"""The compile cache: a hit is the compile's exact result, every key part forces a recompile, bad entries are misses.

Modules are copies of the examples in a temporary directory and the cache lives there too; a
compile is counted by wrapping ``stages.compile_module`` (what a miss runs), so each test asserts
what the cache served and what it compiled.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from conftest import REPO_ROOT, TEST_SIGNING_SEED

PIPELINES = REPO_ROOT / "pipeline_defs" / "pipelines"


def _copy(directory: Path, example: str, *, suffix: str = "", extra: str = "") -> Path:
    """An example module under a new name (``<example><suffix>.py``), with ``extra`` appended."""
    source = (PIPELINES / f"{example}.py").read_text(encoding="utf-8")
    source = re.sub(r'^PIPELINE_NAME = "([a-z-]+)"', rf'PIPELINE_NAME = "\1{suffix.replace("_", "-")}"', source, flags=re.M)
    path = directory / f"{example}{suffix}.py"
    path.write_text(source + extra, encoding="utf-8")
    return path


@pytest.fixture
def compiles(monkeypatch):
    """Names of the pipeline modules compiled (cache misses), in order."""
    from pipeline_defs.compiler import stages

    seen: list[str] = []
    original = stages.compile_module

    def counting(item, **kwargs):
        seen.append(item.pipeline_name)
        return original(item, **kwargs)

    monkeypatch.setattr(stages, "compile_module", counting)
    return seen


@pytest.fixture
def cache(tmp_path, monkeypatch, sandbox_context):
    """``compile(paths, ctx=...)`` through the cache in ``tmp_path/cache``, the tests' signing seed set."""
    from pipeline_defs.compiler.cache import CacheStats, compile_environment_cached

    monkeypatch.setenv("PIPELINE_DEFS_SIGNING_SEED", TEST_SIGNING_SEED)
    monkeypatch.delenv("PIPELINE_DEFS_NO_CACHE", raising=False)
    directory = tmp_path / "cache"

    def compile_(paths, *, ctx=sandbox_context, stats=None):
        return compile_environment_cached(ctx, cache_dir=directory, module_paths=paths, stats=stats or CacheStats())

    compile_.directory = directory
    return compile_


@pytest.fixture
def modules(tmp_path):
    directory = tmp_path / "modules"
    directory.mkdir()
    return directory


def _fields(result) -> dict:
    return {f.name: getattr(result, f.name) for f in dataclasses.fields(result) if f.compare}


def assert_identical(first, second) -> None:
    """Equal field by field and of the same types (a hit must render exactly what a compile renders)."""
    from pipeline_defs.compiler.cache_codec import encode
    from pipeline_defs.contract import canonical_json

    assert len(first) == len(second)
    for a, b in zip(first, second):
        assert _fields(a) == _fields(b)
        assert canonical_json(encode(dataclasses.replace(a, compile_seconds=0.0))) == canonical_json(
            encode(dataclasses.replace(b, compile_seconds=0.0))
        )


def test_every_example_from_the_cache_is_what_the_compiler_gives(cache, compiled, compiles, tmp_path):
    """Cold and warm, all five examples equal the uncached session compile, and write the same bytes."""
    from pipeline_defs.compiler import write_outputs
    from pipeline_defs.loader import module_files

    uncached = tuple(sorted(compiled.values(), key=lambda r: r.pipeline_name))
    cold = cache(module_files())
    assert len(compiles) == len(uncached)
    warm = cache(module_files())
    assert len(compiles) == len(uncached)
    assert_identical(cold, uncached)
    assert_identical(warm, uncached)
    for name, results in (("uncached", uncached), ("warm", warm)):
        write_outputs(results, out_dir=tmp_path / name)
    written = sorted(p.relative_to(tmp_path / "uncached") for p in (tmp_path / "uncached").rglob("*") if p.is_file())
    assert written and written == sorted(p.relative_to(tmp_path / "warm") for p in (tmp_path / "warm").rglob("*") if p.is_file())
    assert all((tmp_path / "uncached" / p).read_bytes() == (tmp_path / "warm" / p).read_bytes() for p in written)


def test_one_file_per_pipeline_per_environment_and_no_seed_in_it(cache, modules, sandbox_context):
    paths = [_copy(modules, "fan_out_parent"), _copy(modules, "batch_inference")]
    cache(paths)
    cache(paths, ctx=dataclasses.replace(sandbox_context, env_name="other", name_prefix="other"))
    entries = sorted(p.relative_to(cache.directory).as_posix() for p in cache.directory.rglob("*") if p.is_file())
    assert entries == ["other/batch_inference.json", "other/fan_out_parent.json", "sandbox/batch_inference.json", "sandbox/fan_out_parent.json"]
    for entry in cache.directory.rglob("*.json"):
        assert TEST_SIGNING_SEED.encode() not in entry.read_bytes()


def test_an_unchanged_module_is_served_and_a_changed_one_recompiled(cache, modules, compiles):
    first = _copy(modules, "fan_out_parent")
    second = _copy(modules, "parallel_shards")
    cache([first, second])
    assert compiles == ["fan-out-parent", "parallel-shards"]
    cache([first, second])
    assert len(compiles) == 2
    first.write_text(first.read_text() + "\n# a comment changes the source\n")
    cache([first, second])
    assert compiles[2:] == ["fan-out-parent"]


def test_an_imported_pipeline_module_is_part_of_the_key(tmp_path, monkeypatch):
    from pipeline_defs.compiler import sources

    package = (tmp_path / "pipeline_defs" / "pipelines").resolve()
    package.mkdir(parents=True)
    (package / "child.py").write_text('PIPELINE_NAME = "child"\n')
    (package / "_helpers.py").write_text("VALUE = 1\n")
    (package / "parent.py").write_text("from pipeline_defs.pipelines.child import PIPELINE_NAME as CHILD\nfrom . import _helpers\n")
    (package / "relative.py").write_text("from .child import PIPELINE_NAME\n")
    (package / "alone.py").write_text("import json\n")
    monkeypatch.setattr(sources, "PIPELINES_DIR", package)
    monkeypatch.setattr(sources, "REPO_ROOT", tmp_path.resolve())
    assert sources.module_inputs(package / "parent.py").files == {package / "parent.py", package / "child.py"}
    assert sources.module_inputs(package / "relative.py").files == {package / "relative.py", package / "child.py"}
    assert sources.module_inputs(package / "alone.py").files == {package / "alone.py"}
    before = sources.files_digest(sources.module_inputs(package / "parent.py").files)
    (package / "child.py").write_text('PIPELINE_NAME = "child"\nSCHEDULES = ()\n')
    assert sources.files_digest(sources.module_inputs(package / "parent.py").files) != before


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("import importlib\n", "imports importlib"),
        ("importlib.import_module('pipeline_defs.pipelines.batch_inference')\n", "uses import_module"),
        ("X = __import__('pipeline_defs.pipelines.batch_inference')\n", "uses __import__"),
        ("exec('import os')\n", "uses exec"),
        ("from planning.plan import plan_environment\n", "imports planning, outside pipeline_defs/ and base/"),
        ("from neighbour import THING\n", "imports neighbour from beside the module"),
    ],
    ids=["import importlib", "import_module", "__import__", "exec", "planning", "beside"],
)
def test_a_module_whose_inputs_reading_cannot_settle_is_never_stored(cache, modules, compiles, source, reason):
    from pipeline_defs.compiler.cache import CacheStats

    (modules / "neighbour.py").write_text("THING = 1\n")
    path = _copy(modules, "fan_out_parent", extra=f"\nif False:\n    {source.strip()}\n")
    stats = CacheStats()
    cache([path], stats=stats)
    cache([path], stats=stats)
    assert len(compiles) == 2
    assert stats.uncacheable == {path.name: f"{path.name} {reason}"}
    assert not list(cache.directory.rglob("*.json"))


def test_shared_files_cover_the_compiler_validation_jobs_schema_helpers_and_base():
    from pipeline_defs.compiler import sources
    from pipeline_defs.loader import module_files

    shared = set(sources.shared_files())
    expected = {
        p.resolve()
        for root in (REPO_ROOT / "pipeline_defs", REPO_ROOT / "base")
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc") and not p.name.startswith(".")
    }
    pipeline_modules = {p.resolve() for p in module_files()}
    assert shared == expected - pipeline_modules
    assert {p.parent.name for p in shared} >= {"compiler", "validation", "jobs", "schema", "pipelines", "base", "pipeline_defs"}


def test_a_change_to_a_shared_file_recompiles_every_module(cache, modules, compiles, tmp_path, monkeypatch):
    """What stands for a change in the compiler, validation, a helper, a job file or base/ (all shared files)."""
    from pipeline_defs.compiler import sources

    extra_root = tmp_path / "shared"
    extra_root.mkdir()
    (extra_root / "job.py").write_text("print('v1')\n")
    monkeypatch.setattr(sources, "SHARED_SOURCE_ROOTS", (*sources.SHARED_SOURCE_ROOTS, extra_root))
    paths = [_copy(modules, "fan_out_parent"), _copy(modules, "lambda_data_passing")]
    cache(paths)
    cache(paths)
    assert len(compiles) == 2
    (extra_root / "job.py").write_text("print('v2')\n")
    cache(paths)
    assert len(compiles) == 4


@pytest.mark.parametrize("part", ["interpreter", "installed_distributions"])
def test_another_python_or_library_version_recompiles(cache, modules, compiles, monkeypatch, part):
    from pipeline_defs.compiler import sources

    path = _copy(modules, "fan_out_parent")
    cache([path])
    original = getattr(sources, part)
    changed = {"interpreter": lambda: original() + " (another build)", "installed_distributions": lambda: (*original(), "sagemaker-3.28.0.dist-info")}
    monkeypatch.setattr(sources, part, changed[part])
    cache([path])
    assert len(compiles) == 2


def test_versions_in_the_key_name_the_sdk_and_libraries_and_python():
    from pipeline_defs.compiler import sources

    installed = sources.installed_distributions()
    for distribution in ("sagemaker-3.27.0", "sagemaker_core-2.27.0", "sagemaker_mlops-1.27.0", "boto3-", "botocore-", "cloudpickle-"):
        assert any(name.lower().startswith(distribution) for name in installed), distribution
    assert f" {sys.version_info.major}.{sys.version_info.minor}." in sources.interpreter()


def test_every_environment_setting_is_part_of_the_key(sandbox_context):
    """Each ``BuildContext`` field (a new one included) changes the key; the session is not a setting."""
    from pipeline_defs.compiler.cache import environment_key

    base = environment_key(sandbox_context, seed=b"s", development_only=False)
    changed = {bool: lambda v: not v, str: lambda v: v + "x", tuple: lambda v: (*v, "x")}
    for field in dataclasses.fields(sandbox_context):
        value = getattr(sandbox_context, field.name)
        if field.name == "session":
            assert environment_key(dataclasses.replace(sandbox_context, session=object()), seed=b"s", development_only=False) == base
            continue
        new = "x" if value is None else changed[type(value)](value)
        assert environment_key(dataclasses.replace(sandbox_context, **{field.name: new}), seed=b"s", development_only=False) != base, field.name
    assert environment_key(sandbox_context, seed=b"t", development_only=False) != base
    assert environment_key(sandbox_context, seed=b"s", development_only=True) != base


def test_another_environment_setting_recompiles(cache, modules, compiles, sandbox_context):
    path = _copy(modules, "parallel_shards")
    (first,) = cache([path])
    (second,) = cache([path], ctx=dataclasses.replace(sandbox_context, cost_tag_value="another-team"))
    assert len(compiles) == 2 and first.definition != second.definition


def test_another_signing_seed_recompiles(cache, modules, compiles, monkeypatch):
    path = _copy(modules, "batch_inference")
    (first,) = cache([path])
    monkeypatch.setenv("PIPELINE_DEFS_SIGNING_SEED", TEST_SIGNING_SEED + " rotated")
    (second,) = cache([path])
    assert len(compiles) == 2 and first.staged_files != second.staged_files


def test_an_environment_variable_a_compile_reads_is_part_of_the_key(cache, modules, compiles, monkeypatch, tmp_path):
    """``PIPELINE_DEFS_SCHEMA`` names a file: its contents count, not only its name."""
    schema = tmp_path / "schema.json"
    schema.write_bytes((REPO_ROOT / "pipeline_defs" / "schema" / "pipeline-definition.schema.json").read_bytes())
    path = _copy(modules, "fan_out_parent")
    monkeypatch.setenv("PIPELINE_DEFS_SCHEMA", str(schema))
    cache([path])
    cache([path])
    schema.write_bytes(schema.read_bytes() + b"\n")
    cache([path])
    monkeypatch.setenv("SAGEMAKER_SOMETHING", "1")
    cache([path])
    assert len(compiles) == 3


@pytest.mark.parametrize(
    "damage",
    [b"", b"{not json", b'{"format": 1, "key": "other"}', b'{"format": 1}', b"\xff\xfe", None],
    ids=["empty", "truncated", "other key", "no key", "not utf-8", "a directory"],
)
def test_a_corrupt_or_unreadable_entry_is_a_miss(cache, modules, compiles, damage):
    path = _copy(modules, "fan_out_parent")
    (first,) = cache([path])
    (entry,) = cache.directory.rglob("*.json")
    if damage is None:
        entry.unlink()
        entry.mkdir()
    else:
        entry.write_bytes(damage)
    (second,) = cache([path])
    assert len(compiles) == 2
    assert_identical((first,), (second,))


def test_a_tampered_entry_with_the_right_key_cannot_run_code(cache, modules):
    """Entries are typed JSON, not pickles: an unknown type is refused, and the module is compiled."""
    path = _copy(modules, "fan_out_parent")
    cache([path])
    (entry,) = cache.directory.rglob("*.json")
    data = json.loads(entry.read_text())
    for tampered in ({"pipeline": {"$dataclass": "Popen", "fields": {"args": "true"}}}, {"warnings": [["SystemExit", "m", "f", 1]]}):
        entry.write_text(json.dumps({**data, **tampered}))
        (result,) = cache([path])
        assert result.pipeline_name.endswith("fan-out-parent")


def test_entries_are_written_atomically(cache, modules, monkeypatch):
    """A write that fails half-way leaves the previous entry and no temporary file."""
    import os

    path = _copy(modules, "fan_out_parent")
    cache([path])
    (entry,) = cache.directory.rglob("*.json")
    before = entry.read_bytes()
    path.write_text(path.read_text() + "\n# changed\n")

    def failing_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    (result,) = cache([path])
    assert result.pipeline_name.endswith("fan-out-parent")
    assert entry.read_bytes() == before
    assert sorted(p.name for p in entry.parent.iterdir()) == [entry.name]


def test_no_cache_setting_compiles_everything_and_stores_nothing(cache, modules, compiles, monkeypatch):
    path = _copy(modules, "fan_out_parent")
    monkeypatch.setenv("PIPELINE_DEFS_NO_CACHE", "1")
    cache([path])
    cache([path])
    assert len(compiles) == 2
    assert not cache.directory.exists()


def test_a_bad_no_cache_value_names_the_variable_and_what_is_allowed(cache, modules, monkeypatch):
    from pipeline_defs.errors import PipelineDefinitionError

    monkeypatch.setenv("PIPELINE_DEFS_NO_CACHE", "yes")
    with pytest.raises(PipelineDefinitionError, match=r"PIPELINE_DEFS_NO_CACHE='yes' is not allowed: set it to 1 .* unset \(or 0\)"):
        cache([_copy(modules, "fan_out_parent")])


def test_a_failed_compile_is_not_stored_and_fails_the_same_way_again(cache, modules, compiles):
    from pipeline_defs.errors import PipelineDefinitionError

    path = _copy(modules, "fan_out_parent", extra="\n\ndef build_pipeline(ctx):\n    raise ValueError('broken on purpose')\n")
    for _ in range(2):
        with pytest.raises(PipelineDefinitionError, match="fan_out_parent.py.*broken on purpose"):
            cache([path])
    assert len(compiles) == 2
    assert not list(cache.directory.rglob("*.json"))


def test_two_modules_with_one_name_fail_even_when_one_is_served(cache, modules):
    from pipeline_defs.errors import PipelineDefinitionError

    first = _copy(modules, "fan_out_parent")
    cache([first])
    second = modules / "same_name.py"
    second.write_text(first.read_text())
    with pytest.raises(PipelineDefinitionError, match=r"same_name.py.*already used by fan_out_parent.py"):
        cache([first, second])


def test_warnings_of_a_compile_are_given_again_on_every_hit(cache, modules, sandbox_context):
    """The sandbox without a step image warns for ``@step`` pipelines, served or compiled."""
    ctx = dataclasses.replace(sandbox_context, step_image_uri=None)
    path = _copy(modules, "batch_inference")
    for _ in range(2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cache([path], ctx=ctx)
        assert any("names no image" in str(w.message) and w.category is UserWarning for w in caught)


def test_a_synth_with_no_change_does_not_import_the_sdk(cache, modules, sandbox_context):
    paths = [_copy(modules, "fan_out_parent"), _copy(modules, "batch_inference")]
    cache(paths)
    script = f"""
import sys, warnings
sys.path.insert(0, {str(REPO_ROOT)!r})
from pipeline_defs.compiler.cache import CacheStats, compile_environment_cached
from pipeline_defs.context import context_for_environment
ctx = context_for_environment(env_name="sandbox", region=None, cost_tag_key="CostCenter", cost_tag_value="ml-platform",
    allowed_instance_types=("ml.m5.large", "ml.m5.xlarge"), step_image_uri={sandbox_context.step_image_uri!r})
stats = CacheStats()
results = compile_environment_cached(ctx, cache_dir=__import__("pathlib").Path({str(cache.directory)!r}),
    module_paths=[__import__("pathlib").Path(p) for p in {[str(p) for p in paths]!r}], stats=stats)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("sagemaker", "boto3", "botocore"))
print(len(results), len(stats.hits), loaded)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "2", "[]"]
