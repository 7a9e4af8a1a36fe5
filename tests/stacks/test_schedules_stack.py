"""Schedules in each pipeline's stack, their roles; the shared guard, dead letters and notifications; a simulated firing."""

from __future__ import annotations

import json
from typing import Any, Iterator

import boto3
import pytest
from moto import mock_aws

from support.assembly import Assembly, StackTemplate, unsubstituted
from support.iam_evaluator import Decision, Request, evaluate
from support.lambdas import load_handler

upsert = load_handler("pipeline_upsert")


@pytest.fixture(scope="module")
def prod(assembly: Assembly) -> StackTemplate:
    """The shared pipeline services of prod: dead letters, guard, notifications."""
    return assembly.stack("smp-prod-pipelines")


@pytest.fixture(scope="module")
def prod_schedules(assembly: Assembly) -> dict[str, tuple[StackTemplate, dict]]:
    """Every prod schedule by name, with the pipeline stack that holds it."""
    found = {}
    for name, stack in assembly.stacks.items():
        if name.startswith("smp-prod-pipeline-"):
            for schedule in stack.resources("AWS::Scheduler::Schedule").values():
                found[schedule["Properties"]["Name"]] = (stack, schedule["Properties"])
    return found


def _pipeline_name_of(stack: StackTemplate, arn: Any) -> str:
    (logical_id, attribute) = arn["Fn::GetAtt"]
    assert attribute == "PipelineArn"
    return stack.template["Resources"][logical_id]["Properties"]["PipelineName"]


def test_prod_schedules_follow_the_modules_and_the_overrides(prod_schedules: dict, assembly: Assembly) -> None:
    # The shipped modules' schedules (a user's new pipeline may add more).
    assert {
        "smp-prod-batch-inference-nightly",
        "smp-prod-fan-out-parent-daily",
        "smp-prod-parallel-shards-every-6-hours",
        "smp-prod-train-evaluate-register-weekly-retrain",
    } <= set(prod_schedules)
    stack, retrain = prod_schedules["smp-prod-train-evaluate-register-weekly-retrain"]
    assert stack.name == "smp-prod-pipeline-train-evaluate-register"
    assert retrain["ScheduleExpression"] == "cron(0 4 ? * MON *)"
    assert "ScheduleExpressionTimezone" not in retrain  # UTC
    target = retrain["Target"]
    assert _pipeline_name_of(stack, target["Arn"]) == "smp-prod-train-evaluate-register"
    assert target["SageMakerPipelineParameters"] == {"PipelineParameterList": [{"Name": "MseThreshold", "Value": "5.5"}]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 7200}
    assert "Arn" in target["DeadLetterConfig"]
    # No EventBridge rule per schedule: rules are limited to 300 per event bus.
    for name, other in assembly.stacks.items():
        assert [r for r in other.resources("AWS::Events::Rule").values() if "ScheduleExpression" in r["Properties"]] == [], name


def test_a_time_zone_is_kept(prod_schedules: dict) -> None:
    stack, schedule = prod_schedules["smp-prod-batch-inference-nightly"]
    assert (schedule["ScheduleExpression"], schedule["ScheduleExpressionTimezone"]) == ("cron(30 1 * * ? *)", "Europe/Paris")
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["Target"]["SageMakerPipelineParameters"] == {"PipelineParameterList": [{"Name": "BatchSize", "Value": "4"}]}
    assert _pipeline_name_of(stack, schedule["Target"]["Arn"]) == "smp-prod-batch-inference"


def test_skip_if_running_goes_through_the_guard_function(prod_schedules: dict, prod: StackTemplate, assembly: Assembly) -> None:
    stack, schedule = prod_schedules["smp-prod-parallel-shards-every-6-hours"]
    target = schedule["Target"]
    functions = {assembly.resolve(prod, {"Fn::GetAtt": [k, "Arn"]}): v for k, v in prod.resources("AWS::Lambda::Function").items()}
    guard_function = functions[assembly.resolve(stack, target["Arn"])]["Properties"]
    assert guard_function["FunctionName"] == "smp-prod-schedule-guard"
    template = target["Input"].replace('"<aws.scheduler.scheduled-time>"', '"2026-11-22T15:00:00Z"')
    assert json.loads(template) == {
        "pipeline_name": "smp-prod-parallel-shards",
        "schedule": "every-6-hours",
        "parameters": [{"Name": "InstanceCount", "Value": "3"}],
        "delivery_id": "2026-11-22T15:00:00Z",
    }
    assert "TargetArn" in guard_function["DeadLetterConfig"]
    guard_role = {"Ref": guard_function["Role"]["Fn::GetAtt"][0]}
    policies = [p["Properties"] for p in prod.resources("AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [guard_role]]
    actions = {a for p in policies for st in p["PolicyDocument"]["Statement"] for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])}
    assert {"sqs:SendMessage", "kms:GenerateDataKey*", "sagemaker:StartPipelineExecution", "sagemaker:ListPipelineExecutions"} <= actions
    # The guard is invoked through each schedule's role: no resource-policy statement per schedule.
    assert prod.resources("AWS::Lambda::Permission") == {}


def test_sandbox_has_schedules_disabled(assembly: Assembly) -> None:
    for name, stack in assembly.stacks.items():
        if name.startswith("smp-sandbox-"):
            assert stack.resources("AWS::Scheduler::Schedule") == {}, name
            assert stack.resources("AWS::SQS::Queue") == {}, name


def test_each_schedule_role_may_start_only_its_own_pipeline(assembly: Assembly, prod_schedules: dict) -> None:
    stack, schedule = prod_schedules["smp-prod-train-evaluate-register-weekly-retrain"]
    role_id = schedule["Target"]["RoleArn"]["Fn::GetAtt"][0]
    identity, boundary = assembly.role_policies(stack, role_id)
    own = assembly.resolve(stack, schedule["Target"]["Arn"])
    other_stack, other_schedule = prod_schedules["smp-prod-fan-out-parent-daily"]
    other = assembly.resolve(other_stack, other_schedule["Target"]["Arn"])
    assert own != other

    def decide(action: str, resource: str) -> Decision:
        return evaluate(identity_policies=identity, boundary=boundary, request=Request(action, resource))

    assert decide("sagemaker:StartPipelineExecution", own) is Decision.ALLOW
    assert decide("sagemaker:StartPipelineExecution", other) is Decision.IMPLICIT_DENY
    # Its own dead letters go through its own role, so the queue's policy never grows with the schedules.
    queue = assembly.resolve(stack, schedule["Target"]["DeadLetterConfig"]["Arn"])
    assert decide("sqs:SendMessage", queue) is Decision.ALLOW
    assert decide("sqs:SendMessage", f"{queue}-other") is Decision.IMPLICIT_DENY
    trust = stack.template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"} and "aws:SourceAccount" in trust["Condition"]["StringEquals"]


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


def test_simulated_firing_starts_the_pipeline_with_the_schedules_parameters(prod_schedules: dict, sagemaker: Any) -> None:
    stack, schedule = prod_schedules["smp-prod-train-evaluate-register-weekly-retrain"]
    target = schedule["Target"]
    logical_id = target["Arn"]["Fn::GetAtt"][0]
    properties = json.loads(json.dumps(unsubstituted(stack.template["Resources"][logical_id]["Properties"])))
    properties["RoleArn"] = "arn:aws:iam::111111111111:role/smp-prod-train-evaluate-register-exec"
    properties.pop("JobFiles", None)
    event = {"RequestType": "Create", "StackId": f"arn:aws:cloudformation:eu-west-1:111111111111:stack/{stack.name}/1", "RequestId": "r-1", "ResourceProperties": properties}
    created = upsert.handle(event=event, client=sagemaker)
    arn = created["Data"]["PipelineArn"]

    # What Scheduler sends for a SageMaker pipeline target.
    parameters = target["SageMakerPipelineParameters"]["PipelineParameterList"]
    execution = sagemaker.start_pipeline_execution(PipelineName=arn.rsplit("/", 1)[1], PipelineParameters=parameters, ClientRequestToken="e" * 36)
    got = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=execution["PipelineExecutionArn"])["PipelineParameters"]
    assert got == [{"Name": "MseThreshold", "Value": "5.5"}]
    declared = {p["Name"]: p["Type"] for p in json.loads(sagemaker.describe_pipeline(PipelineName="smp-prod-train-evaluate-register")["PipelineDefinition"])["Parameters"]}
    assert declared["MseThreshold"] == "Float"


def test_the_alert_topic_admits_each_publisher_for_its_own_source_only(assembly: Assembly, prod: StackTemplate) -> None:
    (topic_id,) = prod.resources("AWS::SNS::Topic")
    (policy,) = [p["Properties"] for p in prod.resources("AWS::SNS::TopicPolicy").values()]
    document = assembly.resolve(prod, policy["PolicyDocument"])
    allows = {s["Sid"]: s for s in document["Statement"] if s["Effect"] == "Allow"}
    assert {sid: s["Principal"] for sid, s in allows.items()} == {
        "FailureRulePublishes": {"Service": "events.amazonaws.com"},
        "EnvironmentAlarmsPublish": {"Service": "cloudwatch.amazonaws.com"},
    }
    (rule_id,) = [k for k, r in prod.resources("AWS::Events::Rule").items() if "EventPattern" in r["Properties"]]
    rule_arn = assembly.resolve(prod, {"Fn::GetAtt": [rule_id, "Arn"]})
    topic = assembly.resolve(prod, {"Ref": topic_id})

    def publish(source: str, account: str = prod.account) -> Decision:
        request = Request("sns:Publish", topic, {"aws:SourceArn": source, "aws:SourceAccount": account, "aws:SecureTransport": "true"})
        return evaluate(identity_policies=[document], boundary=None, request=request)

    assert publish(rule_arn) is Decision.ALLOW
    assert publish(rule_arn.replace(rule_id, "SomeOtherRule")) is Decision.IMPLICIT_DENY
    alarms = f"arn:aws:cloudwatch:{prod.region}:{prod.account}:alarm"
    assert publish(f"{alarms}:smp-prod-schedule-dead-letters") is Decision.ALLOW
    assert publish(f"{alarms}:smp-sandbox-schedule-dead-letters") is Decision.IMPLICIT_DENY
    assert publish(f"{alarms}:smp-prod-schedule-dead-letters", account="222222222222") is Decision.IMPLICIT_DENY


def test_only_this_accounts_flow_logs_may_assume_the_flow_log_role(assembly: Assembly) -> None:
    network = assembly.stack("smp-prod-network")
    role = network.template["Resources"][network.logical_id("AWS::IAM::Role", "Vpc/FlowLog/IAMRole")]["Properties"]
    (statement,) = assembly.resolve(network, role["AssumeRolePolicyDocument"])["Statement"]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": network.account},
        "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{network.region}:{network.account}:vpc-flow-log/*"},
    }
