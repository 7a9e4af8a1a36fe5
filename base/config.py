"""Typed environment settings read from ``cdk.json`` context.

Kept free of ``aws_cdk`` imports so the pipeline compiler and tests can read the same settings
without loading CDK. Every bad value stops synth with one message naming the key, the value and
what is allowed, because a silently defaulted guardrail is worse than a failed synth.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import re
import sys
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from base.errors import UserError, nearest_name_hint
from base.expiry import expiry_problem, owner_problem
from base.images import PINNED_FORM, parse_ecr_image
from base.naming import APP_NAME, PIPELINE_NAME_PATTERN

DEFAULT_ENVIRONMENT = "sandbox"
DEFAULT_MAX_JOB_RUNTIME_HOURS = 24
"""The longest run time a job may request unless an environment sets ``maxJobRuntimeHours``: SageMaker's own default."""

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_ENV_NAME_MAX_LENGTH = 12
_ENV_NAME = re.compile(r"^[a-z][a-z0-9]{0,%d}$" % (_ENV_NAME_MAX_LENGTH - 1))
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_TAG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.:/=+@-]{0,127}$")
_TAG_VALUE = re.compile(r"^[A-Za-z0-9 _.:/=+@-]{1,256}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_SG_ID = re.compile(r"^sg-[0-9a-f]{8,17}$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_REMOVAL_POLICIES = ("retain", "destroy")
ENV_AGNOSTIC_ZONES = 2
"""Availability zones CDK gives a VPC in an env-agnostic stack (it cannot look any up)."""


class ConfigError(UserError, ValueError):
    """A context value that cannot be used; the message names key, value and what is allowed."""


@dataclass(frozen=True)
class ExistingVpc:
    """A VPC the platform does not own: ids given in context, never looked up at synth."""

    vpc_id: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    availability_zones: tuple[str, ...]


@dataclass(frozen=True)
class IsolationExemptionSetting:
    """A pipeline whose jobs the environment lets run without network isolation, who answers for it, until when."""

    pipeline: str
    """Full pipeline name, ``smp-<env>-<name>``."""
    reason: str
    owner: str
    expires: str
    """Last day it holds (``YYYY-MM-DD``, UTC); synth refuses it from the next day."""


@dataclass(frozen=True)
class ScheduleOverride:
    """An environment's change to one schedule a pipeline module declares (None: keep the module's)."""

    pipeline: str
    schedule: str
    enabled: bool | None = None
    expression: str | None = None
    timezone: str | None = None
    parameter_values: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class EnvironmentConfig:
    """Everything one environment's stage needs, validated."""

    name: str
    account: str | None = None
    region: str | None = None
    vpc_cidr: str = "10.42.0.0/16"
    max_azs: int = 2
    allowed_instance_types: tuple[str, ...] = (
        "ml.t3.medium",
        "ml.m5.large",
        "ml.m5.xlarge",
        "ml.m5.2xlarge",
        "ml.c5.xlarge",
        "ml.c5.2xlarge",
    )
    cost_tag_key: str = "CostCenter"
    cost_tag_value: str = "ml-platform"
    schedules_enabled: bool = False
    removal_policy: str = "destroy"
    notification_emails: tuple[str, ...] = ()
    existing_vpc: ExistingVpc | None = None
    network_isolation_exemptions: tuple[IsolationExemptionSetting, ...] = field(default=())
    schedule_overrides: tuple[ScheduleOverride, ...] = field(default=())
    step_image_uri: str | None = None
    max_job_runtime_hours: int = DEFAULT_MAX_JOB_RUNTIME_HOURS
    """Longest run time a job may request (sagemaker:MaxRuntimeInSeconds); SageMaker's own default is one day."""

    @property
    def is_env_agnostic(self) -> bool:
        return self.account is None and self.region is None

    @property
    def resource_prefix(self) -> str:
        """Prefix of this environment's physical names, e.g. ``smp-prod``."""
        return f"{APP_NAME}-{self.name}"


def _where(env: str, key: str) -> str:
    return f"context 'environments.{env}.{key}'"


def _expect_type(env: str, key: str, value: Any, kind: type | tuple[type, ...], what: str) -> None:
    if value is None:
        raise ConfigError(f"{_where(env, key)} is null: expected {what} (remove the key to use its default)")
    # bool is an int in Python; a JSON true is never a valid number here.
    if isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"{_where(env, key)} is {value!r}: expected {what}")
    if not isinstance(value, kind):
        raise ConfigError(f"{_where(env, key)} is {value!r} ({type(value).__name__}): expected {what}")


def _string_list(env: str, key: str, value: Any, pattern: re.Pattern[str], what: str) -> tuple[str, ...]:
    _expect_type(env, key, value, list, f"a list of {what}")
    for item in value:
        if not isinstance(item, str) or not pattern.match(item):
            raise ConfigError(f"{_where(env, key)} contains {item!r}: expected {what}")
    if len(set(value)) != len(value):
        raise ConfigError(f"{_where(env, key)} is {value!r}: entries must be unique")
    return tuple(value)


def _parse_existing_vpc(env: str, raw: Any) -> ExistingVpc:
    key = "existingVpc"
    _expect_type(env, key, raw, dict, "an object with vpcId, subnetIds, securityGroupIds, availabilityZones")
    allowed = {"vpcId", "subnetIds", "securityGroupIds", "availabilityZones"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"{_where(env, key)} has unknown key {unknown[0]!r}{nearest_name_hint(unknown[0], allowed)}: allowed keys are {sorted(allowed)}")
    missing = sorted(allowed - set(raw))
    if missing:
        raise ConfigError(f"{_where(env, key)} lacks {missing[0]!r}: all of {sorted(allowed)} are required")
    vpc_id = raw["vpcId"]
    if not isinstance(vpc_id, str) or not _VPC_ID.match(vpc_id):
        raise ConfigError(f"{_where(env, key + '.vpcId')} is {vpc_id!r}: expected an id like 'vpc-0123456789abcdef0'")
    subnets = _string_list(env, key + ".subnetIds", raw["subnetIds"], _SUBNET_ID, "subnet ids like 'subnet-0123abcd'")
    groups = _string_list(env, key + ".securityGroupIds", raw["securityGroupIds"], _SG_ID, "security group ids like 'sg-0123abcd'")
    azs = _string_list(env, key + ".availabilityZones", raw["availabilityZones"], re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$"), "availability zone names like 'eu-west-1a'")
    if len(subnets) < 2:
        raise ConfigError(f"{_where(env, key + '.subnetIds')} is {list(subnets)!r}: at least 2 subnets in different AZs are required")
    if len(azs) != len(subnets):
        raise ConfigError(f"{_where(env, key + '.availabilityZones')} is {list(azs)!r}: give one AZ per subnet ({len(subnets)})")
    if not groups:
        raise ConfigError(f"{_where(env, key + '.securityGroupIds')} is empty: at least 1 security group is required")
    return ExistingVpc(vpc_id=vpc_id, subnet_ids=subnets, security_group_ids=groups, availability_zones=azs)


_EXEMPTION_KEYS = ("pipeline", "reason", "owner", "expires")
_EXEMPTION_EXAMPLE = '{"pipeline": "smp-<env>-<name>", "reason": "why", "owner": "team or contact", "expires": "YYYY-MM-DD"}'


def _parse_isolation_exemptions(env: str, raw: Any) -> tuple[IsolationExemptionSetting, ...]:
    """``networkIsolationExemptions``: objects naming the pipeline, the reason, the owner and the last day."""
    key = "networkIsolationExemptions"
    _expect_type(env, key, raw, list, f"a list of objects like {_EXEMPTION_EXAMPLE}")
    entries = []
    for index, entry in enumerate(raw):
        where = f"{key}[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{_where(env, where)} is {entry!r}: expected an object like {_EXEMPTION_EXAMPLE}")
        unknown = sorted(set(entry) - set(_EXEMPTION_KEYS))
        if unknown:
            raise ConfigError(f"{_where(env, where + '.' + unknown[0])} is not a known key{nearest_name_hint(unknown[0], _EXEMPTION_KEYS)}: allowed keys are {list(_EXEMPTION_KEYS)}")
        missing = [name for name in _EXEMPTION_KEYS if name not in entry]
        if missing:
            raise ConfigError(f"{_where(env, where)} lacks {missing[0]!r}: every exemption needs {list(_EXEMPTION_KEYS)}, e.g. {_EXEMPTION_EXAMPLE}")
        pipeline, reason = entry["pipeline"], entry["reason"]
        if not isinstance(pipeline, str) or not PIPELINE_NAME_PATTERN.match(pipeline):
            raise ConfigError(f"{_where(env, where + '.pipeline')} is {pipeline!r}: expected a full pipeline name (letters, digits, hyphens) like 'smp-{env}-batch-inference'")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{_where(env, where + '.reason')} is {reason!r}: expected why the pipeline's jobs need to run without network isolation")
        for name, problem in (("owner", owner_problem(entry["owner"])), ("expires", expiry_problem(entry["expires"]))):
            if problem:
                raise ConfigError(f"{_where(env, where + '.' + name)} {problem}")
        entries.append(IsolationExemptionSetting(pipeline=pipeline, reason=reason, owner=entry["owner"], expires=entry["expires"]))
    pipelines = [e.pipeline for e in entries]
    repeated = sorted({p for p in pipelines if pipelines.count(p) > 1})
    if repeated:
        raise ConfigError(f"{_where(env, key)} names {repeated[0]!r} twice: give each pipeline one exemption")
    return tuple(entries)


_OVERRIDE_KEYS = {"enabled": bool, "expression": str, "timezone": str, "parameterValues": dict}


def _parse_schedule_overrides(env: str, raw: Any) -> tuple[ScheduleOverride, ...]:
    key = "schedules"
    _expect_type(env, key, raw, dict, "an object: pipeline name → schedule name → overrides")
    overrides = []
    for pipeline, schedules in sorted(raw.items()):
        _expect_type(env, f"{key}.{pipeline}", schedules, dict, "an object: schedule name → overrides")
        for schedule, settings in sorted(schedules.items()):
            where = f"{key}.{pipeline}.{schedule}"
            _expect_type(env, where, settings, dict, f"an object with some of {sorted(_OVERRIDE_KEYS)}")
            for setting, value in settings.items():
                if setting not in _OVERRIDE_KEYS:
                    raise ConfigError(f"{_where(env, where + '.' + setting)} is not a known setting{nearest_name_hint(setting, _OVERRIDE_KEYS)}: allowed keys are {sorted(_OVERRIDE_KEYS)}")
                kind = _OVERRIDE_KEYS[setting]
                _expect_type(env, f"{where}.{setting}", value, kind, {bool: "true or false", str: "a string", dict: "an object of parameter values"}[kind])
            overrides.append(
                ScheduleOverride(
                    pipeline=pipeline,
                    schedule=schedule,
                    enabled=settings.get("enabled"),
                    expression=settings.get("expression"),
                    timezone=settings.get("timezone"),
                    parameter_values=settings.get("parameterValues"),
                )
            )
    return tuple(overrides)


def parse_environment(*, name: str, raw: Mapping[str, Any]) -> EnvironmentConfig:
    """Validate one environment's context object into an :class:`EnvironmentConfig`."""
    if not _ENV_NAME.match(name):
        too_long = f" is too long ({len(name)} characters)" if len(name) > _ENV_NAME_MAX_LENGTH else ""
        raise ConfigError(f"context 'environments' has an environment named {name!r}{too_long}: names are 1-{_ENV_NAME_MAX_LENGTH} lowercase letters or digits, starting with a letter")
    if raw is None:
        raise ConfigError(f"context 'environments.{name}' is null: expected an object of settings ({{}} for an env-agnostic environment with every default), or remove the environment")
    if not isinstance(raw, Mapping):
        raise ConfigError(f"context 'environments.{name}' is {raw!r}: expected an object of settings")
    keys = {
        "account": "account",
        "region": "region",
        "vpcCidr": "vpc_cidr",
        "maxAzs": "max_azs",
        "allowedInstanceTypes": "allowed_instance_types",
        "costTagKey": "cost_tag_key",
        "costTagValue": "cost_tag_value",
        "schedulesEnabled": "schedules_enabled",
        "removalPolicy": "removal_policy",
        "notificationEmails": "notification_emails",
        "existingVpc": "existing_vpc",
        "networkIsolationExemptions": "network_isolation_exemptions",
        "schedules": "schedule_overrides",
        "stepImageUri": "step_image_uri",
        "maxJobRuntimeHours": "max_job_runtime_hours",
    }
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        raise ConfigError(f"{_where(name, unknown[0])} is not a known setting{nearest_name_hint(unknown[0], keys)}: allowed keys are {sorted(keys)}")
    nulls = sorted(key for key, value in raw.items() if value is None)
    if nulls:
        raise ConfigError(f"{_where(name, nulls[0])} is null: remove the key to use its default, or give it a value")
    values: dict[str, Any] = {"name": name}
    for key, value in raw.items():
        values[keys[key]] = value

    account = values.get("account")
    if account is not None and (not isinstance(account, str) or not _ACCOUNT.match(account)):
        raise ConfigError(f"{_where(name, 'account')} is {account!r}: expected a 12-digit AWS account id as a string")
    region = values.get("region")
    if region is not None and (not isinstance(region, str) or not _REGION.match(region)):
        raise ConfigError(f"{_where(name, 'region')} is {region!r}: expected an AWS region name like 'eu-west-1'")
    if (account is None) != (region is None):
        raise ConfigError(f"context 'environments.{name}' sets only one of account and region: set both for an explicit environment, or neither for an env-agnostic one")
    if region is not None and region not in known_regions():
        raise ConfigError(
            f"{_where(name, 'region')} is {region!r}: not a region SageMaker is available in, as far as botocore "
            f"(under the SageMaker SDK) knows{nearest_name_hint(region, known_regions())}: expected one of {sorted(known_regions())}"
        )

    if "vpc_cidr" in values:
        cidr = values["vpc_cidr"]
        _expect_type(name, "vpcCidr", cidr, str, "an IPv4 CIDR like '10.42.0.0/16'")
        try:
            network = ipaddress.IPv4Network(cidr, strict=True)
        except ValueError as exc:
            raise ConfigError(f"{_where(name, 'vpcCidr')} is {cidr!r}: not an IPv4 CIDR ({exc})") from None
        if not 16 <= network.prefixlen <= 24:
            raise ConfigError(f"{_where(name, 'vpcCidr')} is {cidr!r}: the prefix length must be between /16 and /24")
        if not network.is_private:
            raise ConfigError(f"{_where(name, 'vpcCidr')} is {cidr!r}: expected a private (RFC 1918) range")

    if "max_azs" in values:
        _expect_type(name, "maxAzs", values["max_azs"], int, "an integer from 2 to 6")
        if not 2 <= values["max_azs"] <= 6:
            raise ConfigError(f"{_where(name, 'maxAzs')} is {values['max_azs']!r}: expected an integer from 2 to 6")

    if "allowed_instance_types" in values:
        types = _string_list(name, "allowedInstanceTypes", values["allowed_instance_types"], _INSTANCE_TYPE, "SageMaker instance types like 'ml.m5.xlarge'")
        if not types:
            raise ConfigError(f"{_where(name, 'allowedInstanceTypes')} is []: at least one instance type is required, or no job could ever run")
        values["allowed_instance_types"] = types

    for key, attr, pattern, what in (
        ("costTagKey", "cost_tag_key", _TAG_KEY, "a tag key (letters, digits and _.:/=+@-, at most 128, not starting with 'aws:')"),
        ("costTagValue", "cost_tag_value", _TAG_VALUE, "a non-empty tag value of at most 256 characters"),
    ):
        if attr in values:
            value = values[attr]
            if not isinstance(value, str) or not pattern.match(value) or value.lower().startswith("aws:"):
                raise ConfigError(f"{_where(name, key)} is {value!r}: expected {what}")

    if "max_job_runtime_hours" in values:
        _expect_type(name, "maxJobRuntimeHours", values["max_job_runtime_hours"], int, "an integer number of hours from 1 to 672 (28 days, SageMaker's longest)")
        if not 1 <= values["max_job_runtime_hours"] <= 672:
            raise ConfigError(f"{_where(name, 'maxJobRuntimeHours')} is {values['max_job_runtime_hours']!r}: expected an integer number of hours from 1 to 672 (28 days, SageMaker's longest)")

    if "schedules_enabled" in values:
        _expect_type(name, "schedulesEnabled", values["schedules_enabled"], bool, "true or false")

    if "removal_policy" in values and values["removal_policy"] not in _REMOVAL_POLICIES:
        raise ConfigError(f"{_where(name, 'removalPolicy')} is {values['removal_policy']!r}: expected one of {list(_REMOVAL_POLICIES)}")

    if "notification_emails" in values:
        values["notification_emails"] = _string_list(name, "notificationEmails", values["notification_emails"], _EMAIL, "email addresses")

    if "network_isolation_exemptions" in values:
        values["network_isolation_exemptions"] = _parse_isolation_exemptions(name, values["network_isolation_exemptions"])

    if "step_image_uri" in values:
        image = values["step_image_uri"]
        parsed = parse_ecr_image(image) if isinstance(image, str) else None
        if parsed is None:
            raise ConfigError(f"{_where(name, 'stepImageUri')} is {image!r}: expected an ECR image URI pinned by digest, {PINNED_FORM}")
        if not parsed.pinned:
            raise ConfigError(
                f"{_where(name, 'stepImageUri')} is {image!r}, named by tag {parsed.shown_tag}, which can be moved to another image: "
                f"expected it pinned by digest, {parsed.pinned_example} (`aws ecr describe-images` lists the digest)"
            )
        if region is not None and parsed.repository.region != region:
            raise ConfigError(
                f"{_where(name, 'stepImageUri')} is {image!r}, an image in {parsed.repository.region}: expected one in the "
                f"environment's region {region} (jobs pull it through the VPC endpoints of their own region)"
            )

    if "schedule_overrides" in values:
        values["schedule_overrides"] = _parse_schedule_overrides(name, values["schedule_overrides"])

    if "existing_vpc" in values:
        values["existing_vpc"] = _parse_existing_vpc(name, values["existing_vpc"])
        unused = sorted(key for key in ("vpcCidr", "maxAzs") if key in raw)
        if unused:
            raise ConfigError(f"{_where(name, unused[0])} is {raw[unused[0]]!r}, but existingVpc uses the given VPC as it is: remove {unused[0]!r}")

    return EnvironmentConfig(**values)


def load_environments(context: Mapping[str, Any]) -> dict[str, EnvironmentConfig]:
    """All environments in ``context['environments']``; a lone ``sandbox`` when none are given."""
    raw = context.get("environments")
    if raw is None and "environments" in context:
        raise ConfigError(f"context 'environments' is null: expected an object mapping environment names to settings (remove it for a lone {DEFAULT_ENVIRONMENT!r})")
    if raw is None:
        return {DEFAULT_ENVIRONMENT: EnvironmentConfig(name=DEFAULT_ENVIRONMENT)}
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(f"context 'environments' is {raw!r}: expected a non-empty object mapping environment names to settings")
    return {name: parse_environment(name=name, raw=settings) for name, settings in sorted(raw.items())}


def select_environments(*, environments: Mapping[str, EnvironmentConfig], selected: Any) -> list[EnvironmentConfig]:
    """The environments to synthesize: all of them, or the one named with ``-c env=NAME``."""
    if selected is None or selected == "":
        return [environments[name] for name in sorted(environments)]
    if not isinstance(selected, str) or selected not in environments:
        raise ConfigError(f"context 'env' is {selected!r}{nearest_name_hint(selected, environments)}: expected one of {sorted(environments)}")
    return [environments[selected]]


@functools.lru_cache(maxsize=None)
def known_regions() -> frozenset[str]:
    """Regions where botocore, which the SageMaker SDK builds its clients and image lookups on, knows SageMaker."""
    import botocore.session

    session = botocore.session.Session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("sagemaker", partition_name=partition)
    )


def availability_zones_key(*, account: str, region: str) -> str:
    """The ``cdk.context.json`` key CDK reads an account and region's availability zones from."""
    return f"availability-zones:account={account}:region={region}"


def check_availability_zones(*, environments: Sequence[EnvironmentConfig], context: Mapping[str, Any]) -> None:
    """Each environment's ``maxAzs`` fits the zones CDK will use, which synth must never look up.

    An explicit environment that builds its own VPC needs its zones committed in
    ``cdk.context.json`` (otherwise CDK records a failed lookup); CDK silently caps ``maxAzs`` at
    the zones it knows, and at two in an env-agnostic environment.
    """
    for config in environments:
        if config.existing_vpc is not None:
            continue
        if config.is_env_agnostic:
            if config.max_azs > ENV_AGNOSTIC_ZONES:
                raise ConfigError(
                    f"{_where(config.name, 'maxAzs')} is {config.max_azs}: an env-agnostic environment (no account "
                    f"and region) gets {ENV_AGNOSTIC_ZONES} availability zones; expected at most {ENV_AGNOSTIC_ZONES}, "
                    "or set account and region"
                )
            continue
        key = availability_zones_key(account=config.account, region=config.region)
        zones = context.get(key)
        if not isinstance(zones, list) or not zones or not all(isinstance(z, str) for z in zones):
            raise ConfigError(
                f"cdk.context.json has no entry {key!r} for environment {config.name} (or it is not a list of zone "
                f"names): commit it, e.g. \"{key}\": [\"{config.region}a\", \"{config.region}b\"] as "
                f"`aws ec2 describe-availability-zones --region {config.region}` lists them, so synth never looks them up"
            )
        if config.max_azs > len(zones):
            raise ConfigError(
                f"{_where(config.name, 'maxAzs')} is {config.max_azs}: cdk.context.json knows {len(zones)} availability "
                f"zones for account {config.account} region {config.region} ({', '.join(zones)}); expected at most {len(zones)}"
            )


# --- cdk.json: the one reader ----------------------------------------------------------------

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REPRODUCIBLE_OUTPUT = {"aws:cdk:disable-stack-trace": True, "aws:cdk:disable-creation-stack-traces": True}
"""Stack traces in assembly metadata name the jsii kernel's temporary directory: off, so output is byte-stable."""


def _unique_keys(path: Path) -> Any:
    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ConfigError(f"{path.name}: key {repeated[0]!r} appears twice in one object; JSON keeps only the last, so remove one")
        return dict(pairs)

    return pairs_hook


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_unique_keys(path))
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path.name} line {error.lineno} column {error.colno}: {error.msg}; expected valid JSON (no trailing commas or comments)") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path.name} byte {error.start}: not UTF-8 text; save it as UTF-8") from None


def project_context(*, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The context the CDK CLI would pass: its own settings, ``cdk.json``'s, then cached lookups."""
    settings = _read_json(root / "cdk.json")
    if not isinstance(settings, dict) or not isinstance(settings.get("context", {}), dict):
        raise ConfigError("cdk.json: expected an object whose 'context' is an object")
    context = {
        "aws:cdk:enable-path-metadata": True,
        "aws:cdk:enable-asset-metadata": True,
        "aws:cdk:version-reporting": settings.get("versionReporting", True),
        **settings.get("context", {}),
        **REPRODUCIBLE_OUTPUT,
    }
    cached = root / "cdk.context.json"
    if cached.exists():
        context.update(_read_json(cached))
    return context


def project_environments(*, root: Path = PROJECT_ROOT) -> dict[str, EnvironmentConfig]:
    """Every environment of the project's ``cdk.json``, validated."""
    return load_environments(project_context(root=root))


CLI_CONTEXT_VARIABLE = "CDK_CONTEXT_JSON"
"""How the CDK CLI hands an app its context (``cdk.json``, ``cdk.context.json``, ``-c`` values)."""


def synth_context(*, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The context synth's settings come from, read as plain JSON.

    Under the CDK CLI that is ``CDK_CONTEXT_JSON``, read here rather than through the CDK app:
    its bridge to Python drops null values, so ``"staging": null`` or ``"account": null`` would
    vanish instead of being reported. ``python app.py`` reads ``cdk.json`` itself.
    """
    text = os.environ.get(CLI_CONTEXT_VARIABLE)
    return project_context(root=root) if text is None else json.loads(text)


if __name__ == "__main__":
    # `make synth` runs this first (`python -m base.config [PROJECT_DIR]`): the CDK CLI parses cdk.json
    # before the app runs, reports a JSON mistake as a character offset only, and keeps the last of two
    # equal keys without a word.
    try:
        project_context(root=Path(sys.argv[1]) if len(sys.argv) > 1 else PROJECT_ROOT)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
