"""Deployed SageMaker pipelines of one environment compared with its synthesized app.

    python -m tools.drift --env prod [--assembly cdk.out] [--debug]

CloudFormation's drift detection does not look inside custom resources, so a pipeline edited in the
console or with the CLI goes unnoticed until the next deploy overwrites it. This command lists the
environment's pipelines (ListPipelines under ``smp-<env>-``), reads each one (DescribePipeline,
ListTags) and reports the ones changed outside CloudFormation, missing, or unmanaged (no
``smp:managed-by`` tag). Each pipeline is compared with its own stack (its role, its owner tag); one
still managed by a stack the app moves it from (``AdoptFrom``, e.g. the shared ``smp-<env>-pipelines``)
is reported apart, as a move not deployed yet. Exit codes follow ``base.errors.ExitCode``: 0 no
drift, 1 drift or a move not deployed, 2 bad input, 4 no credentials or an AWS error.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from base.config import EnvironmentConfig, project_environments
from base.errors import ExitCode, UnavailableError, UserError
from base.naming import MANAGED_BY_TAG
from tools.drift_assembly import SynthesizedPipeline, read_pipelines
from tools.drift_compare import PlaceholderValues, compare_pipeline, conflicting_values, pseudo_parameters
from tools.drift_report import DriftReport, PendingMove, render_report

MAX_WORKERS = 8
"""Pipelines read at once, so 500 take seconds rather than minutes; throttled calls are retried (adaptive mode)."""


@dataclass(frozen=True)
class DeployedPipeline:
    """One pipeline as the account has it."""

    name: str
    arn: str
    description: dict[str, Any]
    tags: dict[str, str]


def _aws(*, operation: str, what: str = "", call: Callable[..., Any], **parameters: Any) -> Any:
    """One API call; a refusal becomes an :class:`UnavailableError` naming the call and the cause."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    label = f"{operation} {what}".rstrip()
    try:
        return call(**parameters)
    except NoCredentialsError:
        raise UnavailableError(
            f"no AWS credentials found for {operation}: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) for the environment's account"
        ) from None
    except NoRegionError:
        raise UnavailableError("no AWS region: the environment sets none, so set AWS_REGION") from None
    except ClientError as error:
        details = error.response.get("Error", {})
        raise UnavailableError(f"AWS refused {label}: {details.get('Code')}: {details.get('Message')}") from error
    except BotoCoreError as error:
        raise UnavailableError(f"{label} failed: {error}") from error


def verify_account(*, sts: Any, account: str, environment: str) -> None:
    """Refuse credentials of another account: every pipeline would otherwise read as missing."""
    caller = _aws(operation="GetCallerIdentity", call=sts.get_caller_identity)["Account"]
    if caller != account:
        raise UnavailableError(
            f"the AWS credentials are for account {caller}, but environment {environment} deploys to {account}: use credentials of {account}"
        )


def list_pipelines(*, sagemaker: Any, prefix: str) -> dict[str, str]:
    """Name → ARN of every pipeline whose name starts with ``prefix``, all pages."""
    found: dict[str, str] = {}
    request: dict[str, Any] = {"PipelineNamePrefix": prefix, "MaxResults": 100}
    while True:
        page = _aws(operation="ListPipelines", what=f"with prefix {prefix}", call=sagemaker.list_pipelines, **request)
        for summary in page.get("PipelineSummaries", []):
            # Filtered here as well: a prefix filter that matches anywhere in the name must not widen the check.
            if summary["PipelineName"].startswith(prefix):
                found[summary["PipelineName"]] = summary["PipelineArn"]
        if not page.get("NextToken"):
            return found
        request["NextToken"] = page["NextToken"]


def _tags(*, sagemaker: Any, arn: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    request: dict[str, Any] = {"ResourceArn": arn}
    while True:
        page = _aws(operation="ListTags", what=f"of {arn}", call=sagemaker.list_tags, **request)
        tags.update({tag["Key"]: tag["Value"] for tag in page.get("Tags", [])})
        if not page.get("NextToken"):
            return tags
        request["NextToken"] = page["NextToken"]


def read_deployed(*, sagemaker: Any, name: str, arn: str, with_description: bool) -> DeployedPipeline:
    """Tags of a pipeline, and its description when the app has one to compare with."""
    description = {}
    if with_description:
        description = _aws(operation="DescribePipeline", what=f"of {name}", call=sagemaker.describe_pipeline, PipelineName=name)
    return DeployedPipeline(name=name, arn=arn, description=description, tags=_tags(sagemaker=sagemaker, arn=arn))


def _parsed_definition(*, deployed: DeployedPipeline) -> Any:
    try:
        return json.loads(deployed.description.get("PipelineDefinition") or "null")
    except ValueError:
        return deployed.description.get("PipelineDefinition")


def check_drift(
    *, sagemaker: Any, synthesized: Sequence[SynthesizedPipeline], prefix: str, max_workers: int = MAX_WORKERS
) -> DriftReport:
    """Compare the account's pipelines under ``prefix`` with ``synthesized``."""
    expected = {pipeline.name: pipeline for pipeline in synthesized}
    listed = list_pipelines(sagemaker=sagemaker, prefix=prefix)
    report = DriftReport(missing=sorted(name for name in expected if name not in listed))
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        deployed = list(
            pool.map(
                lambda item: read_deployed(sagemaker=sagemaker, name=item[0], arn=item[1], with_description=item[0] in expected),
                sorted(listed.items()),
            )
        )
    seen: dict[str, dict[str, tuple[str, str]]] = {}
    for live in deployed:
        pipeline = expected.get(live.name)
        if pipeline is None:
            (report.retained if MANAGED_BY_TAG in live.tags else report.unmanaged).append(live.name)
            continue
        owner = live.tags.get(MANAGED_BY_TAG)
        tags = pipeline.tags
        if owner != pipeline.stack_name and owner in pipeline.adopt_from:
            # Not drift: the deploy that moves the pipeline to its own stack has not run yet.
            report.awaiting_move[live.name] = PendingMove(owner=owner, stack=pipeline.stack_name)
            tags = {**tags, MANAGED_BY_TAG: owner}
        values = PlaceholderValues(variables=pipeline.variables, pseudo=pseudo_parameters(arn=live.arn))
        differences = compare_pipeline(
            definition=pipeline.definition,
            settings=pipeline.settings,
            tags=tags,
            deployed_definition=_parsed_definition(deployed=live),
            deployed_settings=live.description,
            deployed_tags=live.tags,
            values=values,
        )
        seen[live.name] = values.seen
        if differences:
            report.changed[live.name] = differences
    for name, conflicts in conflicting_values(seen=seen).items():
        report.changed.setdefault(name, []).extend(conflicts)
    for name, move in report.awaiting_move.items():
        move.differences.extend(report.changed.pop(name, []))
    report.changed = dict(sorted(report.changed.items()))
    report.awaiting_move = dict(sorted(report.awaiting_move.items()))
    report.in_sync = [name for name in sorted(listed) if name in expected and name not in report.changed and name not in report.awaiting_move]
    return report


# --- command ------------------------------------------------------------------------------------


def _environment(*, name: str, environments: Mapping[str, EnvironmentConfig]) -> EnvironmentConfig:
    if name in environments:
        return environments[name]
    close = difflib.get_close_matches(name, list(environments), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UserError(f"--env {name!r} is not an environment of cdk.json{hint}: expected one of {sorted(environments)}")


def _clients(*, config: EnvironmentConfig) -> tuple[Any, Any]:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import NoRegionError

    retries = Config(retries={"mode": "adaptive", "max_attempts": 10}, user_agent_extra="smp-drift")
    session = boto3.session.Session(region_name=config.region) if config.region else boto3.session.Session()
    try:
        return session.client("sagemaker", config=retries), session.client("sts", config=retries)
    except NoRegionError:
        raise UnavailableError(f"no AWS region: environment {config.name} sets none, so set AWS_REGION") from None


def main(
    argv: Sequence[str] | None = None,
    *,
    environments: Mapping[str, EnvironmentConfig] | None = None,
    sagemaker: Any = None,
    sts: Any = None,
) -> int:
    """The command; ``environments`` and the clients default to ``cdk.json``'s and the caller's credentials."""
    parser = argparse.ArgumentParser(prog="python -m tools.drift", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True, help="environment name from cdk.json, e.g. prod")
    parser.add_argument("--assembly", type=Path, default=Path("cdk.out"), help="synthesized cdk.out (default: cdk.out)")
    parser.add_argument("--debug", action="store_true", help="print the traceback of an error")
    args = parser.parse_args(argv)
    try:
        config = _environment(name=args.env, environments=project_environments() if environments is None else environments)
        synthesized = read_pipelines(assembly=args.assembly, environment=config.name)
        if sagemaker is None:
            sagemaker, sts = _clients(config=config)
        if config.account is not None:
            verify_account(sts=sts, account=config.account, environment=config.name)
        prefix = f"{config.resource_prefix}-"
        report = check_drift(sagemaker=sagemaker, synthesized=synthesized, prefix=prefix)
    except UserError as error:
        if args.debug:
            traceback.print_exc()
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    sys.stdout.write(render_report(report=report, environment=config.name, prefix=prefix))
    return ExitCode.ATTENTION if report.drifted or report.awaiting_move else ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
