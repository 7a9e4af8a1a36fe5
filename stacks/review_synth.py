"""Synthesize a git ref and the working tree offline, side by side, for review.

The ref is exported with ``git archive`` (read-only: no worktree, index or ref changes) into a
temporary directory that shares this checkout's ``.venv`` and ``node_modules`` through symlinks.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_DIRECTORIES = (".venv", "node_modules")
SIBLING_DIRECTORIES = ("shared",)
"""Directories next to the checkout that the build reads (``../shared/schemas``)."""
SYNTH_TIMEOUT_SECONDS = 900
CDK_DIFF_TIMEOUT_SECONDS = 120


class ReviewError(RuntimeError):
    """A usage or synth failure: the message says what to fix."""


def resolve_ref(*, ref: str, repo: Path = ROOT) -> str:
    """The commit ``ref`` names, or a ReviewError saying it is unknown."""
    if not ref or ref.startswith("-"):
        raise ReviewError(f"--base {ref!r} is not a git ref")
    result = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ReviewError(f"--base {ref!r} is not a commit in {repo} (try a branch, tag or sha, e.g. origin/main)")
    return result.stdout.strip()


def export_commit(*, commit: str, destination: Path, repo: Path = ROOT) -> None:
    """The commit's files in ``destination``, plus symlinks to this checkout's shared directories.

    ``destination``'s parent also gets links to the directories next to the checkout.
    """
    result = subprocess.run(["git", "archive", "--format=tar", commit], cwd=repo, capture_output=True, check=False)
    if result.returncode != 0:
        raise ReviewError(f"git archive {commit} failed: {result.stderr.decode(errors='replace').strip()}")
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as archive:
        archive.extractall(destination, filter="data")
    for name in SHARED_DIRECTORIES:
        if (repo / name).exists() and not (destination / name).exists():
            (destination / name).symlink_to(repo / name, target_is_directory=True)
    for name in SIBLING_DIRECTORIES:
        sibling, linked = repo.parent / name, destination.parent / name
        if sibling.is_dir() and not linked.exists():
            linked.symlink_to(sibling, target_is_directory=True)


def project_context(*, root: Path) -> dict:
    """The context the CDK CLI would pass to the app checked out at ``root``."""
    sys.path.insert(0, str(ROOT))
    try:
        from app import project_context as context_of
    finally:
        sys.path.remove(str(ROOT))
    return context_of(root=root)


def start_synth(*, tree: Path, outdir: Path, workdir: Path) -> subprocess.Popen:
    """``app.py`` of ``tree`` into ``outdir``, as the CLI runs it, without AWS credentials or config."""
    if not (tree / "app.py").exists():
        raise ReviewError(f"{tree} has no app.py to synthesize")
    workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "CDK_OUTDIR": str(outdir),
            "CDK_CONTEXT_JSON": json.dumps(project_context(root=tree)),
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "AWS_CONFIG_FILE": str(workdir / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "TZ": "UTC",
        }
    )
    env.pop("PYTHONPATH", None)
    return subprocess.Popen(
        [sys.executable, str(tree / "app.py")],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_synth(*, process: subprocess.Popen, label: str) -> None:
    try:
        _, stderr = process.communicate(timeout=SYNTH_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise ReviewError(f"synth of {label} took more than {SYNTH_TIMEOUT_SECONDS} s") from None
    if process.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise ReviewError(f"synth of {label} failed with exit code {process.returncode}:\n{tail}")


def cdk_security_table(*, head_outdir: Path, base_template: Path | None, selector: str) -> str:
    """``cdk diff --security-only`` of one stack: CDK's IAM statement and security group tables."""
    template = base_template if base_template is not None else head_outdir / "empty.template.json"
    if base_template is None:
        template.write_text("{}")
    command = [
        "npx", "--no-install", "cdk", "diff", "--app", str(head_outdir), "--template", str(template),
        selector, "--exclusively", "--security-only", "--no-color",
    ]
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "FORCE_COLOR": "0"}
    try:
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=CDK_DIFF_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"(cdk diff unavailable: {error})"
    return security_tables(text=result.stdout + result.stderr)


def security_tables(*, text: str) -> str:
    """The IAM statement and security group tables of ``cdk diff`` output, without its banners."""
    keep, lines = False, []
    for line in text.splitlines():
        if line.startswith(("IAM Statement Changes", "IAM Policy Changes", "Security Group Changes")):
            keep = True
        elif line.startswith("(NOTE:") or line.startswith("Resources") or line.startswith("✨"):
            keep = False
        if keep and line.strip():
            lines.append(line.rstrip())
    return "\n".join(lines)
