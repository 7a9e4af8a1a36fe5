"""The offline evaluator's semantics, checked against AWS's documented evaluation rules."""

from __future__ import annotations

import pytest

from support.iam_evaluator import Decision, Request, evaluate


def _policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def _decide(condition: dict, context: dict, effect: str = "Deny") -> Decision:
    statement = {"Effect": effect, "Action": "s3:GetObject", "Resource": "*", "Condition": condition}
    identity = [_policy(ALLOW_ALL, statement)] if effect == "Deny" else [_policy(statement)]
    return evaluate(identity_policies=identity, boundary=None, request=Request("s3:GetObject", "arn:aws:s3:::b/k", context))


@pytest.mark.parametrize(
    ("condition", "context", "denied"),
    [
        ({"Null": {"k": "true"}}, {}, True),
        ({"Null": {"k": "true"}}, {"k": "v"}, False),
        ({"Null": {"k": "false"}}, {"k": "v"}, True),
        ({"StringNotEquals": {"k": ["a", "b"]}}, {}, True),  # negated operator, key absent: matches
        ({"StringEquals": {"k": ["a", "b"]}}, {}, False),
        ({"StringNotEquals": {"k": ["a", "b"]}}, {"k": "b"}, False),
        ({"StringLike": {"k": "ml.*.xlarge"}}, {"k": "ml.m5.xlarge"}, True),
        ({"BoolIfExists": {"k": "false"}}, {}, True),
        ({"BoolIfExists": {"k": "false"}}, {"k": "true"}, False),
        ({"Bool": {"k": "false"}}, {}, False),
        ({"ForAnyValue:StringNotLike": {"k": ["ml.m5.*"]}}, {"k": ["ml.m5.large", "ml.p4d.24xlarge"]}, True),
        ({"ForAnyValue:StringNotLike": {"k": ["ml.m5.*"]}}, {"k": ["ml.m5.large"]}, False),
        ({"ForAnyValue:StringNotLike": {"k": ["ml.m5.*"]}}, {}, False),  # ForAnyValue, key absent: no match
        ({"ForAllValues:StringNotLike": {"k": ["ml.g5.*"]}}, {}, True),  # ForAllValues, key absent: match
        ({"ForAllValues:StringNotLike": {"k": ["ml.g5.*"]}}, {"k": ["ml.g5.xlarge"]}, False),
        ({"Null": {"k": "true"}, "StringEquals": {"j": "x"}}, {"j": "x"}, True),  # operators are ANDed
        ({"Null": {"k": "true"}, "StringEquals": {"j": "x"}}, {"j": "y"}, False),
        ({"NumericGreaterThan": {"k": "86400"}}, {"k": "86401"}, True),
        ({"NumericGreaterThan": {"k": "86400"}}, {"k": "86400"}, False),  # at the cap: allowed
        ({"NumericGreaterThan": {"k": "86400"}}, {}, False),  # a numeric operator needs the key
        ({"NumericLessThanEquals": {"k": "3"}}, {"k": "3"}, True),
        ({"ArnNotLike": {"k": "arn:aws:sagemaker:*:1:model/smp-prod-*"}}, {"k": "arn:aws:sagemaker:r:1:model/smp-dev-m"}, True),
        ({"ArnNotLike": {"k": "arn:aws:sagemaker:*:1:model/smp-prod-*"}}, {"k": "arn:aws:sagemaker:r:1:model/smp-prod-m"}, False),
    ],
)
def test_condition_operators(condition: dict, context: dict, denied: bool) -> None:
    expected = Decision.EXPLICIT_DENY if denied else Decision.ALLOW
    assert _decide(condition, context) is expected


def test_boundary_must_also_allow_and_deny_anywhere_wins() -> None:
    request = Request("sagemaker:CreatePipeline", "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p")
    identity = [_policy({"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"})]
    narrow_boundary = _policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    denying_boundary = _policy(ALLOW_ALL, {"Effect": "Deny", "Action": "sagemaker:createpipeline", "Resource": "*"})
    assert evaluate(identity_policies=identity, boundary=None, request=request) is Decision.ALLOW
    assert evaluate(identity_policies=identity, boundary=narrow_boundary, request=request) is Decision.IMPLICIT_DENY
    assert evaluate(identity_policies=identity, boundary=denying_boundary, request=request) is Decision.EXPLICIT_DENY
    assert evaluate(identity_policies=[], boundary=_policy(ALLOW_ALL), request=request) is Decision.IMPLICIT_DENY


def test_unknown_operator_multivalued_key_without_set_operator_and_value_neither_true_nor_false_raise() -> None:
    with pytest.raises(ValueError, match="DateLessThan"):
        _decide({"DateLessThan": {"k": "3"}}, {"k": "1"})
    with pytest.raises(ValueError, match="multivalued"):
        _decide({"StringEquals": {"k": "a"}}, {"k": ["a", "b"]})
    for operator in ("Null", "Bool", "BoolIfExists"):
        for value in ("FALSE", "True", "yes"):
            with pytest.raises(ValueError, match=f"{operator} 'k': policy value '{value}'"):
                _decide({operator: {"k": value}}, {"k": "true"})
    assert _decide({"Bool": {"k": True}}, {"k": "true"}) is Decision.EXPLICIT_DENY


def test_resource_policy_principals_name_a_role_an_account_a_service_or_anyone() -> None:
    from support.iam_evaluator import resource_policy_sids

    role = {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/r", "aws:PrincipalAccount": "111111111111"}
    foreign = {"aws:PrincipalArn": "arn:aws:iam::999999999999:role/r", "aws:PrincipalAccount": "999999999999"}
    service = {"aws:PrincipalServiceName": "logs.amazonaws.com"}
    policy = _policy(
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:Decrypt", "Resource": "*"},
        {"Sid": "Role", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::999999999999:role/r"]}, "Action": "kms:Decrypt", "Resource": "*"},
        {"Sid": "Service", "Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*"},
        {"Sid": "Anyone", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": {"Bool": {"x": "true"}}},
    )
    request = lambda context: Request("kms:Decrypt", "*", context)  # noqa: E731
    assert resource_policy_sids(policy, request(role), effect="Allow") == ["Root"]
    assert resource_policy_sids(policy, request(foreign), effect="Allow") == ["Role"]
    assert resource_policy_sids(policy, request(service), effect="Allow") == ["Service"]
    assert resource_policy_sids(policy, request({**role, "x": "true"}), effect="Deny") == ["Anyone"]
    assert resource_policy_sids(policy, request({**role, "x": "false"}), effect="Deny") == []
    with pytest.raises(ValueError, match="NotPrincipal"):
        resource_policy_sids(_policy({"Effect": "Deny", "NotPrincipal": {"AWS": "x"}, "Action": "*", "Resource": "*"}), request(role), effect="Deny")
