"""Environment settings the tests own, so a user's edits to the shipped ``cdk.json`` never turn tests red.

``app_context`` keeps the app's feature flags from ``cdk.json`` (they shape templates like the CLI's
run) but replaces its environments and cached lookups with these.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any, Mapping

from base.config import project_context

TEST_ACCOUNT = "111111111111"
TEST_REGION = "eu-west-1"
TEST_STEP_IMAGE = f"{TEST_ACCOUNT}.dkr.ecr.{TEST_REGION}.amazonaws.com/smp-step-runtime@sha256:689e9dd50804826d04c324c720104e2fc7362bd1a54df6e4898a8b423f2cae15"
PLAN_DAY = date(2026, 12, 1)
"""The day the tests plan on (``plan_environment(today=...)``), so no test's result depends on when it runs."""

ENVIRONMENTS: dict[str, dict[str, Any]] = {
    "sandbox": {},
    "prod": {
        "account": TEST_ACCOUNT,
        "region": TEST_REGION,
        "vpcCidr": "10.60.0.0/16",
        "maxAzs": 3,
        "allowedInstanceTypes": ["ml.m5.large", "ml.m5.xlarge", "ml.m5.2xlarge", "ml.c5.2xlarge", "ml.g4dn.xlarge"],
        "costTagKey": "CostCenter",
        "costTagValue": "ml-platform-prod",
        "schedulesEnabled": True,
        "removalPolicy": "retain",
        "notificationEmails": ["ml-platform-oncall@example.com"],
        "schedules": {
            "fan-out-parent": {"daily": {"enabled": True}},
            "train-evaluate-register": {
                "weekly-retrain": {"expression": "cron(0 4 ? * MON *)", "parameterValues": {"MseThreshold": 5.5}}
            },
        },
        "stepImageUri": TEST_STEP_IMAGE,
    },
}

AVAILABILITY_ZONES = {
    f"availability-zones:account={TEST_ACCOUNT}:region={TEST_REGION}": [f"{TEST_REGION}{z}" for z in "abc"],
}


def app_context(*, environments: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The CDK context of a CLI run, with the tests' environments (or ``environments``) and AZ lookups."""
    context = {k: v for k, v in project_context().items() if k != "environments" and not k.startswith("availability-zones:")}
    context["environments"] = copy.deepcopy(dict(ENVIRONMENTS if environments is None else environments))
    context.update(AVAILABILITY_ZONES)
    return context
