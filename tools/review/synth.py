"""Synthesize a git ref and the working tree offline, side by side, for review.

The ref is exported with ``git archive`` (read-only: no worktree, index or ref changes) into a
temporary directory that shares this checkout's ``.venv`` and ``node_modules`` through symlinks.
"""

from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import tarfile
from pathlib import Path

from base import offline_synth
from base.config import PROJECT_ROOT
from base.errors import ExitCode, UserError

SHARED_DIRECTORIES = (".venv", "node_modules")
SYNTH_TIMEOUT_SECONDS = 900
CDK_DIFF_TIMEOUT_SECONDS = 120
BYTES_REPR = re.compile(r"b'.*'|b\".*\"")
BANNER_LINE = re.compile(r"!!.*!!|!+")
"""Lines of the frame node prints around an end-of-life warning (jsii, the CDK CLI)."""
PASSED_THROUGH_CODES = (ExitCode.BAD_INPUT, ExitCode.CHECK_FAILED, ExitCode.UNAVAILABLE)
"""A synth's own exit codes the review returns unchanged: the tree's settings, nag or a prerequisite."""


class ReviewError(UserError):
    """A ref or tree the review cannot use; the message says what to fix, ``exit_code`` what kind of failure."""

    def __init__(self, message: str, *, exit_code: ExitCode = ExitCode.BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def synth_failure_code(*, returncode: int) -> ExitCode:
    """The review's code for a failed synth: the synth's own when the convention names it, else bad input.

    Anything else (a traceback's 1, a signal) means the tree under review does not synthesize.
    """
    return ExitCode(returncode) if returncode in PASSED_THROUGH_CODES else ExitCode.BAD_INPUT


def resolve_ref(*, ref: str, repo: Path = PROJECT_ROOT) -> str:
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


def export_commit(*, commit: str, destination: Path, repo: Path = PROJECT_ROOT) -> None:
    """The commit's files in ``destination``, plus symlinks to this checkout's shared directories."""
    result = subprocess.run(["git", "archive", "--format=tar", commit], cwd=repo, capture_output=True, check=False)
    if result.returncode != 0:
        raise ReviewError(f"git archive {commit} failed: {result.stderr.decode(errors='replace').strip()}")
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as archive:
        archive.extractall(destination, filter="data")
    for name in SHARED_DIRECTORIES:
        if (repo / name).exists() and not (destination / name).exists():
            (destination / name).symlink_to(repo / name, target_is_directory=True)


def start_synth(*, tree: Path, outdir: Path, workdir: Path) -> subprocess.Popen:
    """``app.py`` of ``tree`` into ``outdir``, as the CLI runs it, without AWS credentials or config."""
    if not (tree / "app.py").exists():
        raise ReviewError(f"{tree} has no app.py to synthesize")
    try:
        return offline_synth.start_synth(tree=tree, outdir=outdir, workdir=workdir)
    except UserError as error:
        raise ReviewError(f"synth of {tree} cannot start: {error}", exit_code=error.exit_code) from None


def wait_for_synth(*, process: subprocess.Popen, label: str) -> None:
    """Wait for a synth started by :func:`start_synth`; a failure names the tree and ends with its stderr."""
    try:
        _, stderr = process.communicate(timeout=SYNTH_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise ReviewError(f"synth of {label} took more than {SYNTH_TIMEOUT_SECONDS} s", exit_code=ExitCode.UNAVAILABLE) from None
    if process.returncode != 0:
        tail = "\n".join(without_noise(text=stderr).strip().splitlines()[-15:])
        raise ReviewError(
            f"synth of {label} failed with exit code {process.returncode}:\n{tail}",
            exit_code=synth_failure_code(returncode=process.returncode),
        )


def _decoded(line: str) -> str:
    """A line jsii's Python runtime forwarded from node as ``b'...'`` (its bytes' repr), decoded; others as they are."""
    if BYTES_REPR.fullmatch(line):
        try:
            return ast.literal_eval(line).decode("utf-8", errors="replace").rstrip("\n")
        except (ValueError, SyntaxError):
            return line
    return line


def without_noise(*, text: str) -> str:
    """Synth or CLI output with node's lines decoded and node's end-of-life banner (lines framed by ``!!``) left out."""
    lines = (_decoded(line) for line in text.splitlines())
    return "\n".join(line for line in lines if not BANNER_LINE.fullmatch(line.strip()))


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
        result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=CDK_DIFF_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"(cdk diff unavailable: {error})"
    return security_tables(text=without_noise(text=result.stdout + result.stderr))


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
