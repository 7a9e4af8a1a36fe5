"""The GitHub Actions workflows: actionlint-clean, pinned, least privilege, OIDC only, build once and deploy that build.

Scripts inside the workflows are run here with stand-ins for ``gh`` and the review command, so
what they do with each review exit code and with an existing comment is pinned, not just read.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from base.delivery import GITHUB_SYNTH_ENVIRONMENT
from pipeline_defs.contract import SIGNING_SEED_ENV
from support.environments import ENVIRONMENTS, TEST_ACCOUNT

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent
PINNED_USE = re.compile(r"^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)\s*$")


def _load(name: str) -> dict[str, Any]:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as true.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


DELIVER = _load("deliver.yml")
PULL_REQUEST = _load("pull-request.yml")


def _steps(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(f"{action}@")]


def _run_step(job: dict[str, Any], name: str) -> str:
    (step,) = [step for step in job["steps"] if step.get("name") == name]
    return step["run"]


def test_actionlint_passes_on_every_workflow() -> None:
    files = sorted(str(p) for p in WORKFLOWS.glob("*.y*ml"))
    assert len(files) == 2
    result = subprocess.run(
        [str(BIN / "actionlint"), "-no-color", "-shellcheck", str(BIN / "shellcheck"), *files],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_and_shellcheck_really_check(tmp_path: Path) -> None:
    """Guards the test above: an injected pull-request title and an unquoted variable are reported."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\n"
        "permissions: {}\n"
        "jobs:\n"
        "  x:\n"
        "    runs-on: ubuntu-24.04\n"
        "    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
        "      - run: cat $GITHUB_EVENT_PATH\n"
    )
    result = subprocess.run(
        [str(BIN / "actionlint"), "-no-color", "-shellcheck", str(BIN / "shellcheck"), str(bad)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert "potentially untrusted" in result.stdout and "SC2086" in result.stdout, result.stdout


def test_every_action_is_pinned_by_a_full_commit_with_its_version_beside_it() -> None:
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in sorted(WORKFLOWS.glob("*.y*ml")):
        for line in path.read_text().splitlines():
            if re.search(r"^\s*(-\s+)?uses:", line):
                match = PINNED_USE.match(line)
                assert match, f"{path.name}: {line.strip()!r} is not pinned as owner/repo@<40-hex sha> # vX.Y.Z"
                pins.setdefault(match[1], set()).add((match[2], match[3]))
    assert set(pins) == {
        "actions/checkout", "actions/setup-python", "actions/setup-node",
        "actions/upload-artifact", "actions/download-artifact", "aws-actions/configure-aws-credentials",
    }
    # One version of each action across the workflows.
    assert all(len(versions) == 1 for versions in pins.values()), pins


@pytest.mark.parametrize(
    ("workflow", "expected"),
    [
        (DELIVER, {
            "test": {"contents": "read"},
            "plan": {"contents": "read"},
            "synth": {"contents": "read"},
            "deploy": {"contents": "read", "id-token": "write"},
        }),
        (PULL_REQUEST, {
            "test": {"contents": "read"},
            "review": {"contents": "read"},
            "comment": {"pull-requests": "write"},
            "plan": {"contents": "read"},
            "deployed-diff": {"contents": "read", "id-token": "write"},
        }),
    ],
)
def test_every_job_gets_only_the_permissions_it_needs(workflow: dict[str, Any], expected: dict[str, dict[str, str]]) -> None:
    assert workflow["permissions"] == {}
    assert {name: job["permissions"] for name, job in workflow["jobs"].items()} == expected
    # Whoever may ask for an OIDC token assumes an AWS role with it, and nobody else may.
    for name, job in workflow["jobs"].items():
        assert ("id-token" in job["permissions"]) == bool(_steps(job, "aws-actions/configure-aws-credentials")), name
    # The one job that can write to the pull request runs none of its code.
    comment = PULL_REQUEST["jobs"]["comment"]
    assert not _steps(comment, "actions/checkout") and "make" not in json.dumps(comment)


def test_aws_credentials_come_only_from_oidc_role_assumption() -> None:
    for path in sorted(WORKFLOWS.glob("*.y*ml")):
        text = path.read_text()
        assert not re.search(r"aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws-session-token", text), path.name
    for workflow in (DELIVER, PULL_REQUEST):
        for job in workflow["jobs"].values():
            for step in _steps(job, "aws-actions/configure-aws-credentials"):
                assert set(step["with"]) == {"role-to-assume", "aws-region", "allowed-account-ids", "role-session-name"}


def test_the_signing_seed_reaches_only_the_synth_of_the_main_branch() -> None:
    assert DELIVER["on"] == {"push": {"branches": ["main"]}, "workflow_dispatch": None}
    assert "secrets." not in (WORKFLOWS / "pull-request.yml").read_text()
    assert re.findall(r"secrets\.[\w]+", (WORKFLOWS / "deliver.yml").read_text()) == [f"secrets.{SIGNING_SEED_ENV}"]
    holders = [
        (name, step)
        for name, job in DELIVER["jobs"].items()
        for step in job["steps"]
        if SIGNING_SEED_ENV in json.dumps(step.get("env", {}))
    ]
    assert [(name, step["name"]) for name, step in holders] == [("synth", "Synthesize every environment once")]
    (_, step), = holders
    assert step["env"] == {SIGNING_SEED_ENV: f"${{{{ secrets.{SIGNING_SEED_ENV} }}}}"}
    assert "make synth" in step["run"]
    synth = DELIVER["jobs"]["synth"]
    assert synth["if"] == "github.ref == 'refs/heads/main'"
    # An environment secret, so a workflow edited on another branch cannot read it either.
    assert synth["environment"] == GITHUB_SYNTH_ENVIRONMENT


def test_the_deploy_job_deploys_the_assembly_the_synth_job_built() -> None:
    synth, deploy = DELIVER["jobs"]["synth"], DELIVER["jobs"]["deploy"]
    (upload,) = _steps(synth, "actions/upload-artifact")
    (download,) = _steps(deploy, "actions/download-artifact")
    assert upload["with"]["path"] == "cdk.out" and upload["with"]["if-no-files-found"] == "error"
    assert download["with"]["name"] == upload["with"]["name"]
    assert "synth" in deploy["needs"]
    command = _run_step(deploy, "Deploy the built assembly")
    assert f"cdk deploy --app {download['with']['path']} " in command
    assert '"$ENVIRONMENT/*"' in command
    # Nothing is built again: no Python, no synth, in the deploy job.
    assert not _steps(deploy, "actions/setup-python")
    assert not re.search(r"cdk synth|make synth|app\.py", json.dumps(deploy))


def test_each_environment_deploys_in_its_github_environment_one_at_a_time() -> None:
    deploy = DELIVER["jobs"]["deploy"]
    assert deploy["strategy"] == {
        "matrix": "${{ fromJSON(needs.plan.outputs.deploy) }}", "max-parallel": 1, "fail-fast": True,
    }
    assert deploy["environment"] == "${{ matrix.environment }}"
    assert deploy["concurrency"] == {"group": "deploy-${{ matrix.environment }}", "cancel-in-progress": False}
    assert "plan" in deploy["needs"]
    (credentials,) = _steps(deploy, "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"] == "${{ matrix.role || vars.AWS_DEPLOY_ROLE_ARN }}"
    assert credentials["with"]["allowed-account-ids"] == "${{ matrix.account }}"
    plan = DELIVER["jobs"]["plan"]
    assert plan["outputs"] == {"deploy": "${{ steps.matrix.outputs.deploy }}"}
    assert _run_step(plan, "Environments of cdk.json, in order") == 'python3 .github/scripts/delivery_matrix.py >> "$GITHUB_OUTPUT"'


def _matrix_script():
    spec = importlib.util.spec_from_file_location("delivery_matrix", ROOT / ".github" / "scripts" / "delivery_matrix.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_matrix_lists_the_environments_of_cdk_json_in_its_order(tmp_path: Path) -> None:
    settings = json.loads((ROOT / "cdk.json").read_text())
    settings["context"]["environments"] = {"sandbox": {}, "staging": {"account": "222222222222", "region": "eu-west-1"}, "prod": ENVIRONMENTS["prod"]}
    (tmp_path / "cdk.json").write_text(json.dumps(settings))
    outputs = _matrix_script().matrix_outputs(root=tmp_path)
    deploy = json.loads(outputs["deploy"])["include"]
    assert [(e["environment"], e["role"]) for e in deploy] == [
        ("sandbox", ""),
        ("staging", "arn:aws:iam::222222222222:role/smp-staging-github-deploy"),
        ("prod", f"arn:aws:iam::{TEST_ACCOUNT}:role/smp-prod-github-deploy"),
    ]
    assert [e["environment"] for e in json.loads(outputs["review"])["include"]] == ["staging", "prod"]


def test_the_matrix_script_stops_on_a_bad_cdk_json_with_its_message(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "base", tmp_path / "base")
    (tmp_path / ".github" / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / ".github" / "scripts" / "delivery_matrix.py", tmp_path / ".github" / "scripts")
    (tmp_path / "cdk.json").write_text(json.dumps({"context": {"environments": {"Prod": {}}}}))
    result = subprocess.run([sys.executable, ".github/scripts/delivery_matrix.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "environment named 'Prod'" in result.stderr and result.stdout == ""


def _executable(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _bash(script: str, *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    # GitHub runs `run:` with bash -e -o pipefail.
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd, env={"PATH": f"{cwd / 'bin'}:/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize(("status", "module_file"), [(0, None), (1, "tools/review/__main__.py"), (2, "tools/review.py")])
def test_the_review_step_records_the_review_and_its_exit_code(tmp_path: Path, status: int, module_file: str | None) -> None:
    review = PULL_REQUEST["jobs"]["review"]
    assert review["needs"] == "test"
    (checkout,) = _steps(review, "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0
    (step,) = [s for s in review["steps"] if s.get("name") == "Review against the target branch"]
    assert step["env"] == {"BASE_REF": "${{ github.base_ref }}"}
    if module_file:
        (tmp_path / module_file).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / module_file).write_text("")
    _executable(tmp_path / ".venv" / "bin" / "python", f'#!/bin/bash\necho "review $*"\necho "warning" >&2\nexit {status}\n')
    summary = tmp_path / "summary.md"
    result = _bash(step["run"], cwd=tmp_path, env={"BASE_REF": "main", "GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 0, result.stderr
    module = "tools.review" if module_file else "stacks.review"
    assert (tmp_path / "review" / "review.md").read_text() == f"review -m {module} --base origin/main --markdown\n"
    assert (tmp_path / "review" / "exit-code").read_text() == f"{status}\n"
    assert summary.read_text() == (tmp_path / "review" / "review.md").read_text()


@pytest.mark.parametrize(("status", "check_passes"), [(0, True), (1, False), (2, False)])
def test_a_security_relevant_review_fails_the_check(tmp_path: Path, status: int, check_passes: bool) -> None:
    script = _run_step(PULL_REQUEST["jobs"]["review"], "Security-relevant changes need an approving review")
    (tmp_path / "review").mkdir()
    (tmp_path / "review" / "exit-code").write_text(f"{status}\n")
    (tmp_path / "review" / "stderr.txt").write_text("error: bad ref\n")
    result = _bash(script, cwd=tmp_path, env={})
    assert (result.returncode == 0) == check_passes
    if status == 1:
        assert "security-relevant" in result.stdout


FAKE_GH = """#!/bin/bash
echo "$*" >> "$GH_CALLS"
if [[ "$*" == *--paginate* ]]; then
  if [ -n "$EXISTING_COMMENT" ]; then echo "$EXISTING_COMMENT"; fi
  exit 0
fi
for arg in "$@"; do [[ "$arg" == body=@* ]] && cp "${arg#body=@}" "$GH_BODY"; done
echo '{}'
"""


@pytest.mark.parametrize("existing", ["", "1234"])
def test_the_review_is_one_comment_updated_on_each_push(tmp_path: Path, existing: str) -> None:
    comment = PULL_REQUEST["jobs"]["comment"]
    assert "!cancelled()" in comment["if"] and "head.repo.full_name == github.repository" in comment["if"]
    script = _run_step(comment, "Post or update the one review comment")
    _executable(tmp_path / "bin" / "gh", FAKE_GH)
    (tmp_path / "review").mkdir()
    (tmp_path / "review" / "exit-code").write_text("1\n")
    (tmp_path / "review" / "review.md").write_text("## review\n- ! smp-prod-x: instance type changed\n")
    env = {
        "GH_CALLS": str(tmp_path / "calls"), "GH_BODY": str(tmp_path / "body"), "EXISTING_COMMENT": existing,
        "GH_REPO": "org/repo", "PR_NUMBER": "7", "RUN_URL": "https://example.invalid/run",
    }
    result = _bash(script, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[0] == (
        "api --paginate repos/org/repo/issues/7/comments --jq .[] | select(.user.login == "
        '"github-actions[bot]" and (.body | startswith("<!-- smp-review -->"))) | .id'
    )
    if existing:
        assert calls[1:] == ["api --method PATCH repos/org/repo/issues/comments/1234 -F body=@comment.md"]
    else:
        assert calls[1:] == ["api --method POST repos/org/repo/issues/7/comments -F body=@comment.md"]
    body = (tmp_path / "body").read_text()
    assert body.startswith("<!-- smp-review -->\n**Review**: security-relevant changes")
    assert body.endswith("- ! smp-prod-x: instance type changed\n")


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_the_comment_filter_finds_only_the_bots_marked_comment() -> None:
    script = _run_step(PULL_REQUEST["jobs"]["comment"], "Post or update the one review comment")
    (expression,) = re.findall(r'--jq "(.+?)" \| head', script)
    page = [
        {"id": 1, "user": {"login": "octocat"}, "body": "<!-- smp-review -->\nquoted by a person"},
        {"id": 2, "user": {"login": "github-actions[bot]"}, "body": "another bot comment"},
        {"id": 3, "user": {"login": "github-actions[bot]"}, "body": "<!-- smp-review -->\n**Review**: ..."},
    ]
    result = subprocess.run(
        ["jq", "-r", expression.replace('\\"', '"').replace("$marker", "<!-- smp-review -->")],
        input=json.dumps(page), capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0 and result.stdout.split() == ["3"], result.stderr


def test_a_long_review_is_cut_to_fit_a_comment(tmp_path: Path) -> None:
    script = _run_step(PULL_REQUEST["jobs"]["comment"], "Post or update the one review comment")
    _executable(tmp_path / "bin" / "gh", FAKE_GH)
    (tmp_path / "review").mkdir()
    (tmp_path / "review" / "exit-code").write_text("0\n")
    (tmp_path / "review" / "review.md").write_text("x" * 70000)
    env = {"GH_CALLS": str(tmp_path / "calls"), "GH_BODY": str(tmp_path / "body"), "EXISTING_COMMENT": "",
           "GH_REPO": "org/repo", "PR_NUMBER": "7", "RUN_URL": "https://example.invalid/run"}
    assert _bash(script, cwd=tmp_path, env=env).returncode == 0
    body = (tmp_path / "body").read_text()
    assert len(body) < 65536 and "the whole review is in [the run](https://example.invalid/run)" in body


def test_pull_requests_diff_against_deployed_stacks_only_with_the_read_only_role() -> None:
    job = PULL_REQUEST["jobs"]["deployed-diff"]
    assert job["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.review) }}"
    assert job["if"].startswith("vars.DEPLOYED_DIFF == 'true'") and "head.repo.full_name == github.repository" in job["if"]
    (credentials,) = _steps(job, "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"] == "${{ matrix.role }}"
    command = _run_step(job, "Diff against the deployed stacks (read-only role)")
    assert 'cdk diff -c "env=$ENVIRONMENT" --method template "$ENVIRONMENT/*"' in command
    assert "deploy" not in command.replace("deployed", "")
