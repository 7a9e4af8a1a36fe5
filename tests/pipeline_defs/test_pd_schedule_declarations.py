"""What a pipeline module declares beside its builder: schedules, guardrail exemptions, data access.

Each declaration refuses bad values when it is made, naming the field and what is allowed, so a
module with a typo fails at import with a clear message instead of at synth or at run time.
"""

from __future__ import annotations

import re

import pytest

from pipeline_defs.schedules import DataAccess, Guardrail, GuardrailExemption, Schedule

OWNER = "ml-platform"
EXPIRES = "2099-12-31"


def _exemption(**overrides) -> GuardrailExemption:
    fields = {"guardrail": Guardrail.VPC, "reason": "needs PyPI", "owner": OWNER, "expires": EXPIRES} | overrides
    return GuardrailExemption(**fields)


def test_a_schedules_parameter_values_are_a_read_only_copy_of_what_was_declared():
    declared = {"InstanceType": "ml.m5.large", "Epochs": 3}
    schedule = Schedule(name="nightly", expression="cron(0 2 * * ? *)", parameter_values=declared)
    declared["InstanceType"] = "ml.p4d.24xlarge"
    declared["Extra"] = True
    assert dict(schedule.parameter_values) == {"InstanceType": "ml.m5.large", "Epochs": 3}
    with pytest.raises(TypeError):
        schedule.parameter_values["InstanceType"] = "ml.p4d.24xlarge"  # type: ignore[index]
    assert dict(Schedule(name="hourly", expression="rate(1 hour)").parameter_values) == {}


def test_a_complete_exemption_holds_its_fields():
    exemption = _exemption(guardrail=Guardrail.COST_TAG, steps=("Train",))
    assert (exemption.guardrail, exemption.reason, exemption.owner, exemption.expires, exemption.steps) == (
        Guardrail.COST_TAG, "needs PyPI", OWNER, EXPIRES, ("Train",)
    )


@pytest.mark.parametrize("guardrail", ["vpc", None, 1])
def test_an_exemption_names_a_guardrail_member_not_its_value(guardrail):
    with pytest.raises(TypeError) as raised:
        _exemption(guardrail=guardrail)
    assert str(raised.value) == f"guardrail must be a Guardrail, got {guardrail!r}"


@pytest.mark.parametrize("reason", ["", " ", "\n\t"])
def test_an_exemption_without_a_reason_is_refused(reason):
    with pytest.raises(ValueError) as raised:
        _exemption(guardrail=Guardrail.OUTPUT_KMS_KEY, reason=reason)
    assert str(raised.value) == "exemption of output-kms-key needs a reason"


def test_a_reason_with_text_around_spaces_is_kept():
    assert _exemption(reason=" r ").reason == " r "


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"owner": ""}, "exemption of vpc: owner is '': expected the team or contact that answers for the exemption"),
        ({"owner": "  "}, "exemption of vpc: owner is '  ': expected the team or contact"),
        ({"owner": "a\nb"}, "exemption of vpc: owner is 'a\\nb': expected the team or contact"),
        ({"owner": None}, "exemption of vpc: owner is None: expected the team or contact"),
        ({"expires": "31.12.2099"}, "exemption of vpc: expires is '31.12.2099': expected an ISO date 'YYYY-MM-DD'"),
        ({"expires": "2099-02-30"}, "exemption of vpc: expires is '2099-02-30', not a date"),
        # Both wrong: the owner is named first.
        ({"owner": "", "expires": "soon"}, "exemption of vpc: owner is ''"),
    ],
)
def test_an_exemption_without_an_owner_or_expiry_date_is_refused_naming_the_field(fields, message):
    with pytest.raises(ValueError) as raised:
        _exemption(**fields)
    assert str(raised.value).startswith(message)


def test_an_exemption_with_a_bad_expiry_date_names_expires_and_the_value():
    with pytest.raises(ValueError) as raised:
        _exemption(expires="2099-13-01")
    assert re.fullmatch(r"exemption of vpc: expires is '2099-13-01', not a date \(.+\): expected an ISO date .+", str(raised.value))


def test_an_exemption_without_steps_covers_every_step_and_with_steps_only_those():
    assert _exemption().covers("Train") and _exemption().covers("")
    limited = _exemption(steps=("Train", "Score"))
    assert limited.covers("Train") and limited.covers("Score")
    assert not limited.covers("Evaluate") and not limited.covers("train")


def test_an_exemption_describes_its_guardrail_and_scope():
    assert _exemption(guardrail=Guardrail.NETWORK_ISOLATION).describe() == "the network-isolation exemption for the whole pipeline"
    assert _exemption(steps=("Train", "Score")).describe() == "the vpc exemption for steps ['Train', 'Score']"


def test_data_access_keeps_its_prefixes_as_tuples():
    access = DataAccess(read=["shared/reference-data/"], write=("shared/features/", "shared/reports/"))  # type: ignore[arg-type]
    assert access.read == ("shared/reference-data/",) and access.write == ("shared/features/", "shared/reports/")
    assert (DataAccess().read, DataAccess().write) == ((), ())


@pytest.mark.parametrize(
    ("fields", "field", "value"),
    [
        ({"read": "shared/reference-data/"}, "read", "'shared/reference-data/'"),
        ({"write": "shared/features/"}, "write", "'shared/features/'"),
        ({"read": ("shared/a/", 1)}, "read", "('shared/a/', 1)"),
        ({"read": ("shared/a/",), "write": (None,)}, "write", "(None,)"),
    ],
)
def test_data_access_refuses_anything_but_a_tuple_of_key_prefixes(fields, field, value):
    with pytest.raises(TypeError) as raised:
        DataAccess(**fields)
    assert str(raised.value) == f"DataAccess.{field} must be a tuple of key prefixes, got {value}"
