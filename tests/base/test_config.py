"""Environment settings from cdk.json context: defaults, and one clear message per bad value."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from base.config import (
    ConfigError,
    EnvironmentConfig,
    ExistingVpc,
    availability_zones_key,
    check_availability_zones,
    load_environments,
    parse_environment,
    project_context,
    select_environments,
)

ROOT = Path(__file__).resolve().parents[2]


def test_no_environments_gives_a_default_sandbox() -> None:
    environments = load_environments({})
    assert list(environments) == ["sandbox"]
    assert environments["sandbox"].is_env_agnostic
    assert environments["sandbox"].resource_prefix == "smp-sandbox"


def test_the_projects_cdk_json_validates_whatever_environments_it_names() -> None:
    """Whatever a user adds to cdk.json (the README's staging, say): it validates, AZs committed for each explicit one."""
    context = project_context(root=ROOT)
    environments = load_environments(context)
    assert environments
    check_availability_zones(environments=list(environments.values()), context=context)


def test_existing_vpc_is_parsed_without_lookup() -> None:
    config = parse_environment(
        name="shared",
        raw={
            "existingVpc": {
                "vpcId": "vpc-0123456789abcdef0",
                "subnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
                "securityGroupIds": ["sg-0bbbbbbbbbbbbbbb1"],
                "availabilityZones": ["eu-west-1a", "eu-west-1b"],
            }
        },
    )
    assert config.existing_vpc is not None
    assert config.existing_vpc.subnet_ids == ("subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2")


BAD_ENVIRONMENTS = [
    ({"vpcCird": "10.0.0.0/16"}, "environments.dev.vpcCird", "allowed keys"),
    ({"stepImageUri": "pytorch:latest"}, "environments.dev.stepImageUri", "an ECR image URI"),
    (
        {"stepImageUri": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/smp-step-runtime:sagemaker-3.27.0-py311"},
        "environments.dev.stepImageUri",
        "named by tag 'sagemaker-3.27.0-py311', which can be moved to another image: expected it pinned by digest, "
        "111111111111.dkr.ecr.eu-west-1.amazonaws.com/smp-step-runtime@sha256:<64 hex digits>",
    ),
    ({"stepImageUri": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/smp-step-runtime@sha256:1234"}, "environments.dev.stepImageUri", "expected an ECR image URI pinned by digest"),
    ({"stepImageUri": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/smp-step-runtime"}, "environments.dev.stepImageUri", "named by tag 'latest' (implied), which can be moved"),
    ({"maxAzs": "2"}, "environments.dev.maxAzs", "expected an integer"),
    ({"maxAzs": True}, "environments.dev.maxAzs", "expected an integer"),
    ({"maxAzs": 1}, "environments.dev.maxAzs", "from 2 to 6"),
    ({"maxJobRuntimeHours": 0}, "environments.dev.maxJobRuntimeHours", "from 1 to 672"),
    ({"maxJobRuntimeHours": 673}, "environments.dev.maxJobRuntimeHours", "from 1 to 672"),
    ({"maxJobRuntimeHours": "24"}, "environments.dev.maxJobRuntimeHours", "expected an integer number of hours"),
    ({"vpcCidr": "10.0.0.0/33"}, "environments.dev.vpcCidr", "not an IPv4 CIDR"),
    ({"vpcCidr": "10.0.0.1/16"}, "environments.dev.vpcCidr", "not an IPv4 CIDR"),
    ({"vpcCidr": "10.0.0.0/8"}, "environments.dev.vpcCidr", "between /16 and /24"),
    ({"vpcCidr": "8.8.0.0/16"}, "environments.dev.vpcCidr", "private"),
    ({"allowedInstanceTypes": []}, "environments.dev.allowedInstanceTypes", "at least one instance type"),
    ({"allowedInstanceTypes": ["m5.large"]}, "environments.dev.allowedInstanceTypes", "'m5.large'"),
    ({"allowedInstanceTypes": "ml.m5.large"}, "environments.dev.allowedInstanceTypes", "a list of"),
    ({"account": "1234"}, "environments.dev.account", "12-digit"),
    ({"account": 111111111111, "region": "eu-west-1"}, "environments.dev.account", "12-digit"),
    ({"account": "111111111111"}, "environments.dev", "only one of account and region"),
    ({"account": "111111111111", "region": "Europe"}, "environments.dev.region", "region name"),
    ({"costTagKey": "aws:cost"}, "environments.dev.costTagKey", "tag key"),
    ({"costTagValue": ""}, "environments.dev.costTagValue", "tag value"),
    ({"schedulesEnabled": "yes"}, "environments.dev.schedulesEnabled", "true or false"),
    ({"removalPolicy": "snapshot"}, "environments.dev.removalPolicy", "['retain', 'destroy']"),
    ({"notificationEmails": ["oncall"]}, "environments.dev.notificationEmails", "email addresses"),
    ({"existingVpc": {"vpcId": "vpc-0123456789abcdef0"}}, "environments.dev.existingVpc", "lacks"),
    ({"account": None, "region": None}, "environments.dev.account", "is null: remove the key"),
    ({"existingVpc": None}, "environments.dev.existingVpc", "is null: remove the key"),
    ({"maxAzs": None}, "environments.dev.maxAzs", "is null"),
    ({"account": "111111111111", "region": "eu-west-9"}, "environments.dev.region", "not a region SageMaker is available in"),
    ({"networkIsolationExemptions": ["smp-dev-x"]}, "environments.dev.networkIsolationExemptions[0]", 'expected an object like {"pipeline": "smp-<env>-<name>", "reason": "why", "owner": "team or contact", "expires": "YYYY-MM-DD"}'),
    ({"networkIsolationExemptions": [{"pipeline": "smp-dev-x", "reason": "r", "expires": "2099-12-31"}]}, "environments.dev.networkIsolationExemptions[0]", "lacks 'owner': every exemption needs ['pipeline', 'reason', 'owner', 'expires']"),
    ({"networkIsolationExemptions": [{"pipeline": "smp-dev-x", "reason": "r", "owner": "ml-platform"}]}, "environments.dev.networkIsolationExemptions[0]", "lacks 'expires'"),
    ({"networkIsolationExemptions": [{"pipeline": "smp-dev-x", "reason": "r", "owner": "", "expires": "2099-12-31"}]}, "environments.dev.networkIsolationExemptions[0].owner", "is '': expected the team or contact that answers for the exemption"),
    ({"networkIsolationExemptions": [{"pipeline": "smp-dev-x", "reason": "r", "owner": "ml-platform", "expires": "2099-12-32"}]}, "environments.dev.networkIsolationExemptions[0].expires", "is '2099-12-32', not a date"),
    ({"networkIsolationExemptions": [{"pipeline": "smp-dev-x", "reason": "r", "owner": "ml-platform", "expires": "next year"}]}, "environments.dev.networkIsolationExemptions[0].expires", "is 'next year': expected an ISO date 'YYYY-MM-DD', the last day (UTC) the exemption holds"),
    ({"networkIsolationExemptions": [{"pipeline": "smp-dev-x", "reason": "r", "owner": "ml-platform", "expires": 20991231}]}, "environments.dev.networkIsolationExemptions[0].expires", "is 20991231: expected an ISO date"),
    ({"networkIsolationExemptions": [{"pipeline": "smp-dev-x", "reason": " ", "owner": "ml-platform", "expires": "2099-12-31"}]}, "environments.dev.networkIsolationExemptions[0].reason", "expected why the pipeline's jobs need to run without network isolation"),
    ({"networkIsolationExemptions": [{"pipeline": "smp_dev", "reason": "r", "owner": "ml-platform", "expires": "2099-12-31"}]}, "environments.dev.networkIsolationExemptions[0].pipeline", "is 'smp_dev': expected a full pipeline name"),
    ({"networkIsolationExemptions": [{"pipeline": "smp-dev-x", "reason": "r", "owner": "ml-platform", "expiry": "2099-12-31"}]}, "environments.dev.networkIsolationExemptions[0].expiry", "is not a known key (did you mean 'expires'?)"),
    ({"networkIsolationExemptions": [{"pipeline": "smp-dev-x", "reason": "r", "owner": "ml-platform", "expires": "2099-12-31"}, {"pipeline": "smp-dev-x", "reason": "r", "owner": "ml-platform", "expires": "2099-12-31"}]}, "environments.dev.networkIsolationExemptions", "names 'smp-dev-x' twice"),
    (
        {"account": "111111111111", "region": "eu-west-1", "stepImageUri": "111111111111.dkr.ecr.us-east-1.amazonaws.com/step@sha256:689e9dd50804826d04c324c720104e2fc7362bd1a54df6e4898a8b423f2cae15"},
        "environments.dev.stepImageUri",
        "expected one in the environment's region eu-west-1",
    ),
    (
        {
            "maxAzs": 3,
            "existingVpc": {
                "vpcId": "vpc-0123456789abcdef0",
                "subnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
                "securityGroupIds": ["sg-0bbbbbbbbbbbbbbb1"],
                "availabilityZones": ["eu-west-1a", "eu-west-1b"],
            },
        },
        "environments.dev.maxAzs",
        "existingVpc uses the given VPC as it is",
    ),
    (
        {"existingVpc": {"vpcId": "vpc-1", "subnetIds": [], "securityGroupIds": [], "availabilityZones": []}},
        "environments.dev.existingVpc.vpcId",
        "vpc-0123456789abcdef0",
    ),
    (
        {
            "existingVpc": {
                "vpcId": "vpc-0123456789abcdef0",
                "subnetIds": ["subnet-0aaaaaaaaaaaaaaa1"],
                "securityGroupIds": ["sg-0bbbbbbbbbbbbbbb1"],
                "availabilityZones": ["eu-west-1a"],
            }
        },
        "environments.dev.existingVpc.subnetIds",
        "at least 2 subnets",
    ),
]


@pytest.mark.parametrize(("raw", "where", "allowed"), BAD_ENVIRONMENTS, ids=[c[1].split(".")[-1] + f"-{i}" for i, c in enumerate(BAD_ENVIRONMENTS)])
def test_bad_value_names_key_value_and_what_is_allowed(raw: dict, where: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_environments({"environments": {"dev": raw}})
    message = str(caught.value)
    assert f"'{where}" in message
    assert allowed in message
    key = where.rsplit(".", 1)[-1]
    if allowed != "allowed keys" and isinstance(raw.get(key), (str, int)):
        assert repr(raw[key]) in message


def test_bad_environment_name_and_empty_environments() -> None:
    with pytest.raises(ConfigError, match="'Prod_1'.*lowercase"):
        load_environments({"environments": {"Prod_1": {}}})
    with pytest.raises(ConfigError, match="'preproduction1' is too long \\(14 characters\\): names are 1-12 lowercase"):
        load_environments({"environments": {"preproduction1": {}}})
    with pytest.raises(ConfigError, match="non-empty object"):
        load_environments({"environments": {}})


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"environments": {"staging": None}}, "context 'environments.staging' is null: expected an object of settings"),
        ({"environments": None}, "context 'environments' is null: expected an object mapping environment names to settings"),
    ],
)
def test_an_environment_set_to_null_is_an_error_not_a_missing_one(context: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_environments(context)
    assert message in str(caught.value)


EXISTING_VPC = {
    "vpcId": "vpc-0123456789abcdef0",
    "subnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
    "securityGroupIds": ["sg-0bbbbbbbbbbbbbbb1"],
    "availabilityZones": ["eu-west-1a", "eu-west-1b"],
}
TYPOS = [
    (lambda: load_environments({"environments": {"dev": {"vpcCird": "10.0.0.0/16"}}}), "'environments.dev.vpcCird' is not a known setting (did you mean 'vpcCidr'?)"),
    (lambda: load_environments({"environments": {"dev": {"MaxAzs": 2}}}), "(did you mean 'maxAzs'?)"),
    (lambda: load_environments({"environments": {"dev": {"existingVpc": {**EXISTING_VPC, "subnetIDs": []}}}}), "unknown key 'subnetIDs' (did you mean 'subnetIds'?)"),
    (lambda: load_environments({"environments": {"dev": {"schedules": {"p": {"s": {"expresion": "rate(1 day)"}}}}}}), "(did you mean 'expression'?)"),
    (
        lambda: select_environments(environments={"prod": EnvironmentConfig(name="prod"), "sandbox": EnvironmentConfig(name="sandbox")}, selected="prd"),
        "context 'env' is 'prd' (did you mean 'prod'?): expected one of ['prod', 'sandbox']",
    ),
]


@pytest.mark.parametrize(("call", "message"), TYPOS, ids=["setting", "setting-case", "existing-vpc-key", "schedule-override-key", "env"])
def test_a_typo_of_a_setting_or_environment_suggests_the_nearest_name(call, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        call()
    assert message in str(caught.value)


def test_an_unrelated_name_gets_no_suggestion() -> None:
    with pytest.raises(ConfigError) as caught:
        load_environments({"environments": {"dev": {"colour": "blue"}}})
    assert "did you mean" not in str(caught.value)


EXPLICIT = {"account": "222222222222", "region": "eu-west-1"}
ZONES_KEY = availability_zones_key(account="222222222222", region="eu-west-1")
AVAILABILITY_ZONE_CASES = [
    ({"staging": EXPLICIT}, {}, f"cdk.context.json has no entry '{ZONES_KEY}' for environment staging"),
    ({"staging": EXPLICIT}, {ZONES_KEY: {"$providerError": "no credentials"}}, f"cdk.context.json has no entry '{ZONES_KEY}'"),
    (
        {"staging": {**EXPLICIT, "maxAzs": 5}},
        {ZONES_KEY: ["eu-west-1a", "eu-west-1b", "eu-west-1c"]},
        "context 'environments.staging.maxAzs' is 5: cdk.context.json knows 3 availability zones for account 222222222222 "
        "region eu-west-1 (eu-west-1a, eu-west-1b, eu-west-1c); expected at most 3",
    ),
    ({"lab": {"maxAzs": 3}}, {}, "context 'environments.lab.maxAzs' is 3: an env-agnostic environment (no account and region) gets 2"),
]


@pytest.mark.parametrize(("environments", "lookups", "message"), AVAILABILITY_ZONE_CASES, ids=["missing", "failed-lookup", "more-than-known", "env-agnostic"])
def test_availability_zones_are_committed_and_enough_for_max_azs(environments: dict, lookups: dict, message: str) -> None:
    context = {"environments": environments, **lookups}
    configs = list(load_environments(context).values())
    with pytest.raises(ConfigError) as caught:
        check_availability_zones(environments=configs, context=context)
    assert message in str(caught.value)


def test_enough_committed_zones_or_an_existing_vpc_need_no_lookup() -> None:
    context = {"environments": {"staging": {**EXPLICIT, "maxAzs": 3}, "shared": {**EXPLICIT, "existingVpc": EXISTING_VPC}}}
    context[ZONES_KEY] = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    check_availability_zones(environments=list(load_environments(context).values()), context=context)
    shared = load_environments(context)["shared"]
    assert shared.existing_vpc == ExistingVpc(
        vpc_id="vpc-0123456789abcdef0",
        subnet_ids=tuple(EXISTING_VPC["subnetIds"]),
        security_group_ids=tuple(EXISTING_VPC["securityGroupIds"]),
        availability_zones=("eu-west-1a", "eu-west-1b"),
    )
    check_availability_zones(environments=[shared], context={})


CDK_JSON_MISTAKES = [
    ('{\n  "context": {\n    "environments": {"sandbox": {},}\n  }\n}\n', "cdk.json line 3 column 36: Expecting property name enclosed in double quotes"),
    ('{"context": {"environments": {"prod": {}, "prod": {"maxAzs": 3}}}}', "cdk.json: key 'prod' appears twice in one object"),
]


@pytest.mark.parametrize(("text", "message"), CDK_JSON_MISTAKES, ids=["trailing-comma", "duplicate-key"])
def test_a_cdk_json_mistake_is_reported_with_its_place_before_the_cli_sees_it(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "cdk.json").write_text(text)
    with pytest.raises(ConfigError) as caught:
        project_context(root=tmp_path)
    assert message in str(caught.value)
    # What `make synth` runs before the CDK CLI, which would report an offset only.
    result = subprocess.run([sys.executable, "-m", "base.config", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stderr) == (2, f"error: {caught.value}\n")


def test_selecting_an_unknown_environment_lists_the_known_ones() -> None:
    environments = {"sandbox": EnvironmentConfig(name="sandbox"), "prod": EnvironmentConfig(name="prod")}
    assert [c.name for c in select_environments(environments=environments, selected=None)] == ["prod", "sandbox"]
    assert [c.name for c in select_environments(environments=environments, selected="prod")] == ["prod"]
    with pytest.raises(ConfigError, match=r"context 'env' is 'nosuchenv': expected one of \['prod', 'sandbox'\]"):
        select_environments(environments=environments, selected="nosuchenv")


def _run_app(tmp_path: Path, context: dict, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path / "out"), "CDK_CONTEXT_JSON": json.dumps(context), **extra_env}
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    return subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_app_exits_non_zero_with_the_message_and_keeps_the_previous_output(tmp_path: Path) -> None:
    previous = tmp_path / "out" / "previous.template.json"
    previous.parent.mkdir()
    previous.write_text("{}")
    result = _run_app(tmp_path, {"env": "nosuchenv"})
    assert result.returncode == 2
    assert "error: context 'env' is 'nosuchenv': expected one of ['sandbox']" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["previous.template.json"]

    result = _run_app(tmp_path, {"environments": {"dev": {"vpcCidr": "10.0.0.0/33"}}})
    assert result.returncode == 2
    assert "context 'environments.dev.vpcCidr' is '10.0.0.0/33'" in result.stderr


APP_MISTAKES = [
    # The CDK app's own context drops null values; the settings are read from CDK_CONTEXT_JSON itself.
    ({"environments": {"sandbox": {}, "staging": None}}, "error: context 'environments.staging' is null"),
    ({"environments": {"sandbox": {}, "staging": {"account": None, "region": None}}}, "error: context 'environments.staging.account' is null"),
    (
        {"environments": {"staging": {"account": "222222222222", "region": "eu-west-1"}}},
        "error: cdk.context.json has no entry 'availability-zones:account=222222222222:region=eu-west-1' for environment staging",
    ),
    (
        {"environments": {"sandbox": {"schedules": {"train-evaluate-register": {"weekly-retrain": {"parameterValues": {"TrainingInstanceType": "ml.p4d.24xlarge"}}}}}}},
        "error: context 'environments.sandbox.schedules.train-evaluate-register.weekly-retrain.parameterValues' (environment sandbox, "
        "pipeline smp-sandbox-train-evaluate-register, schedule 'weekly-retrain', step 'Train', field ResourceConfig.InstanceType): "
        "instance type 'ml.p4d.24xlarge' (parameter TrainingInstanceType in schedule 'weekly-retrain') is not in the environment's allowlist",
    ),
]


@pytest.mark.parametrize(("context", "message"), APP_MISTAKES, ids=["null-environment", "null-setting", "no-availability-zones", "override-instance-type"])
def test_synth_reports_a_settings_mistake_before_writing_anything(tmp_path: Path, context: dict, message: str) -> None:
    previous = tmp_path / "out" / "previous.template.json"
    previous.parent.mkdir()
    previous.write_text("{}")
    result = _run_app(tmp_path, context)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(message), result.stderr
    assert "Traceback" not in result.stderr and "cdk-nag" not in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["previous.template.json"]


def test_smp_debug_adds_the_traceback(tmp_path: Path) -> None:
    result = _run_app(tmp_path, {"env": "nosuchenv"}, SMP_DEBUG="1")
    assert result.returncode == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().endswith("error: context 'env' is 'nosuchenv': expected one of ['sandbox']")


@pytest.mark.parametrize("suffix", ["@sha256:" + "ab" * 32, ":sagemaker-3.27.0-py311@sha256:" + "ab" * 32], ids=["digest", "tag-and-digest"])
def test_a_step_image_pinned_by_digest_is_accepted_in_any_environment(suffix: str) -> None:
    image = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/smp-step-runtime" + suffix
    for raw in ({"stepImageUri": image}, {"account": "111111111111", "region": "eu-west-1", "stepImageUri": image}):
        (config,) = load_environments({"environments": {"dev": raw}}).values()
        assert config.step_image_uri == image


def test_isolation_exemption_settings_carry_their_owner_and_last_day() -> None:
    from base.config import IsolationExemptionSetting

    raw = {"pipeline": "smp-dev-x", "reason": "pulls packages", "owner": "data-team@example.com", "expires": "2027-01-31"}
    (config,) = load_environments({"environments": {"dev": {"networkIsolationExemptions": [raw]}}}).values()
    assert config.network_isolation_exemptions == (IsolationExemptionSetting(**raw),)


def test_schedule_overrides_are_parsed_per_pipeline_and_schedule() -> None:
    config = parse_environment(
        name="prod",
        raw={"schedules": {"abalone": {"weekly": {"enabled": False, "expression": "rate(1 day)", "parameterValues": {"Threshold": 5}}}}},
    )
    (override,) = config.schedule_overrides
    assert (override.pipeline, override.schedule, override.enabled, override.expression) == ("abalone", "weekly", False, "rate(1 day)")
    assert override.parameter_values == {"Threshold": 5}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"schedules": []}, "'environments.dev.schedules' is [] (list): expected an object"),
        ({"schedules": {"abalone": {"weekly": {"enabeld": True}}}}, "'environments.dev.schedules.abalone.weekly.enabeld' is not a known setting"),
        ({"schedules": {"abalone": {"weekly": {"enabled": "yes"}}}}, "'environments.dev.schedules.abalone.weekly.enabled' is 'yes' (str): expected true or false"),
        ({"schedules": {"abalone": {"weekly": {"parameterValues": [1]}}}}, "'environments.dev.schedules.abalone.weekly.parameterValues' is [1] (list): expected an object"),
    ],
)
def test_bad_schedule_overrides(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_environments({"environments": {"dev": raw}})
    assert message in str(caught.value)
