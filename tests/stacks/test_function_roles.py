"""The platform's Lambda functions: each role writes only to its own log group, and manages network interfaces only in the VPC."""

from __future__ import annotations

import pytest

from stacks.functions.function_role import LAMBDA_NETWORK_INTERFACE_ACTIONS
from support.assembly import Assembly, StackTemplate
from support.iam_evaluator import Decision, Request, evaluate


def _functions(assembly: Assembly, stack: StackTemplate) -> dict[str, tuple[str, str]]:
    """Each function of the stack by construct path: its role's logical id and its log group's ARN stand-in."""
    found = {}
    for function in stack.resources("AWS::Lambda::Function").values():
        properties = function["Properties"]
        if "LoggingConfig" in properties:
            log_group = assembly.resolve(stack, {"Fn::GetAtt": [properties["LoggingConfig"]["LogGroup"]["Ref"], "Arn"]})
            found[function["Metadata"]["aws:cdk:path"]] = (properties["Role"]["Fn::GetAtt"][0], log_group)
    return found


@pytest.mark.parametrize("environment", ["sandbox", "prod"])
def test_each_function_writes_only_to_its_own_log_group(assembly: Assembly, environment: str) -> None:
    stack = assembly.stack(f"smp-{environment}-pipelines")
    functions = _functions(assembly, stack)
    expected = ["Upsert/Function", "Upsert/Provider/framework-onEvent", "StepFunctions/DataPassing/Function", "StepFunctions/FanOut/Function"]
    expected += ["Schedules/Guard/Function"] if environment == "prod" else []
    assert sorted(path.removeprefix(f"{environment}/Pipelines/").removesuffix("/Resource") for path in functions) == sorted(expected)
    for path, (role_id, own_logs) in functions.items():
        role = stack.template["Resources"][role_id]["Properties"]
        # No AWS managed policy; the job guardrails (Deny only) are attached to every role.
        attached = assembly.resolve(stack, role.get("ManagedPolicyArns", []))
        assert attached == [f"arn:aws:iam::{stack.account}:policy/smp-{environment}-{name}" for name in ("job-guardrails", "serving-guardrails")], path
        identity, boundary = assembly.role_policies(stack, role_id)
        others = [logs for other, (_, logs) in functions.items() if other != path]
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            assert evaluate(identity_policies=identity, boundary=boundary, request=Request(action, own_logs)) is Decision.ALLOW, path
            for resource in (*others, f"arn:aws:logs:{stack.region}:{stack.account}:log-group:/aws/lambda/anything:*"):
                assert evaluate(identity_policies=identity, boundary=boundary, request=Request(action, resource)) is Decision.IMPLICIT_DENY, path
        assert evaluate(identity_policies=identity, boundary=boundary, request=Request("logs:CreateLogGroup", own_logs)) is Decision.IMPLICIT_DENY


@pytest.mark.parametrize("environment", ["sandbox", "prod"])
def test_only_functions_in_the_vpc_may_manage_network_interfaces(assembly: Assembly, environment: str) -> None:
    stack = assembly.stack(f"smp-{environment}-pipelines")
    in_vpc = set()
    for path, (role_id, _) in _functions(assembly, stack).items():
        function = next(f for f in stack.resources("AWS::Lambda::Function").values() if f["Metadata"]["aws:cdk:path"] == path)
        identity, boundary = assembly.role_policies(stack, role_id)
        allowed = {
            action
            for action in LAMBDA_NETWORK_INTERFACE_ACTIONS
            if evaluate(identity_policies=identity, boundary=boundary, request=Request(action, "*")) is Decision.ALLOW
        }
        assert allowed == (set(LAMBDA_NETWORK_INTERFACE_ACTIONS) if "VpcConfig" in function["Properties"] else set()), path
        if "VpcConfig" in function["Properties"]:
            in_vpc.add(path.split("/")[-3])
    assert in_vpc == ({"FanOut", "Guard"} if environment == "prod" else {"FanOut"})
