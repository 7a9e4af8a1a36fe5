"""The one recipe for synthesizing a checkout offline: ``app.py`` in a subprocess, as the CDK CLI runs it.

The review (base and head), the tests and the benchmarks all synthesize this way: context through
``CDK_CONTEXT_JSON``, no AWS credentials or config, optionally every network attempt refused.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Mapping

from base import network_block
from base.config import project_context
from base.naming import DEVELOPMENT_SIGNING_ENV, SIGNING_SEED_ENV

NETWORK_ATTEMPTS_FILE = "network-attempts.jsonl"


def synth_environment(
    *,
    tree: Path,
    outdir: Path,
    workdir: Path,
    context: Mapping[str, object] | None = None,
    block_network: bool = False,
    extra_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Process environment for ``app.py`` of ``tree``: no ``AWS_*`` variables, no credentials or config
    files, and no signing seed: code synthesized this way (a review's base and head, tests) is unreviewed,
    and must never sign ``@step`` payloads with the real key (``extra_env`` may set a test seed). It signs
    with the development key, so its stacks for environments with an account refuse to deploy."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != SIGNING_SEED_ENV}
    env.pop("PYTHONPATH", None)
    env.update(
        {
            "CDK_OUTDIR": str(outdir),
            "CDK_CONTEXT_JSON": json.dumps(project_context(root=tree) if context is None else dict(context)),
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "AWS_CONFIG_FILE": str(workdir / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "TZ": "UTC",
            DEVELOPMENT_SIGNING_ENV: "1",
        }
    )
    if block_network:
        site = workdir / "site"
        site.mkdir(exist_ok=True)
        shutil.copyfile(network_block.__file__, site / "sitecustomize.py")
        env.update(
            {
                "PYTHONPATH": str(site),
                "PD_INSTALL_GUARD": "1",
                "PD_NETWORK_ATTEMPTS_FILE": str(workdir / NETWORK_ATTEMPTS_FILE),
            }
        )
    env.update(extra_env or {})
    return env


def start_synth(
    *,
    tree: Path,
    outdir: Path,
    workdir: Path,
    context: Mapping[str, object] | None = None,
    block_network: bool = False,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.Popen:
    """Start ``app.py`` of ``tree`` writing into ``outdir``; stderr is captured, stdout discarded."""
    env = synth_environment(
        tree=tree, outdir=outdir, workdir=workdir, context=context, block_network=block_network, extra_env=extra_env
    )
    return subprocess.Popen(
        [sys.executable, str(tree / "app.py")],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def network_attempts(*, workdir: Path) -> list[str]:
    """What a synth started with ``block_network=True`` in ``workdir`` tried to reach."""
    path = workdir / NETWORK_ATTEMPTS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
