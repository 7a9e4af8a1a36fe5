"""Synth cost and template quotas at 5, 50, 200 and 500 pipelines, every figure and ratio measured in one run.

Per size, the working tree's files are copied into a temporary directory whose
``pipeline_defs/pipelines/`` holds generated copies of the example modules (the examples, then
copies named ``<name>-gNNN``, a fan-out parent starting its own group's child), and one
environment's ``app.py`` is synthesized three times, each in a fresh process run the way the CDK
CLI runs it (``base.offline_synth``: no AWS credentials, the tree's ``cdk.json`` context):

- cold: empty compile cache;
- warm: again, nothing changed (every pipeline from the cache: the SDK is never imported);
- stubbed: ``compile_pipelines`` replaced by a function returning the cold run's results, i.e. the
  same stacks with compilation taken out.

CPU seconds are the synth process's user + system time (its children included); the compile's
own CPU seconds are measured inside it. Ratios: cold marginal compile cost per pipeline against
the smallest size, whole synth against the smallest size, warm against stubbed. The largest
template's resources, outputs and bytes are shown against CloudFormation's quotas. Nothing is
left in the repository; only the project's runtime dependencies are needed.

    python benchmarks/scale.py [--sizes 5,50,200,500] [--env prod] [--repeat 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from base.config import project_context  # noqa: E402
from base.offline_synth import synth_environment  # noqa: E402

CLOUDFORMATION_QUOTAS = {"resources": 500, "outputs": 200, "bytes": 1_000_000}
"""Per template: resources, outputs, and the body size of a template CloudFormation reads from S3."""
HEADROOM_TARGET = 0.8
"""Share of a quota the platform may use at 500 pipelines (DESIGN.md, Scale)."""
TARGETS = {"marginal compile CPU s at 200": 0.05, "synth 200 / synth 5": 2.5, "warm / stubbed": 1.3}
DEFAULT_SIZES = (5, 50, 200, 500)
GROUP_SIZE = 5
SEED = "benchmark-only seed"

DRIVER = '''
import json, pickle, sys, time, types

mode, tree, report, results = sys.argv[1:5]
sys.path.insert(0, tree)


def _mapping(items):
    return types.MappingProxyType(items)


def _pickled_proxy(proxy):
    return _mapping, (dict(proxy),)


import copyreg
copyreg.pickle(types.MappingProxyType, _pickled_proxy)
import planning.plan as plan

compiled, seconds = {}, [0.0]
stubbed = pickle.load(open(results, "rb")) if mode == "stubbed" else None
real = plan.compile_pipelines


def compile_pipelines(*, config):
    started = time.process_time()
    found = stubbed[config.name] if stubbed is not None else real(config=config)
    seconds[0] += time.process_time() - started
    compiled[config.name] = found
    return found


plan.compile_pipelines = compile_pipelines
import app

code, failure = 0, ""
try:
    app.main()
except SystemExit as stop:
    code = stop.code or 0
except Exception as error:  # the stacks refused the plan (e.g. a quota): report it with the figures
    code, failure = 1, str(error).splitlines()[0][:300]
if mode == "cold":
    pickle.dump(compiled, open(results, "wb"))
sdk = any(name.split(".")[0] == "sagemaker" for name in sys.modules)
json.dump({"exit_code": code, "failure": failure, "compile_cpu": seconds[0], "sdk_imported": sdk}, open(report, "w"))
'''


@dataclass(frozen=True)
class Run:
    """One synth: the process's CPU and wall seconds, the compile's CPU seconds, what it reported."""

    cpu: float
    wall: float
    compile_cpu: float
    exit_code: int
    failure: str
    sdk_imported: bool
    outdir: Path


@dataclass(frozen=True)
class Template:
    name: str
    resources: int
    outputs: int
    bytes: int


def copy_tree(destination: Path) -> None:
    """The working tree's files (tracked and new, not ignored): no caches, outputs or environments."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, check=True
    )
    for name in sorted(set(listed.stdout.decode().split("\0")) - {""}):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def write_pipelines(*, tree: Path, count: int) -> None:
    """``count`` pipeline modules: the examples, then numbered copies of each, group by group."""
    directory = tree / "pipeline_defs" / "pipelines"
    examples = sorted(p for p in directory.glob("*.py") if not p.name.startswith("_"))
    sources = {p: p.read_text(encoding="utf-8") for p in examples}
    for path in examples:
        path.unlink()
    for index in range(count):
        group, example = divmod(index, len(examples))
        path = examples[example]
        source = sources[path]
        if group:
            for constant in ("PIPELINE_NAME", "CHILD_MODULE_PIPELINE"):
                source = re.sub(rf'^{constant} = "([a-z0-9-]+)"', rf'{constant} = "\1-g{group:03d}"', source, flags=re.M)
        (directory / f"{path.stem}{f'_g{group:03d}' if group else ''}.py").write_text(source, encoding="utf-8")


def synth(*, tree: Path, workdir: Path, mode: str, env_name: str, attempt: int) -> Run:
    """One fresh ``app.py`` process for ``env_name`` in mode cold (cache emptied first), warm or stubbed."""
    outdir = workdir / f"out-{mode}-{attempt}"
    context = {**project_context(root=tree), "env": env_name}
    env = synth_environment(tree=tree, outdir=outdir, workdir=workdir / f"{mode}-{attempt}", context=context)
    env["PIPELINE_DEFS_SIGNING_SEED"] = SEED
    env.pop("PIPELINE_DEFS_NO_CACHE", None)
    if mode == "cold":
        shutil.rmtree(tree / ".cache", ignore_errors=True)
    driver, report = workdir / "driver.py", workdir / f"{mode}-{attempt}.json"
    driver.write_text(DRIVER, encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(driver), mode, str(tree), str(report), str(workdir / "compiled.pickle")],
        cwd=workdir / f"{mode}-{attempt}", env=env, capture_output=True, text=True, check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if not report.exists():
        raise SystemExit(f"error: {mode} synth in {tree} failed (exit code {done.returncode}):\n{done.stderr[-3000:]}")
    reported = json.loads(report.read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(cpu=cpu, wall=wall, compile_cpu=reported["compile_cpu"], exit_code=reported["exit_code"],
               failure=reported["failure"], sdk_imported=reported["sdk_imported"], outdir=outdir)


def templates(outdir: Path) -> dict[str, Path]:
    return {p.relative_to(outdir).as_posix(): p for p in sorted(outdir.rglob("*.template.json"))}


def largest_template(outdir: Path) -> Template | None:
    if not templates(outdir):
        return None
    name, path = max(templates(outdir).items(), key=lambda item: item[1].stat().st_size)
    body = json.loads(path.read_text(encoding="utf-8"))
    return Template(name=name, resources=len(body.get("Resources", {})), outputs=len(body.get("Outputs", {})), bytes=path.stat().st_size)


def same_templates(first: Path, second: Path) -> bool:
    a, b = templates(first), templates(second)
    return a.keys() == b.keys() and all(a[name].read_bytes() == b[name].read_bytes() for name in a)


def median_run(runs: list[Run]) -> Run:
    """The first run with the median CPU, wall and compile seconds of all of them."""
    return dataclasses.replace(
        runs[0],
        cpu=statistics.median(r.cpu for r in runs),
        wall=statistics.median(r.wall for r in runs),
        compile_cpu=statistics.median(r.compile_cpu for r in runs),
    )


def measure(*, count: int, env_name: str, scratch: Path, repeat: int) -> dict:
    """Cold, warm and stubbed synths of ``count`` pipelines in a fresh copy of the tree, ``repeat`` times interleaved."""
    tree, workdir = scratch / f"tree-{count}", scratch / f"work-{count}"
    copy_tree(tree)
    write_pipelines(tree=tree, count=count)
    workdir.mkdir()
    attempts: dict[str, list[Run]] = {"cold": [], "warm": [], "stubbed": []}
    for attempt in range(repeat):
        for mode, done in attempts.items():
            done.append(synth(tree=tree, workdir=workdir, mode=mode, env_name=env_name, attempt=attempt))
    runs = {mode: median_run(done) for mode, done in attempts.items()}
    identical = all(same_templates(runs["cold"].outdir, runs[mode].outdir) for mode in ("warm", "stubbed"))
    largest = None if runs["cold"].failure else largest_template(runs["cold"].outdir)
    figures = {"count": count, "runs": runs, "identical": identical, "largest": largest}
    shutil.rmtree(tree)
    shutil.rmtree(workdir)
    return figures


def same(result: dict) -> str:
    if result["largest"] is None:
        return "-"
    return "yes" if result["identical"] else "NO"


def headroom(used: int, quota: int) -> str:
    share = used / quota
    return f"{used} of {quota} ({share:.0%} used, {'ok' if share <= HEADROOM_TARGET else 'OVER'} at {HEADROOM_TARGET:.0%})"


def print_table(results: list[dict], *, env_name: str, repeat: int) -> None:
    base = results[0]
    base_compile, base_synth = base["runs"]["cold"].compile_cpu, base["runs"]["cold"].cpu
    print(f"environment {env_name}; CPU seconds of one synth process (children included), median of {repeat}; ratios against {base['count']} pipelines, same run")
    header = f"{'pipelines':>9} {'cold synth':>10} {'warm':>7} {'stubbed':>8} {'warm/stub':>9} {'compile':>8} {'marginal/pipe':>13} {'synth/base':>10} {'exit':>4} {'same':>4}"
    print(header)
    for result in results:
        runs = result["runs"]
        cold, warm, stubbed = runs["cold"], runs["warm"], runs["stubbed"]
        extra = result["count"] - base["count"]
        marginal = f"{(cold.compile_cpu - base_compile) / extra:13.4f}" if extra else f"{'-':>13}"
        ratio = f"{'-':>10}" if cold.failure or base["runs"]["cold"].failure else f"{cold.cpu / base_synth:10.2f}"
        print(
            f"{result['count']:9d} {cold.cpu:10.2f} {warm.cpu:7.2f} {stubbed.cpu:8.2f} {warm.cpu / stubbed.cpu:9.2f} "
            f"{cold.compile_cpu:8.2f} {marginal} {ratio} {cold.exit_code:4d} {same(result):>4}"
        )
        if warm.sdk_imported:
            print(f"{'':9} warm synth imported the SDK: some pipeline was not served from the cache")
        if cold.failure:
            print(f"{'':9} synth failed after compiling (CPU figures until the failure, no synth ratio): {cold.failure}")
    print()
    print("wall seconds (cold / warm / stubbed): " + "; ".join(
        f"{r['count']}: {r['runs']['cold'].wall:.1f} / {r['runs']['warm'].wall:.1f} / {r['runs']['stubbed'].wall:.1f}" for r in results
    ))
    print("exit: the synth's exit code (1: the stacks refused the plan, no templates; 3: cdk-nag findings nobody acknowledged,"
          " templates written); same: warm and stubbed templates byte-identical to cold")
    print()
    print("largest template (quota headroom, target: at most 80% used)")
    for result in results:
        largest = result["largest"]
        if largest is None:
            print(f"{result['count']:9d} no complete assembly (the synth failed)")
            continue
        print(f"{result['count']:9d} {largest.name}")
        for label in ("resources", "outputs", "bytes"):
            print(f"{'':9}   {label:9} {headroom(getattr(largest, label), CLOUDFORMATION_QUOTAS[label])}")
    print()
    print("targets: " + ", ".join(f"{name} <= {value}" for name, value in TARGETS.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="pipeline counts, comma-separated (default: %(default)s)")
    parser.add_argument("--env", default="prod", help="environment of cdk.json to synthesize (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=1, help="synths per mode and size, medians reported (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        sizes = sorted({int(size) for size in args.sizes.split(",")})
    except ValueError:
        parser.error(f"--sizes {args.sizes!r}: expected whole numbers separated by commas, e.g. 5,50")
    if not sizes or sizes[0] < 1:
        parser.error(f"--sizes {args.sizes!r}: every size must be at least 1")
    if args.repeat < 1:
        parser.error(f"--repeat {args.repeat}: must be at least 1")
    with tempfile.TemporaryDirectory(prefix="scale-benchmark-") as scratch:
        results = []
        for count in sizes:
            print(f"synthesizing {count} pipelines (cold, warm, stubbed)...", file=sys.stderr, flush=True)
            results.append(measure(count=count, env_name=args.env, scratch=Path(scratch), repeat=args.repeat))
    print_table(results, env_name=args.env, repeat=args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
