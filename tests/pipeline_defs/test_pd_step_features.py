"""Features every step may use: retry policies, caching, Boolean parameters, the module's parallelism."""

from __future__ import annotations

import textwrap

import pytest

from pipeline_defs.contract import DEFAULT_MAX_PARALLEL_STEPS, iter_steps
from pipeline_defs.errors import PipelineDefinitionError


def _steps(definition):
    return {step["Name"]: step for step, _ in iter_steps(definition["Steps"])}


def test_retry_policies_compile_as_lists_of_exception_types(step_definitions):
    prepare = _steps(step_definitions["retry-cache-flags"])["Prepare"]
    assert prepare["RetryPolicies"] == [
        {"BackoffRate": 2.0, "ExceptionType": ["Step.THROTTLING", "Step.SERVICE_FAULT"], "IntervalSeconds": 1, "MaxAttempts": 3},
        {
            "BackoffRate": 2.0,
            "ExceptionType": ["SageMaker.CAPACITY_ERROR", "SageMaker.JOB_INTERNAL_ERROR"],
            "ExpireAfterMin": 60,
            "IntervalSeconds": 30,
        },
    ]


def test_cache_config_is_carried_on_the_step(step_definitions):
    prepare = _steps(step_definitions["retry-cache-flags"])["Prepare"]
    assert prepare["CacheConfig"] == {"Enabled": True, "ExpireAfter": "P30D"}


def test_boolean_parameter_is_declared_with_a_boolean_default_and_usable_in_conditions(step_compiled, step_definitions):
    declared = {p.name: (p.type, p.default) for p in step_compiled["retry-cache-flags"].parameters}
    assert declared == {"DryRun": ("Boolean", False)}
    definition = step_definitions["retry-cache-flags"]
    assert definition["Parameters"] == [{"DefaultValue": False, "Name": "DryRun", "Type": "Boolean"}]
    condition = _steps(definition)["CheckDryRun"]["Arguments"]["Conditions"]
    assert condition == [{"LeftValue": {"Get": "Parameters.DryRun"}, "RightValue": True, "Type": "Equals"}]
    arguments = _steps(definition)["Prepare"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert arguments[-2:] == ["--dry-run", {"Get": "Parameters.DryRun"}]


def test_module_parallelism_is_carried_on_the_compiled_pipeline(step_compiled, compiled):
    assert step_compiled["retry-cache-flags"].max_parallel_steps == 4
    assert {result.max_parallel_steps for result in compiled.values()} == {DEFAULT_MAX_PARALLEL_STEPS}


@pytest.mark.parametrize("value", ["0", "-1", "True", "2.5", "'10'"])
def test_module_parallelism_must_be_a_positive_integer(tmp_path, value):
    from pipeline_defs.loader import load_pipeline_modules

    path = tmp_path / "parallel.py"
    path.write_text(textwrap.dedent(f"""
        PIPELINE_NAME = "parallel"
        MAX_PARALLEL_STEPS = {value}
        def build_pipeline(ctx):
            raise AssertionError("not reached")
    """))
    with pytest.raises(PipelineDefinitionError, match=r"MAX_PARALLEL_STEPS must be an integer of at least 1 .* got") as raised:
        load_pipeline_modules([path])
    assert (raised.value.field, raised.value.pipeline) == ("MAX_PARALLEL_STEPS", "parallel")
    assert raised.value.module_file.endswith("parallel.py")
