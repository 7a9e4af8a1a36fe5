"""Environment settings from cdk.json context: defaults, and one clear message per bad value."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from base.config import ConfigError, EnvironmentConfig, load_environments, parse_environment, select_environments

ROOT = Path(__file__).resolve().parents[2]


def test_no_environments_gives_a_default_sandbox() -> None:
    environments = load_environments({})
    assert list(environments) == ["sandbox"]
    assert environments["sandbox"].is_env_agnostic
    assert environments["sandbox"].resource_prefix == "smp-sandbox"


def test_project_cdk_json_parses_both_environments() -> None:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    environments = load_environments(context)
    assert sorted(environments) == ["prod", "sandbox"]
    prod = environments["prod"]
    assert (prod.account, prod.region, prod.max_azs, prod.removal_policy) == ("111111111111", "eu-west-1", 3, "retain")
    assert prod.schedules_enabled is True
    assert "ml.g4dn.xlarge" in prod.allowed_instance_types


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
    with pytest.raises(ConfigError, match="non-empty object"):
        load_environments({"environments": {}})


def test_selecting_an_unknown_environment_lists_the_known_ones() -> None:
    environments = {"sandbox": EnvironmentConfig(name="sandbox"), "prod": EnvironmentConfig(name="prod")}
    assert [c.name for c in select_environments(environments=environments, selected=None)] == ["prod", "sandbox"]
    assert [c.name for c in select_environments(environments=environments, selected="prod")] == ["prod"]
    with pytest.raises(ConfigError, match=r"context 'env' is 'nosuchenv': expected one of \['prod', 'sandbox'\]"):
        select_environments(environments=environments, selected="nosuchenv")


def _run_app(tmp_path: Path, context: dict) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path / "out"), "CDK_CONTEXT_JSON": json.dumps(context)}
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
