"""The deploy-time ``${Name}`` strings: their exact spelling, how they are found in a definition, and
which of them the stacks cannot resolve (those fail the compile)."""

from __future__ import annotations

import pytest

from pipeline_defs import placeholders


def test_tokens_are_the_fn_sub_spelling_of_each_name() -> None:
    assert placeholders.ACCOUNT_ID.token == "${AWS::AccountId}"
    assert placeholders.KMS_KEY_ARN.token == "${KmsKeyArn}"
    assert [p.token for p in placeholders.SUBNET_IDS[:2]] == ["${SubnetId0}", "${SubnetId1}"]
    assert placeholders.SUBNET_IDS[-1].token == "${SubnetId15}"
    assert all(p.token == "${" + p.name + "}" for p in placeholders.ALL)
    assert placeholders.EXECUTION_ROLE_ARN == "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ExecutionRoleName}"


def test_names_are_found_in_order_of_first_appearance_once_each() -> None:
    text = "Role=${B} Key=${A}/x/${B} Plain=$A {C} $ Empty=${} Unclosed=${D"
    assert placeholders.find_names(text) == ["B", "A", ""]


def test_a_placeholder_ends_at_the_first_closing_brace() -> None:
    assert placeholders.find_names("${a${b}} ${c}") == ["a${b", "c"]
    assert placeholders.find_names("no placeholders here") == []


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("arn:${AWS::Partition}:s3:::${ArtifactBucket}/${SubnetId15}", []),
        ("${SubnetId16} ${KmsKeyArn} ${Nope} ${SubnetId16}", ["SubnetId16", "Nope"]),
        ("${aws::region} ${AWS::Region}", ["aws::region"]),  # names are case-sensitive, as in Fn::Sub
        ("${} ${ FanOutFunctionArn}", ["", " FanOutFunctionArn"]),
        ("${DataPassingFunctionArn}${FanOutFunctionArn}${JobSecurityGroupId}${ExecutionRoleName}${AWS::AccountId}", []),
    ],
)
def test_unknown_names_are_those_no_stack_provides_in_order(text: str, unknown: list[str]) -> None:
    assert placeholders.unknown_names(text) == unknown
