"""Synthesize the app the way the CDK CLI does, through the project's one offline-synth recipe."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from base.offline_synth import network_attempts, start_synth

ROOT = Path(__file__).resolve().parents[2]


def synth_in_subprocess(
    *,
    outdir: Path,
    cwd: Path,
    extra_env: Mapping[str, str],
    block_network: bool,
    context: Mapping[str, object] | None = None,
) -> None:
    """Run ``app.py`` into ``outdir`` with no AWS credentials or config; fail with its stderr."""
    process = start_synth(
        tree=ROOT, outdir=outdir, workdir=cwd, context=context, block_network=block_network, extra_env=extra_env
    )
    _, stderr = process.communicate(timeout=900)
    if process.returncode != 0:
        raise AssertionError(f"synth failed with exit code {process.returncode}:\n{stderr[-4000:]}")
    attempts = network_attempts(workdir=cwd)
    if attempts:
        raise AssertionError(f"synth tried to reach the network: {attempts[:5]}")
