"""Schedules, their targets and roles, the overlap guard, failure notifications; and a simulated firing."""

from __future__ import annotations

import json
from typing import Any, Iterator

import boto3
import pytest
from moto import mock_aws

from base.naming import PIPELINE_RESOURCE_TYPE
from support.assembly import Assembly, StackTemplate, unsubstituted
from support.iam_evaluator import Decision, Request, evaluate
from support.lambdas import load_handler

upsert = load_handler("pipeline_upsert")


@pytest.fixture(scope="module")
def prod(assembly: Assembly) -> StackTemplate:
    return assembly.stack("smp-prod-pipelines")


def _pipeline_name_of(stack: StackTemplate, arn: Any) -> str:
    (logical_id, attribute) = arn["Fn::GetAtt"]
    assert attribute == "PipelineArn"
    return stack.template["Resources"][logical_id]["Properties"]["PipelineName"]


def _scheduled_rules(stack: StackTemplate) -> dict[str, dict]:
    return {r["Properties"]["Name"]: r["Properties"] for r in stack.resources("AWS::Events::Rule").values() if "ScheduleExpression" in r["Properties"]}


def test_prod_rules_follow_the_modules_and_the_overrides(prod: StackTemplate) -> None:
    rules = _scheduled_rules(prod)
    assert {"smp-prod-fan-out-parent-daily", "smp-prod-parallel-shards-every-6-hours", "smp-prod-train-evaluate-register-weekly-retrain"} <= set(rules)
    assert "smp-prod-batch-inference-nightly" not in rules  # a time zone: a Scheduler schedule instead
    retrain = rules["smp-prod-train-evaluate-register-weekly-retrain"]
    assert retrain["ScheduleExpression"] == "cron(0 4 ? * MON *)"
    (target,) = retrain["Targets"]
    assert _pipeline_name_of(prod, target["Arn"]) == "smp-prod-train-evaluate-register"
    assert target["SageMakerPipelineParameters"] == {"PipelineParameterList": [{"Name": "MseThreshold", "Value": "5.5"}]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 7200}
    assert "Arn" in target["DeadLetterConfig"]


def test_a_time_zone_makes_it_a_scheduler_schedule(prod: StackTemplate) -> None:
    (schedule,) = [s["Properties"] for s in prod.resources("AWS::Scheduler::Schedule").values()]
    assert (schedule["Name"], schedule["ScheduleExpression"], schedule["ScheduleExpressionTimezone"]) == ("smp-prod-batch-inference-nightly", "cron(30 1 * * ? *)", "Europe/Paris")
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["Target"]["SageMakerPipelineParameters"] == {"PipelineParameterList": [{"Name": "BatchSize", "Value": "4"}]}
    assert _pipeline_name_of(prod, schedule["Target"]["Arn"]) == "smp-prod-batch-inference"


def test_skip_if_running_goes_through_the_guard_function(prod: StackTemplate) -> None:
    (target,) = _scheduled_rules(prod)["smp-prod-parallel-shards-every-6-hours"]["Targets"]
    functions = {k: v["Properties"].get("FunctionName") for k, v in prod.resources("AWS::Lambda::Function").items()}
    assert functions[target["Arn"]["Fn::GetAtt"][0]] == "smp-prod-schedule-guard"
    template = target["InputTransformer"]["InputTemplate"].replace('"<id>"', '"0f0f-event-id"')
    assert json.loads(template) == {
        "pipeline_name": "smp-prod-parallel-shards",
        "schedule": "every-6-hours",
        "parameters": [{"Name": "InstanceCount", "Value": "3"}],
        "delivery_id": "0f0f-event-id",
    }
    guard_function = prod.template["Resources"][target["Arn"]["Fn::GetAtt"][0]]["Properties"]
    assert "TargetArn" in guard_function["DeadLetterConfig"]
    guard_role = {"Ref": guard_function["Role"]["Fn::GetAtt"][0]}
    (policy,) = [p["Properties"] for p in prod.resources("AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [guard_role]]
    actions = {a for st in policy["PolicyDocument"]["Statement"] for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])}
    assert {"sqs:SendMessage", "kms:GenerateDataKey*", "sagemaker:StartPipelineExecution", "sagemaker:ListPipelineExecutions"} <= actions


def test_sandbox_has_schedules_disabled(assembly: Assembly) -> None:
    sandbox = assembly.stack("smp-sandbox-pipelines")
    assert _scheduled_rules(sandbox) == {}
    assert sandbox.resources("AWS::Scheduler::Schedule") == {}
    assert sandbox.resources("AWS::SQS::Queue") == {}


def test_each_rule_role_may_start_only_its_own_pipeline(assembly: Assembly, prod: StackTemplate) -> None:
    rules = _scheduled_rules(prod)
    (target,) = rules["smp-prod-train-evaluate-register-weekly-retrain"]["Targets"]
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    identity, boundary = assembly.role_policies(prod, role_id)
    own = assembly.resolve(prod, target["Arn"])
    (other_id,) = [k for k, r in prod.resources(PIPELINE_RESOURCE_TYPE).items() if r["Properties"]["PipelineName"] == "smp-prod-fan-out-parent"]
    other = assembly.resolve(prod, {"Fn::GetAtt": [other_id, "PipelineArn"]})
    assert own != other
    assert evaluate(identity_policies=identity, boundary=boundary, request=Request("sagemaker:StartPipelineExecution", own)) is Decision.ALLOW
    assert evaluate(identity_policies=identity, boundary=boundary, request=Request("sagemaker:StartPipelineExecution", other)) is Decision.IMPLICIT_DENY
    trust = prod.template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"} and "aws:SourceAccount" in trust["Condition"]["StringEquals"]


def test_dead_letters_are_encrypted_and_alarmed_to_the_topic(prod: StackTemplate) -> None:
    queues = {q["Properties"]["QueueName"]: q["Properties"] for q in prod.resources("AWS::SQS::Queue").values()}
    assert sorted(queues) == ["smp-prod-schedule-dead-letters", "smp-prod-schedule-guard-dead-letters"]
    assert all("KmsMasterKeyId" in q for q in queues.values())
    (alarm,) = [a["Properties"] for a in prod.resources("AWS::CloudWatch::Alarm").values()]
    assert (alarm["MetricName"], alarm["Threshold"], alarm["ComparisonOperator"]) == ("ApproximateNumberOfMessagesVisible", 1, "GreaterThanOrEqualToThreshold")
    (topic_id,) = prod.resources("AWS::SNS::Topic")
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def test_failed_or_stopped_executions_notify_the_encrypted_topic(prod: StackTemplate) -> None:
    (topic_id, topic), = prod.resources("AWS::SNS::Topic").items()
    assert "KmsMasterKeyId" in topic["Properties"]
    (subscription,) = [s["Properties"] for s in prod.resources("AWS::SNS::Subscription").values()]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", "ml-platform-oncall@example.com")
    (rule,) = [r["Properties"] for r in prod.resources("AWS::Events::Rule").values() if "EventPattern" in r["Properties"]]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.sagemaker"]
    assert pattern["detail"]["currentPipelineExecutionStatus"] == ["Failed", "Stopped"]
    assert pattern["detail"]["pipelineArn"] == [{"prefix": "arn:aws:sagemaker:eu-west-1:111111111111:pipeline/smp-prod-"}]
    assert rule["Targets"][0]["Arn"] == {"Ref": topic_id}


@pytest.fixture
def sagemaker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("sagemaker", region_name="eu-west-1")


def test_simulated_firing_starts_the_pipeline_with_the_rules_parameters(prod: StackTemplate, sagemaker: Any) -> None:
    (target,) = _scheduled_rules(prod)["smp-prod-train-evaluate-register-weekly-retrain"]["Targets"]
    logical_id = target["Arn"]["Fn::GetAtt"][0]
    properties = json.loads(json.dumps(unsubstituted(prod.template["Resources"][logical_id]["Properties"])))
    properties["RoleArn"] = "arn:aws:iam::111111111111:role/smp-prod-sagemaker-execution"
    event = {"RequestType": "Create", "StackId": "arn:aws:cloudformation:eu-west-1:111111111111:stack/smp-prod-pipelines/1", "RequestId": "r-1", "ResourceProperties": properties}
    created = upsert.handle(event=event, client=sagemaker)
    arn = created["Data"]["PipelineArn"]

    # What EventBridge sends for a SageMaker pipeline target.
    parameters = target["SageMakerPipelineParameters"]["PipelineParameterList"]
    execution = sagemaker.start_pipeline_execution(PipelineName=arn.rsplit("/", 1)[1], PipelineParameters=parameters, ClientRequestToken="e" * 36)
    got = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=execution["PipelineExecutionArn"])["PipelineParameters"]
    assert got == [{"Name": "MseThreshold", "Value": "5.5"}]
    declared = {p["Name"]: p["Type"] for p in json.loads(sagemaker.describe_pipeline(PipelineName="smp-prod-train-evaluate-register")["PipelineDefinition"])["Parameters"]}
    assert declared["MseThreshold"] == "Float"
