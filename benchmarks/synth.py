"""Median wall time of a full synth and of the test suite, with ratios to baselines from the same run.

Baselines: a bare CDK app (one empty stack) stands for the cost of starting Python, jsii and CDK,
so the synth ratio shows what the platform's own constructs add.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from base.config import project_context  # noqa: E402

BARE_APP = "import aws_cdk as cdk\napp = cdk.App()\ncdk.Stack(app, 'Empty')\napp.synth()\n"


def _timed(command: list[str], *, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="synth runs per measurement (median reported)")
    parser.add_argument("--test-runs", type=int, default=1, help="test-suite runs (median reported); 0 skips")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "CDK_OUTDIR": f"{scratch}/bare"}
        bare_script = Path(scratch) / "bare_app.py"
        bare_script.write_text(BARE_APP)
        app_env = {**env, "CDK_OUTDIR": f"{scratch}/out", "CDK_CONTEXT_JSON": json.dumps(project_context())}
        bare = [_timed([sys.executable, str(bare_script)], env=env) for _ in range(args.runs)]
        full = [_timed([sys.executable, str(ROOT / "app.py")], env=app_env) for _ in range(args.runs)]
        templates = sorted(Path(scratch, "out").rglob("*.template.json"))

    bare_median, full_median = statistics.median(bare), statistics.median(full)
    print(f"bare CDK app synth     median {bare_median:6.2f} s  ({args.runs} runs)")
    print(f"full app synth         median {full_median:6.2f} s  ({args.runs} runs, {len(templates)} templates)  ratio to bare {full_median / bare_median:.2f}x")
    if args.test_runs:
        tests = [_timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], env=os.environ.copy()) for _ in range(args.test_runs)]
        tests_median = statistics.median(tests)
        print(f"test suite             median {tests_median:6.2f} s  ({args.test_runs} runs)  ratio to full synth {tests_median / full_median:.2f}x")


if __name__ == "__main__":
    main()
