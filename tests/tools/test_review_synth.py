"""The review's synthesis side: refs, a failed synth's exit code, and the ``cdk diff`` tables it keeps."""

from __future__ import annotations

import subprocess
import sys

import pytest

from base.errors import ExitCode
from tools.review.synth import ReviewError, resolve_ref, security_tables, wait_for_synth


def _exiting(code: int) -> subprocess.Popen:
    """A process that fails the way a synth does: an ``error:`` line on stderr, then ``code``."""
    script = f"import sys; print('error: context is wrong', file=sys.stderr); sys.exit({code})"
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize(
    ("synth_code", "review_code"),
    [
        (ExitCode.BAD_INPUT, ExitCode.BAD_INPUT),
        (ExitCode.CHECK_FAILED, ExitCode.CHECK_FAILED),
        (ExitCode.UNAVAILABLE, ExitCode.UNAVAILABLE),
        (1, ExitCode.BAD_INPUT),
        (ExitCode.ATTENTION, ExitCode.BAD_INPUT),
    ],
)
def test_a_failed_synth_keeps_its_own_code_when_the_convention_names_it(synth_code: int, review_code: ExitCode) -> None:
    with pytest.raises(ReviewError) as raised:
        wait_for_synth(process=_exiting(int(synth_code)), label="origin/main")
    assert raised.value.exit_code == review_code
    assert str(raised.value) == f"synth of origin/main failed with exit code {int(synth_code)}:\nerror: context is wrong"


def test_a_succeeding_synth_raises_nothing() -> None:
    wait_for_synth(process=_exiting(0), label="the working tree")


@pytest.mark.parametrize("ref", ["", "--output=/tmp/x", "no-such-ref-anywhere"])
def test_refs_that_name_no_commit_are_bad_input(ref: str) -> None:
    with pytest.raises(ReviewError, match=f"--base {ref!r} is not a") as raised:
        resolve_ref(ref=ref)
    assert raised.value.exit_code == ExitCode.BAD_INPUT


def test_head_resolves_to_a_full_sha() -> None:
    sha = resolve_ref(ref="HEAD")
    assert len(sha) == 40 and int(sha, 16) >= 0


def test_cdk_security_tables_are_cut_from_the_diff_banner() -> None:
    text = "Stack x\nIAM Statement Changes\n│ + │ s3:* │\n\n(NOTE: There may be ...)\nResources\n[~] AWS::IAM::Policy"
    assert security_tables(text=text) == "IAM Statement Changes\n│ + │ s3:* │"
