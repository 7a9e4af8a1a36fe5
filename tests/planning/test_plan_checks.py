"""Settings checked against the compiled pipelines at plan time: an exemption naming no pipeline is an error."""

from __future__ import annotations

import pytest

from base.config import ConfigError, EnvironmentConfig, parse_environment
from planning.checks import check_isolation_exemption_settings
from planning.compilation import compile_pipelines
from planning.plan import plan_environment


@pytest.fixture(scope="module")
def lab_pipelines() -> tuple:
    """Every shipped pipeline compiled for ``lab``, whose settings exempt one of them (by its full name)."""
    return compile_pipelines(config=EnvironmentConfig(name="lab", network_isolation_exemptions=("smp-lab-batch-inference",)))


BAD_EXEMPTIONS = [
    ("batch-inference", "contains 'batch-inference', which is not a pipeline of environment lab (did you mean 'smp-lab-batch-inference'? entries are full pipeline names)"),
    ("smp-lab-batch-inferenc", "contains 'smp-lab-batch-inferenc', which is not a pipeline of environment lab (did you mean 'smp-lab-batch-inference'?)"),
    ("smp-prod-batch-inference", "contains 'smp-prod-batch-inference', which is not a pipeline of environment lab"),
]


@pytest.mark.parametrize(("entry", "message"), BAD_EXEMPTIONS, ids=["module-name", "typo", "other-environment"])
def test_an_isolation_exemption_setting_must_name_a_pipeline_of_the_environment(lab_pipelines: tuple, entry: str, message: str) -> None:
    config = EnvironmentConfig(name="lab", network_isolation_exemptions=(entry,))
    with pytest.raises(ConfigError) as caught:
        check_isolation_exemption_settings(config=config, compiled=lab_pipelines)
    text = str(caught.value)
    assert text.startswith(f"context 'environments.lab.networkIsolationExemptions' {message}")
    assert text.endswith(f"expected some of {sorted(p.pipeline_name for p in lab_pipelines)}")


def test_the_plan_compiles_then_refuses_an_exemption_for_no_pipeline() -> None:
    with pytest.raises(ConfigError, match="'environments.lab.networkIsolationExemptions' contains 'smp-lab-batch'"):
        compile_pipelines(config=EnvironmentConfig(name="lab", network_isolation_exemptions=("smp-lab-batch",)))


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
        plan_environment(config=config, compiled=lab_pipelines)
    text = str(caught.value)
    assert text.startswith(
        "context 'environments.lab.schedules.train-evaluate-register.weekly-retrain.parameterValues' (environment lab, "
        "pipeline smp-lab-train-evaluate-register, schedule 'weekly-retrain', step 'Train', field ResourceConfig.InstanceType): "
    )
    assert "instance type 'ml.p4d.24xlarge' (parameter TrainingInstanceType in schedule 'weekly-retrain')" in text
    assert f"not in the environment's allowlist {list(config.allowed_instance_types)}" in text


def test_allowlisted_override_values_and_overrides_of_other_parameters_plan(lab_pipelines: tuple) -> None:
    for values in ({"TrainingInstanceType": "ml.m5.xlarge"}, {"MseThreshold": 4.0}):
        plan = plan_environment(config=_overriding(values), compiled=lab_pipelines)
        (planned,) = [s for s in plan.schedules if s.schedule_name == "weekly-retrain"]
        assert set(values) <= set(planned.parameter_values)
