"""Settings and declarations checked against the compiled pipelines at plan time: exemptions name a
pipeline of the environment, and none has lapsed on the day synth runs."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from base.config import ConfigError, EnvironmentConfig, IsolationExemptionSetting, parse_environment
from base.errors import UserError
from pipeline_defs.errors import PipelineDefinitionError
from planning.checks import check_exemption_expiry, check_isolation_exemption_settings
from planning.compilation import compile_pipelines
from planning.plan import plan_environment
from support.environments import PLAN_DAY


def _setting(pipeline: str, *, expires: str = "2099-12-31") -> IsolationExemptionSetting:
    return IsolationExemptionSetting(pipeline=pipeline, reason="pulls packages", owner="data-team@example.com", expires=expires)


@pytest.fixture(scope="module")
def lab_pipelines() -> tuple:
    """Every shipped pipeline compiled for ``lab``, whose settings exempt one of them (by its full name)."""
    return compile_pipelines(config=EnvironmentConfig(name="lab", network_isolation_exemptions=(_setting("smp-lab-lambda-data-passing"),)))


BAD_EXEMPTIONS = [
    ("batch-inference", "is 'batch-inference', which is not a pipeline of environment lab (did you mean 'smp-lab-batch-inference'? entries are full pipeline names)"),
    ("smp-lab-batch-inferenc", "is 'smp-lab-batch-inferenc', which is not a pipeline of environment lab (did you mean 'smp-lab-batch-inference'?)"),
    ("smp-prod-batch-inference", "is 'smp-prod-batch-inference', which is not a pipeline of environment lab"),
]


@pytest.mark.parametrize(("entry", "message"), BAD_EXEMPTIONS, ids=["module-name", "typo", "other-environment"])
def test_an_isolation_exemption_setting_must_name_a_pipeline_of_the_environment(lab_pipelines: tuple, entry: str, message: str) -> None:
    config = EnvironmentConfig(name="lab", network_isolation_exemptions=(_setting("smp-lab-fan-out-parent"), _setting(entry)))
    with pytest.raises(ConfigError) as caught:
        check_isolation_exemption_settings(config=config, compiled=lab_pipelines)
    text = str(caught.value)
    assert text.startswith(f"context 'environments.lab.networkIsolationExemptions[1].pipeline' {message}")
    assert text.endswith(f"expected one of {sorted(p.pipeline_name for p in lab_pipelines)}")


def test_the_plan_compiles_then_refuses_an_exemption_for_no_pipeline() -> None:
    with pytest.raises(ConfigError, match=r"'environments.lab.networkIsolationExemptions\[0\].pipeline' is 'smp-lab-batch'"):
        compile_pipelines(config=EnvironmentConfig(name="lab", network_isolation_exemptions=(_setting("smp-lab-batch"),)))


# Expiry: an exemption holds through its 'expires' day and lapses the day after ---------------------


def _with_module_expiry(compiled: tuple, *, module: str, expires: str) -> tuple:
    """The compiled pipelines with ``module``'s exemptions expiring on ``expires`` (what its declaration would give)."""
    return tuple(
        dataclasses.replace(item, guardrail_exemptions=tuple(dataclasses.replace(e, expires=expires) for e in item.guardrail_exemptions))
        if item.module_pipeline_name == module
        else item
        for item in compiled
    )


def test_a_module_exemption_holds_through_its_expiry_day_and_lapses_the_day_after(lab_pipelines: tuple) -> None:
    config = EnvironmentConfig(name="lab")
    compiled = _with_module_expiry(lab_pipelines, module="batch-inference", expires="2026-11-30")
    check_exemption_expiry(config=config, compiled=compiled, today=date(2026, 11, 30))  # its last day
    with pytest.raises(PipelineDefinitionError) as caught:
        check_exemption_expiry(config=config, compiled=compiled, today=date(2026, 12, 1))
    assert str(caught.value) == (
        "module 'pipeline_defs/pipelines/batch_inference.py', pipeline 'smp-lab-batch-inference', field 'GUARDRAIL_EXEMPTIONS': "
        "GUARDRAIL_EXEMPTIONS: the network-isolation exemption for the whole pipeline (owner 'ml-platform-oncall@example.com') "
        "lapsed: it held through 2026-11-30 and today is 2026-12-01 (UTC); ask its owner to review it and set a later "
        "'expires', or remove it"
    )


def test_a_setting_exemption_lapses_the_day_after_naming_its_entry_pipeline_and_owner(lab_pipelines: tuple) -> None:
    fresh, lapsing = _setting("smp-lab-fan-out-parent"), _setting("smp-lab-lambda-data-passing", expires="2026-11-30")
    config = EnvironmentConfig(name="lab", network_isolation_exemptions=(fresh, lapsing))
    check_exemption_expiry(config=config, compiled=lab_pipelines, today=date(2026, 11, 30))
    with pytest.raises(ConfigError) as caught:
        check_exemption_expiry(config=config, compiled=lab_pipelines, today=date(2026, 12, 1))
    assert str(caught.value) == (
        "context 'environments.lab.networkIsolationExemptions[1]', the network-isolation exemption of "
        "smp-lab-lambda-data-passing (owner 'data-team@example.com'), lapsed: it held through 2026-11-30 and today is "
        "2026-12-01 (UTC); ask its owner to review it and set a later 'expires', or remove it"
    )


def test_synth_plans_refuse_a_lapsed_exemption_and_ignore_the_day_otherwise(lab_pipelines: tuple) -> None:
    """The plan checks expiry against the day it is given, and that day changes nothing in the plan."""
    config = EnvironmentConfig(name="lab", network_isolation_exemptions=(_setting("smp-lab-lambda-data-passing", expires="2027-01-31"),))
    on_one_day = plan_environment(config=config, today=PLAN_DAY, compiled=lab_pipelines)
    on_its_last_day = plan_environment(config=config, today=date(2027, 1, 31), compiled=lab_pipelines)
    assert on_one_day == on_its_last_day
    assert on_one_day.network_isolation_exempt == ("smp-lab-batch-inference", "smp-lab-lambda-data-passing")
    with pytest.raises(UserError, match="held through 2027-01-31 and today is 2027-02-01"):
        plan_environment(config=config, today=date(2027, 1, 31) + timedelta(days=1), compiled=lab_pipelines)


def _overriding(values: dict, schedule: str = "weekly-retrain") -> EnvironmentConfig:
    return parse_environment(
        name="lab",
        raw={
            "schedules": {"train-evaluate-register": {schedule: {"parameterValues": values}}},
        },
    )


def test_a_schedule_override_may_not_pass_an_instance_type_outside_the_allowlist(lab_pipelines: tuple) -> None:
    config = _overriding({"TrainingInstanceType": "ml.p4d.24xlarge", "MseThreshold": 5.0})
    with pytest.raises(ConfigError) as caught:
        plan_environment(config=config, today=PLAN_DAY, compiled=lab_pipelines)
    text = str(caught.value)
    assert text.startswith(
        "context 'environments.lab.schedules.train-evaluate-register.weekly-retrain.parameterValues' (environment lab, "
        "pipeline smp-lab-train-evaluate-register, schedule 'weekly-retrain', step 'Train', field ResourceConfig.InstanceType): "
    )
    assert "instance type 'ml.p4d.24xlarge' (parameter TrainingInstanceType in schedule 'weekly-retrain')" in text
    assert f"not in the environment's allowlist {list(config.allowed_instance_types)}" in text


def test_allowlisted_override_values_and_overrides_of_other_parameters_plan(lab_pipelines: tuple) -> None:
    for values in ({"TrainingInstanceType": "ml.m5.xlarge"}, {"MseThreshold": 4.0}):
        plan = plan_environment(config=_overriding(values), today=PLAN_DAY, compiled=lab_pipelines)
        (planned,) = [s for s in plan.schedules if s.schedule_name == "weekly-retrain"]
        assert set(values) <= set(planned.parameter_values)
