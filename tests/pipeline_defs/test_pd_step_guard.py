"""The checks one step's guardrails are made of, called directly: what each refuses, with which
message and field, what it lets through, and which exemptions a missing guardrail uses up."""

from __future__ import annotations

import pytest

from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.schedules import Guardrail, GuardrailExemption, Schedule
from pipeline_defs.validation.step_guard import ParameterValues, StepGuard, has_value

EXEMPT_IT = "; exempt it explicitly with a reason)"
PARAMETER = {"Get": "Parameters.InstanceType"}


def _exemption(guardrail: Guardrail, *steps: str) -> GuardrailExemption:
    return GuardrailExemption(guardrail=guardrail, reason="r", owner="ml-platform", expires="2099-12-31", steps=steps)


def _guard(*exemptions: GuardrailExemption, allowed=("ml.m5.large", "ml.m5d.large"), parameters=ParameterValues()) -> StepGuard:
    return StepGuard(
        fail=PipelineDefinitionError, step="Train", exemptions=exemptions, allowed_instance_types=allowed, parameters=parameters, used=set()
    )


def _refusal(call) -> PipelineDefinitionError:
    with pytest.raises(PipelineDefinitionError) as raised:
        call()
    assert raised.value.step == "Train"
    return raised.value


def _schedule(name: str, **values) -> Schedule:
    return Schedule(name=name, expression="cron(0 2 * * ? *)", parameter_values=values)


@pytest.mark.parametrize("value", [None, "", [], {}])
def test_empty_values_are_no_value(value):
    assert not has_value(value)


@pytest.mark.parametrize("value", ["x", ["a"], {"a": None}, 0, False, " "])
def test_anything_else_is_a_value(value):
    assert has_value(value)


def test_a_literal_is_its_own_only_candidate():
    values = ParameterValues.of({"Parameters": [{"Name": "InstanceType", "DefaultValue": "ml.m5.large"}]}, ())
    assert values.candidates("ml.p4d.24xlarge") == [("", "ml.p4d.24xlarge")]
    assert values.candidates(None) == [("", None)]
    step_property = {"Get": "Steps.Train.InstanceType"}
    assert values.candidates(step_property) == [("", step_property)]
    assert values.candidates({"Std:Join": {}}) == [("", {"Std:Join": {}})]


def test_a_parameters_candidates_are_its_default_then_each_schedules_value():
    definition = {
        "Parameters": [
            {"Name": "InstanceType", "Type": "String", "DefaultValue": "ml.m5.large"},
            {"Name": "Other", "Type": "String", "DefaultValue": "ml.c5.xlarge"},
        ]
    }
    schedules = (_schedule("nightly", InstanceType="ml.p4d.24xlarge"), _schedule("weekly", Other="x"), _schedule("hourly", InstanceType="ml.m5d.large"))
    assert ParameterValues.of(definition, schedules).candidates(PARAMETER) == [
        (" (default of parameter InstanceType)", "ml.m5.large"),
        (" (parameter InstanceType in schedule 'nightly')", "ml.p4d.24xlarge"),
        (" (parameter InstanceType in schedule 'hourly')", "ml.m5d.large"),
    ]


def test_a_parameter_without_a_default_has_only_its_schedules_values():
    definition = {"Parameters": [{"Name": "InstanceType", "Type": "String"}]}
    assert ParameterValues.of(definition, ()).candidates(PARAMETER) == []
    assert ParameterValues.of({}, (_schedule("nightly", InstanceType="ml.m5.large"),)).candidates(PARAMETER) == [
        (" (parameter InstanceType in schedule 'nightly')", "ml.m5.large")
    ]


def test_a_default_of_none_is_still_a_candidate():
    definition = {"Parameters": [{"Name": "InstanceType", "DefaultValue": None}]}
    assert ParameterValues.of(definition, ()).candidates(PARAMETER) == [(" (default of parameter InstanceType)", None)]


def test_refuse_names_the_step_and_field():
    error = _refusal(lambda: _guard().refuse("bad", "Some.Field"))
    assert (error.reason, error.field) == ("bad", "Some.Field")


def test_a_met_guardrail_uses_no_exemption():
    guard = _guard(_exemption(Guardrail.VPC))
    guard.require(Guardrail.VPC, True, "VpcConfig", "no VPC")
    assert guard.used == set()


def test_a_missing_guardrail_without_exemption_is_refused_naming_it():
    error = _refusal(lambda: _guard().require(Guardrail.OUTPUT_KMS_KEY, False, "OutputDataConfig.KmsKeyId", "no output KMS key"))
    assert error.field == "OutputDataConfig.KmsKeyId"
    assert error.reason == "no output KMS key (guardrail output-kms-key" + EXEMPT_IT


def test_a_missing_guardrail_uses_every_exemption_covering_the_step_and_only_those():
    exemptions = (
        _exemption(Guardrail.VPC, "Score"),  # another step
        _exemption(Guardrail.COST_TAG),  # another guardrail
        _exemption(Guardrail.VPC),  # the whole pipeline
        _exemption(Guardrail.VPC, "Score", "Train"),
    )
    guard = _guard(*exemptions)
    guard.require(Guardrail.VPC, False, "VpcConfig", "no VPC")
    assert guard.used == {2, 3}


def test_an_exemption_of_another_step_or_guardrail_does_not_let_it_through():
    for exemption in (_exemption(Guardrail.VPC, "Score"), _exemption(Guardrail.COST_TAG, "Train")):
        error = _refusal(lambda: _guard(exemption).vpc(None, "VpcConfig"))
        assert error.reason.startswith("no VPC subnets and security groups (guardrail vpc")


@pytest.mark.parametrize(
    "vpc",
    [None, "vpc-1", {}, {"Subnets": ["s"]}, {"SecurityGroupIds": ["g"]}, {"Subnets": [], "SecurityGroupIds": ["g"]}, {"Subnets": ["s"], "SecurityGroupIds": []}],
)
def test_a_vpc_needs_both_subnets_and_security_groups(vpc):
    error = _refusal(lambda: _guard().vpc(vpc, "NetworkConfig.VpcConfig"))
    assert error.field == "NetworkConfig.VpcConfig"
    assert error.reason == "no VPC subnets and security groups (guardrail vpc" + EXEMPT_IT


def test_a_vpc_with_subnets_and_security_groups_passes():
    _guard().vpc({"Subnets": ["s"], "SecurityGroupIds": ["g"]}, "VpcConfig")


@pytest.mark.parametrize("value", [None, False, 1, "true", "True"])
def test_network_isolation_is_on_only_when_true(value):
    error = _refusal(lambda: _guard().isolation(value, "EnableNetworkIsolation"))
    assert error.field == "EnableNetworkIsolation"
    assert error.reason == "network isolation is off (guardrail network-isolation" + EXEMPT_IT
    _guard().isolation(True, "EnableNetworkIsolation")


@pytest.mark.parametrize("value", [None, False, 1, "true"])
def test_inter_container_encryption_is_on_only_when_true(value):
    error = _refusal(lambda: _guard().inter_container_encryption(value, "EnableInterContainerTrafficEncryption"))
    assert error.field == "EnableInterContainerTrafficEncryption"
    assert error.reason == "inter-container traffic encryption is off (guardrail inter-container-encryption" + EXEMPT_IT
    _guard().inter_container_encryption(True, "EnableInterContainerTrafficEncryption")


def test_an_output_key_is_required_where_the_step_writes_output():
    error = _refusal(lambda: _guard().output_key(False, "TransformOutput.KmsKeyId"))
    assert (error.field, error.reason) == ("TransformOutput.KmsKeyId", "no output KMS key (guardrail output-kms-key" + EXEMPT_IT)
    _guard().output_key(True, "TransformOutput.KmsKeyId")


def test_the_cost_tag_key_must_be_present_whatever_its_value():
    error = _refusal(lambda: _guard().cost_tag({"Team": "ml", "costcenter": "x"}, "CostCenter", "Tags"))
    assert (error.field, error.reason) == ("Tags", "cost tag 'CostCenter' missing (guardrail cost-tag" + EXEMPT_IT)
    _guard().cost_tag({"CostCenter": None}, "CostCenter", "Tags")


def test_an_instance_type_outside_the_allowlist_is_refused_naming_type_and_allowlist():
    error = _refusal(lambda: _guard().instance_type("ml.p4d.24xlarge", "ResourceConfig.InstanceType"))
    assert error.field == "ResourceConfig.InstanceType"
    assert error.reason == "instance type 'ml.p4d.24xlarge' is not in the environment's allowlist ['ml.m5.large', 'ml.m5d.large']"


def test_allowed_and_unknown_instance_types_pass():
    guard = _guard()
    guard.instance_type("ml.m5.large", "ResourceConfig.InstanceType")
    guard.instance_type(None, "ResourceConfig.InstanceType")
    guard.instance_type({"Get": "Steps.Other.Type"}, "ResourceConfig.InstanceType")
    _guard(allowed=()).instance_type("ml.p4d.24xlarge", "ResourceConfig.InstanceType")


def test_every_known_value_of_an_instance_type_parameter_must_be_allowed():
    definition = {"Parameters": [{"Name": "InstanceType", "DefaultValue": "ml.m5.large"}]}
    allowed_only = ParameterValues.of(definition, (_schedule("nightly", InstanceType="ml.m5d.large"),))
    _guard(parameters=allowed_only).instance_type(PARAMETER, "ResourceConfig.InstanceType")
    second_schedule = ParameterValues.of(definition, (_schedule("nightly", InstanceType="ml.m5d.large"), _schedule("big", InstanceType="ml.p5.48xlarge")))
    error = _refusal(lambda: _guard(parameters=second_schedule).instance_type(PARAMETER, "ResourceConfig.InstanceType"))
    assert error.reason.startswith("instance type 'ml.p5.48xlarge' (parameter InstanceType in schedule 'big') is not in the environment's allowlist")
    bad_default = ParameterValues.of({"Parameters": [{"Name": "InstanceType", "DefaultValue": "ml.c5.xlarge"}]}, ())
    error = _refusal(lambda: _guard(parameters=bad_default).instance_type(PARAMETER, "ResourceConfig.InstanceType"))
    assert error.reason.startswith("instance type 'ml.c5.xlarge' (default of parameter InstanceType) is not")


VOLUME_FIELD = "ResourceConfig.VolumeKmsKeyId"
NVME_REFUSAL = "(local NVMe storage, encrypted by hardware): exempt the pipeline from volume-kms-key"


def test_a_volume_key_is_required_beside_an_instance_without_nvme_storage():
    error = _refusal(lambda: _guard().volume_key(["ml.m5.large"], None, VOLUME_FIELD))
    assert (error.field, error.reason) == (VOLUME_FIELD, "no volume KMS key (guardrail volume-kms-key" + EXEMPT_IT)
    _guard().volume_key(["ml.m5.large"], "${KmsKeyArn}", VOLUME_FIELD)


def test_a_volume_key_is_required_when_no_instance_type_is_known():
    error = _refusal(lambda: _guard().volume_key([], "", VOLUME_FIELD))
    assert error.reason.startswith("no volume KMS key")
    _guard().volume_key([], "${KmsKeyArn}", VOLUME_FIELD)


def test_no_volume_key_is_needed_where_every_instance_has_nvme_storage():
    guard = _guard()
    guard.volume_key(["ml.m5d.large", "ml.g5.xlarge"], None, VOLUME_FIELD)
    assert guard.used == set()


def test_an_nvme_only_step_uses_the_volume_key_exemption_it_is_covered_by():
    exemptions = (_exemption(Guardrail.VOLUME_KMS_KEY, "Score"), _exemption(Guardrail.VPC), _exemption(Guardrail.VOLUME_KMS_KEY, "Train"))
    guard = _guard(*exemptions)
    guard.volume_key(["ml.m5d.large"], None, VOLUME_FIELD)
    assert guard.used == {2}


def test_a_volume_key_beside_an_nvme_instance_is_refused_naming_the_first():
    error = _refusal(lambda: _guard().volume_key(["ml.m5.large", "ml.m5d.large", "ml.g5.xlarge"], "${KmsKeyArn}", VOLUME_FIELD))
    assert error.field == VOLUME_FIELD
    assert error.reason == f"SageMaker refuses a volume KMS key on ml.m5d.large {NVME_REFUSAL}"


def test_a_volume_key_beside_an_nvme_value_of_a_parameter_names_where_it_comes_from():
    parameters = ParameterValues.of({"Parameters": [{"Name": "InstanceType", "DefaultValue": "ml.m5.large"}]}, (_schedule("nightly", InstanceType="ml.m5d.large"),))
    error = _refusal(lambda: _guard(parameters=parameters).volume_key([PARAMETER], "${KmsKeyArn}", VOLUME_FIELD))
    assert error.reason == f"SageMaker refuses a volume KMS key on ml.m5d.large (parameter InstanceType in schedule 'nightly') {NVME_REFUSAL}"


def test_a_step_mixing_nvme_and_other_instances_needs_its_exemption_to_go_without_a_key():
    error = _refusal(lambda: _guard().volume_key(["ml.m5d.large", "ml.m5.large"], None, VOLUME_FIELD))
    assert error.reason.startswith("no volume KMS key")
    guard = _guard(_exemption(Guardrail.VOLUME_KMS_KEY))
    guard.volume_key(["ml.m5d.large", "ml.m5.large"], None, VOLUME_FIELD)
    assert guard.used == {0}
