"""Delivery settings read from ``cdk.json`` context, and the names the delivery stacks and workflows share.

Two context keys, both off by default so ``make synth`` is unchanged until a team opts in:
``delivery`` (``none``, ``github-bootstrap`` or ``codepipeline``; ``-c delivery=...`` on the command
line) and ``deliverySettings`` (the repository and, for CodePipeline, where the pipeline lives).
No CDK here: the bootstrap stack, the CDK Pipelines stack and the workflows' matrix script read the same
names from this module, so a role the stack creates is the role the workflow assumes.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from base.config import _ACCOUNT, _REGION, ConfigError, EnvironmentConfig, load_environments
from base.naming import APP_NAME

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
"""Issuer of GitHub Actions OIDC tokens; the IAM provider's URL and the prefix of its condition keys."""
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
"""Audience aws-actions/configure-aws-credentials requests."""
CDK_BOOTSTRAP_QUALIFIER = "hnb659fds"
"""The CDK bootstrap's default qualifier: its roles are ``cdk-<qualifier>-<kind>-role-<account>-<region>``."""
GITHUB_SYNTH_ENVIRONMENT = "synth"
"""GitHub environment holding the signing seed, its deployment branches limited to the main branch."""

_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_BRANCH = re.compile(r"^(?!/)(?!.*//)(?!.*\.\.)(?!.*/$)[A-Za-z0-9._/-]{1,200}$")
_CONNECTION_ARN = re.compile(r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$")
_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")


class DeliveryMode(enum.Enum):
    """What ``-c delivery=...`` adds to the app."""

    NONE = "none"
    GITHUB_BOOTSTRAP = "github-bootstrap"
    CODEPIPELINE = "codepipeline"


@dataclass(frozen=True)
class CodePipelineSettings:
    """Where the CDK Pipelines alternative runs and what it reads."""

    account: str
    region: str
    connection_arn: str
    signing_seed_secret: str


@dataclass(frozen=True)
class DeliverySettings:
    """``delivery`` and ``deliverySettings``, validated."""

    mode: DeliveryMode = DeliveryMode.NONE
    repository: str | None = None
    main_branch: str = "main"
    code_pipeline: CodePipelineSettings | None = None
    deploy_order: tuple[str, ...] = ()
    """Environment names in the order ``cdk.json`` lists them: every delivery deploys them in this order."""


def deploy_role_name(*, environment: str) -> str:
    """The role an environment's deploy job assumes, e.g. ``smp-prod-github-deploy``."""
    return f"{APP_NAME}-{environment}-github-deploy"


REVIEW_ROLE_NAME = f"{APP_NAME}-github-review"
"""The read-only role a pull request's ``cdk diff`` assumes (one per account)."""


def bootstrap_role_pattern(*, account: str, region: str) -> str:
    """Names of the CDK bootstrap roles of one account and region (deploy, file and image publishing, lookup)."""
    return f"cdk-{CDK_BOOTSTRAP_QUALIFIER}-*-{account}-{region}"


def deploy_subject(*, repository: str, environment: str, branch: str) -> str:
    """OIDC subject of a job of ``repository`` in GitHub environment ``environment`` on ``branch``.

    GitHub's default subject of a job with ``environment:`` names the environment but not the
    branch; with the repository's subject template set to the claims ``repo``, ``context`` and
    ``ref`` (once, see the README) it names both, so one trust condition pins both.
    """
    return f"repo:{repository}:environment:{environment}:ref:refs/heads/{branch}"


def pull_request_subject(*, repository: str) -> str:
    """OIDC subject (a ``StringLike`` pattern) of any pull-request job of ``repository``."""
    return f"repo:{repository}:pull_request:ref:refs/pull/*/merge"


def _where(key: str) -> str:
    return f"context 'deliverySettings.{key}'"


def _string(raw: Mapping[str, Any], key: str, pattern: re.Pattern[str], what: str, *, prefix: str = "") -> str:
    value = raw[key]
    if not isinstance(value, str) or not pattern.match(value):
        raise ConfigError(f"{_where(prefix + key)} is {value!r}: expected {what}")
    return value


def _check_keys(
    raw: Any, *, where: str, allowed: Sequence[str], required: Sequence[str], needed_by: str = "all"
) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} is {raw!r}: expected an object with keys {sorted(allowed)}")
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise ConfigError(f"{where} has unknown key {unknown[0]!r}: allowed keys are {sorted(allowed)}")
    missing = [key for key in required if key not in raw]
    if missing:
        raise ConfigError(f"{where} lacks {missing[0]!r}: {needed_by} of {sorted(required)} are required")
    return raw


def _parse_code_pipeline(raw: Any) -> CodePipelineSettings:
    keys = ("account", "region", "connectionArn", "signingSeedSecret")
    raw = _check_keys(raw, where=_where("codePipeline"), allowed=keys, required=keys)
    return CodePipelineSettings(
        account=_string(raw, "account", _ACCOUNT, "a 12-digit AWS account id as a string", prefix="codePipeline."),
        region=_string(raw, "region", _REGION, "an AWS region name like 'eu-west-1'", prefix="codePipeline."),
        connection_arn=_string(
            raw, "connectionArn", _CONNECTION_ARN,
            "a CodeConnections connection ARN like 'arn:aws:codeconnections:eu-west-1:222222222222:connection/<uuid>'",
            prefix="codePipeline.",
        ),
        signing_seed_secret=_string(
            raw, "signingSeedSecret", _SECRET_NAME, "a Secrets Manager secret name like 'smp/signing-seed'", prefix="codePipeline."
        ),
    )


def parse_delivery(*, mode: Any, settings: Any, environments: Any) -> DeliverySettings:
    """Validate the ``delivery`` and ``deliverySettings`` context values; what a mode needs is required then.

    ``environments`` is the raw ``environments`` context value, read only for the order of its names.
    """
    allowed_modes = [m.value for m in DeliveryMode]
    if mode is None:
        mode = DeliveryMode.NONE.value
    if mode not in allowed_modes:
        raise ConfigError(f"context 'delivery' is {mode!r}: expected one of {allowed_modes}")
    chosen = DeliveryMode(mode)
    raw = _check_keys(
        {} if settings is None else settings,
        where="context 'deliverySettings'",
        allowed=("repository", "mainBranch", "codePipeline"),
        required=("repository",) if chosen is not DeliveryMode.NONE else (),
        needed_by=f"with -c delivery={chosen.value}, all",
    )
    if chosen is DeliveryMode.CODEPIPELINE and "codePipeline" not in raw:
        raise ConfigError(
            "context 'deliverySettings' lacks 'codePipeline', which -c delivery=codepipeline needs: "
            "an object with account, region, connectionArn and signingSeedSecret"
        )
    return DeliverySettings(
        mode=chosen,
        repository=_string(raw, "repository", _REPOSITORY, "a GitHub repository as 'owner/name'") if "repository" in raw else None,
        main_branch=_string(raw, "mainBranch", _BRANCH, "a branch name like 'main' (no wildcards)") if "mainBranch" in raw else "main",
        code_pipeline=_parse_code_pipeline(raw["codePipeline"]) if "codePipeline" in raw else None,
        deploy_order=tuple(environments) if isinstance(environments, Mapping) else (),
    )


def in_deploy_order(*, environments: Sequence[EnvironmentConfig], order: Sequence[str]) -> list[EnvironmentConfig]:
    """``environments`` sorted by their position in ``order`` (names not in it keep their place, last)."""
    position = {name: index for index, name in enumerate(order)}
    return sorted(environments, key=lambda config: position.get(config.name, len(position)))


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def deploy_targets(*, context: Mapping[str, Any]) -> list[dict[str, str]]:
    """One entry per environment of ``context``, in ``cdk.json`` order: what its deploy job assumes, and where.

    An env-agnostic environment names no account, so its role and region are left empty for the
    GitHub environment's own variables to fill.
    """
    raw = context.get("environments")
    configs = in_deploy_order(environments=list(load_environments(context).values()), order=list(raw) if isinstance(raw, Mapping) else [])
    return [
        {
            "environment": config.name,
            "account": config.account or "",
            "region": config.region or "",
            "role": "" if config.is_env_agnostic
            else f"arn:{_partition(config.region)}:iam::{config.account}:role/{deploy_role_name(environment=config.name)}",
        }
        for config in configs
    ]


def review_targets(*, context: Mapping[str, Any]) -> list[dict[str, str]]:
    """The environments with an account, each with the review role a pull request's ``cdk diff`` assumes there."""
    return [
        {**target, "role": f"arn:{_partition(target['region'])}:iam::{target['account']}:role/{REVIEW_ROLE_NAME}"}
        for target in deploy_targets(context=context)
        if target["account"]
    ]


def check_pipeline_regions(*, settings: CodePipelineSettings, environments: Sequence[EnvironmentConfig]) -> None:
    """Refuse an environment outside the pipeline's region: CDK Pipelines would add a replication stack per region."""
    for config in environments:
        if config.region is not None and config.region != settings.region:
            raise ConfigError(
                f"context 'environments.{config.name}.region' is {config.region!r}: with -c delivery=codepipeline every "
                f"environment must be in the pipeline's region 'deliverySettings.codePipeline.region' ({settings.region!r}); "
                "deploy other regions with the GitHub workflows or a pipeline of their own"
            )
