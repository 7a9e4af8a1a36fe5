"""Synthesize the app the way the CDK CLI does: ``app.py`` in a subprocess, context through the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Installed as sitecustomize: any socket or AWS request during synth raises.
BLOCK_NETWORK = textwrap.dedent(
    """
    import socket

    def _refuse(*args, **kwargs):
        raise OSError("network access during synth: " + repr(args[:2]))

    socket.socket.connect = _refuse
    socket.socket.connect_ex = _refuse
    socket.create_connection = _refuse
    socket.getaddrinfo = _refuse
    import botocore.endpoint
    botocore.endpoint.Endpoint._send = _refuse
    """
)


def synth_in_subprocess(*, outdir: Path, cwd: Path, extra_env: dict[str, str], block_network: bool) -> None:
    """Run ``app.py`` into ``outdir`` with no AWS credentials or config; fail with its stderr."""
    sys.path.insert(0, str(ROOT))
    from app import project_context

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "CDK_OUTDIR": str(outdir),
            "CDK_CONTEXT_JSON": json.dumps(project_context()),
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "AWS_CONFIG_FILE": str(cwd / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(cwd / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            **extra_env,
        }
    )
    if block_network:
        site = cwd / "site"
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text(BLOCK_NETWORK)
        env["PYTHONPATH"] = str(site)
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    if result.returncode != 0:
        raise AssertionError(f"synth failed with exit code {result.returncode}:\n{result.stderr[-4000:]}")
