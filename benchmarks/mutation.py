"""Mutation score of the modules that guard security and data, per module, with the run's wall time.

Each group of ``benchmarks/mutation.toml`` is mutated by mutmut (settings: ``[tool.mutmut]`` in
``pyproject.toml``) in its own directory under the temporary directory, against only the tests
listed for it, so a run stays tractable on two cores: one worker at low priority, and the compile
cache off unless the compile never runs the group's modules (its key does not see which mutant is
active, so it would serve the unmutated definition). A module's score is the share of its mutants
the tests detect (killed, or stopped by the time limit), leaving out only the equivalent mutants
listed in ``mutation.toml``: a mutant no selected test runs is a survivor. Exit code 1 when a
module scores below the threshold or a listed equivalent matches no surviving mutant (the list stays
exact); 2 on bad input.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "benchmarks" / "mutation.toml"
WORK_ROOT = Path(tempfile.gettempdir()) / f"mutation-{ROOT.name}-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]}"
"""Outside the checkout, whose tests read every module under it: mutmut's copies would count as modules."""
MUTMUT = Path(sys.executable).with_name("mutmut")
THRESHOLD = 0.90
NICENESS = 15
PROJECT_ENTRIES = ("base", "pipeline_defs", "planning", "stacks", "tools", "tests", "app.py", "cdk.json", "cdk.context.json")
"""What the selected tests import or read, linked into each group's directory (mutmut copies them)."""
LAMBDA_ROOT = "lambda_src"
LAMBDA_AS = "src"
"""Lambda code runs as ``<folder>.handler`` from its asset root; mutmut names a module by its path
with a leading ``src/`` dropped, so the asset root is linked as ``src`` to give the same names."""
SOURCE_PATHS = ("base", "pipeline_defs", "planning", "stacks", "tools", LAMBDA_AS)

DETECTED = {1: "killed", 3: "killed", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout"}
"""mutmut's exit codes for a mutant the tests detected (``mutmut.stats.status_by_exit_code``)."""
NOT_RUN = {None: "not checked", 2: "interrupted"}


class MutationInputError(Exception):
    """``mutation.toml`` or an argument is wrong; the message names the key and value."""


@dataclass(frozen=True)
class Group:
    name: str
    files: tuple[str, ...]
    tests: tuple[str, ...]
    ignore: tuple[str, ...] = ()
    compile_cache: bool = False
    """Only for modules the compile never runs: the cache key does not see which mutant is active."""

    def test_selection(self) -> list[str]:
        """pytest's arguments: paths rather than a list of files, so a new test file joins the
        selection without changing it (mutmut discards every result when the selection changes)."""
        return [*self.tests, *(f"--ignore={path}" for path in self.ignore)]


@dataclass(frozen=True)
class Equivalent:
    file: str
    before: str
    after: str
    reason: str


@dataclass
class ModuleScore:
    file: str
    total: int = 0
    killed: int = 0
    timeouts: int = 0
    equivalent: int = 0
    survivors: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        counted = self.total - self.equivalent
        return (self.killed + self.timeouts) / counted if counted else 1.0


def _strings(value: object, *, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
        raise MutationInputError(f"{CONFIG.name}: {where} must be a non-empty list of paths, got {value!r}")
    return tuple(value)


def load_config() -> tuple[list[Group], list[Equivalent]]:
    data = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    groups = []
    for index, raw in enumerate(data.get("group", [])):
        where = f"group[{index}] ({raw.get('name', '?')})"
        files = _strings(raw.get("files"), where=f"{where}.files")
        tests = _strings(raw.get("tests"), where=f"{where}.tests")
        ignore = _strings(raw["ignore"], where=f"{where}.ignore") if "ignore" in raw else ()
        for pattern in files:
            if not sorted(ROOT.glob(pattern)):
                raise MutationInputError(f"{CONFIG.name}: {where}.files: {pattern!r} matches no file")
        for path in tests + ignore:
            if not (ROOT / path).exists():
                raise MutationInputError(f"{CONFIG.name}: {where}: test path {path!r} does not exist")
        compile_cache = raw.get("compile_cache", False)
        if not isinstance(compile_cache, bool):
            raise MutationInputError(f"{CONFIG.name}: {where}.compile_cache must be true or false, got {compile_cache!r}")
        groups.append(Group(name=raw["name"], files=files, tests=tests, ignore=ignore, compile_cache=compile_cache))
    equivalents = []
    for index, raw in enumerate(data.get("equivalent", [])):
        missing = {"file", "before", "after", "reason"} - raw.keys()
        if missing:
            raise MutationInputError(f"{CONFIG.name}: equivalent[{index}] needs {sorted(missing)}; it has {sorted(raw)}")
        equivalents.append(Equivalent(file=raw["file"], before=raw["before"].strip(), after=raw["after"].strip(), reason=raw["reason"]))
    return groups, equivalents


def _work_path(repo_path: str) -> str:
    """Where mutmut sees a repository file inside a group's directory (Lambda code under ``src/``)."""
    prefix = LAMBDA_ROOT + "/"
    return LAMBDA_AS + "/" + repo_path[len(prefix) :] if repo_path.startswith(prefix) else repo_path


def _repo_path(work_path: str) -> str:
    prefix = LAMBDA_AS + "/"
    return LAMBDA_ROOT + "/" + work_path[len(prefix) :] if work_path.startswith(prefix) else work_path


def _toml_value(value: object) -> str:
    """Strings, numbers, booleans and lists of them: their JSON spelling is valid TOML."""
    return json.dumps(value)


def _pyproject(group: Group) -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mutmut = dict(project["tool"]["mutmut"])
    mutmut["source_paths"] = list(SOURCE_PATHS)
    mutmut["only_mutate"] = [_work_path(pattern) for pattern in group.files]
    mutmut["pytest_add_cli_args_test_selection"] = group.test_selection()
    tables = {"tool.pytest.ini_options": project["tool"]["pytest"]["ini_options"], "tool.mutmut": mutmut}
    return "\n".join(f"[{name}]\n" + "".join(f"{key} = {_toml_value(value)}\n" for key, value in table.items()) for name, table in tables.items())


def prepare(group: Group, *, resume: bool) -> Path:
    """The group's directory: links to the project and a ``pyproject.toml`` for this group alone;
    fresh unless resuming, when mutmut's earlier results there are kept."""
    workdir = WORK_ROOT / group.name
    if not (resume and (workdir / "mutants").is_dir()):
        shutil.rmtree(workdir, ignore_errors=True)
        (workdir / "mutants").mkdir(parents=True)
        for entry in PROJECT_ENTRIES:
            (workdir / entry).symlink_to(ROOT / entry)
        (workdir / LAMBDA_AS).symlink_to(ROOT / LAMBDA_ROOT)
        # The tests find Lambda code at <root>/lambda_src: in mutmut's copy that is the mutated src/.
        (workdir / "mutants" / LAMBDA_ROOT).symlink_to(LAMBDA_AS)
    (workdir / "pyproject.toml").write_text(_pyproject(group), encoding="utf-8")
    return workdir


def _undetected(workdir: Path) -> list[str]:
    """The mutants of an earlier run that no test detected, by mutmut's name."""
    names = []
    for meta_path in (workdir / "mutants").rglob("*.py.meta"):
        exit_codes = json.loads(meta_path.read_text(encoding="utf-8"))["exit_code_by_key"]
        names += [mutant for mutant, code in exit_codes.items() if code not in DETECTED]
    return sorted(names)


def _changed_lines(diff: str) -> tuple[str, str]:
    body = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return ("\n".join(line[1:].strip() for line in body if line[0] == "-"), "\n".join(line[1:].strip() for line in body if line[0] == "+"))


def _show(workdir: Path, mutant: str) -> str:
    return subprocess.run([str(MUTMUT), "show", mutant], cwd=workdir, capture_output=True, text=True, check=True).stdout


def collect(workdir: Path, group: Group, equivalents: list[Equivalent], used: set[int]) -> list[ModuleScore]:
    scores = []
    mutants_dir = workdir / "mutants"
    for meta_path in sorted(mutants_dir.rglob("*.py.meta")):
        repo_file = _repo_path(str(meta_path.relative_to(mutants_dir))[: -len(".meta")])
        exit_codes = json.loads(meta_path.read_text(encoding="utf-8"))["exit_code_by_key"]
        module = ModuleScore(file=repo_file, total=len(exit_codes))
        for mutant, code in sorted(exit_codes.items()):
            if code in NOT_RUN:
                raise RuntimeError(f"{group.name}: mutant {mutant} was {NOT_RUN[code]}; see {workdir / 'mutmut.log'}")
            status = DETECTED.get(code)
            if status == "killed":
                module.killed += 1
                continue
            if status == "timeout":
                module.timeouts += 1
                continue
            before, after = _changed_lines(_show(workdir, mutant))
            match = next((i for i, eq in enumerate(equivalents) if eq.file == repo_file and (eq.before, eq.after) == (before, after)), None)
            if match is None:
                module.survivors.append(f"{mutant}: {before!r} -> {after!r}")
            else:
                module.equivalent += 1
                used.add(match)
        scores.append(module)
    return scores


def run_group(group: Group, equivalents: list[Equivalent], used: set[int], *, resume: bool) -> tuple[list[ModuleScore], float]:
    """Mutate the group and run its tests; resuming, re-run only the mutants that survived before."""
    workdir = prepare(group, resume=resume)
    retest = _undetected(workdir) if resume else []
    env = {**os.environ, "PIPELINE_DEFS_NO_CACHE": "0" if group.compile_cache else "1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    started = time.monotonic()
    with (workdir / "mutmut.log").open("a" if resume else "w", encoding="utf-8") as log:
        result = subprocess.run([str(MUTMUT), "run", "--max-children", "1", *retest], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"{group.name}: mutmut exited {result.returncode}; see {workdir / 'mutmut.log'}")
    return collect(workdir, group, equivalents, used), seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", action="append", default=[], help="run only this group of mutation.toml (repeatable)")
    parser.add_argument("--resume", action="store_true", help="keep the last run's results and re-run only its surviving mutants (after adding tests)")
    args = parser.parse_args(argv)
    try:
        groups, equivalents = load_config()
        unknown = sorted(set(args.group) - {group.name for group in groups})
        if unknown:
            raise MutationInputError(f"--group {unknown[0]!r} is not in {CONFIG.name}; allowed: {', '.join(group.name for group in groups)}")
    except MutationInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    os.nice(NICENESS)
    selected = [group for group in groups if not args.group or group.name in args.group]
    used: set[int] = set()
    failed = False
    started = time.monotonic()
    print(f"{'module':<48} {'detected/counted':>16} {'killed':>6} {'timeout':>7} {'survived':>8} {'equiv':>5} {'score':>6}")
    for group in selected:
        scores, seconds = run_group(group, equivalents, used, resume=args.resume)
        scores = [module for module in scores if module.total]  # a file without functions has no mutants
        for module in scores:
            counted = module.total - module.equivalent
            print(f"{module.file:<48} {module.killed + module.timeouts:>7}/{counted:<8} {module.killed:>6} {module.timeouts:>7} {len(module.survivors):>8} {module.equivalent:>5} {module.score:>6.1%}")
            failed |= module.score < THRESHOLD
        print(f"  group {group.name}: {len(scores)} modules in {seconds:.0f} s")
        for module in scores:
            for survivor in module.survivors:
                print(f"  survived {survivor}")
    run_files = {_repo_path(str(path.relative_to(WORK_ROOT / group.name / "mutants"))[: -len(".meta")]) for group in selected for path in (WORK_ROOT / group.name / "mutants").rglob("*.py.meta")}
    for index, equivalent in enumerate(equivalents):
        if equivalent.file in run_files and index not in used:
            print(f"  stale equivalent in {CONFIG.name}: {equivalent.file}: {equivalent.before!r} -> {equivalent.after!r} matches no surviving mutant")
            failed = True
    print(f"total {time.monotonic() - started:.0f} s; threshold {THRESHOLD:.0%} per module: {'not met' if failed else 'met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
