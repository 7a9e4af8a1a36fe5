"""Pipelines move between stacks without being deleted; job files are written only under their pipeline's prefix.

The migration sequence runs against moto in the order CloudFormation runs it, and every call the
handler sends is recorded, so a DeletePipeline issued too early fails the test, not only a missing pipeline.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any, Iterator

import boto3
import pytest
from moto import mock_aws

from base.naming import MANAGED_BY_TAG, pipeline_stack_name
from stacks.pipelines.definition_parts import split_definition
from support.lambdas import load_handler

handler = load_handler("pipeline_upsert")
ownership = load_handler("pipeline_upsert", module="ownership")

REGION = "eu-west-1"
ACCOUNT = "123456789012"
OLD_STACK = "smp-sandbox-pipelines"
NEW_STACK = "smp-sandbox-pipeline-abalone"
NAME = "smp-sandbox-abalone"
DEFINITION = json.dumps({"Version": "2020-12-01", "Metadata": {}, "Parameters": [], "Steps": [{"Name": "Wait", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}]})


def _stack_id(stack: str) -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{stack}/0f0e0d0c-1111-2222-3333-444455556666"


def _properties(**extra: Any) -> dict[str, Any]:
    return {
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:provider",
        "PipelineName": NAME,
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{NAME}-exec",
        "Definition": split_definition(definition=DEFINITION),
        "Tags": [{"Key": "Pipeline", "Value": "abalone"}, {"Key": "Environment", "Value": "sandbox"}],
        "RetainOnDelete": "false",
        **extra,
    }


def _event(request_type: str, *, stack: str, properties: dict, physical_id: str | None = None, resource_type: str = "Custom::SageMakerPipeline") -> dict:
    event = {
        "RequestType": request_type,
        "StackId": _stack_id(stack),
        "RequestId": f"{stack}-{request_type}",
        "LogicalResourceId": "Pipeline",
        "ResourceType": resource_type,
        "ResourceProperties": properties,
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    return event


class Calls:
    """Every SageMaker operation the handler sends, in order, and every S3 write among them."""

    def __init__(self, sagemaker: Any, s3: Any) -> None:
        self.operations: list[str] = []
        sagemaker.meta.events.register("before-call.sagemaker", lambda model, **_: self.operations.append(model.name))
        s3.meta.events.register("provide-client-params.s3.PutObject", lambda params, **_: self.operations.append(f"PutObject {params['Key']}"))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, Calls]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        s3 = boto3.client("s3", region_name=REGION)
        yield sagemaker, s3, Calls(sagemaker, s3)


def _owner(sagemaker: Any) -> str | None:
    arn = sagemaker.describe_pipeline(PipelineName=NAME)["PipelineArn"]
    return {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]}.get(MANAGED_BY_TAG)


def _old_layout_with_history(sagemaker: Any, s3: Any) -> str:
    handler.handle(event=_event("Create", stack=OLD_STACK, properties=_properties()), client=sagemaker, s3_client=s3)
    return sagemaker.start_pipeline_execution(PipelineName=NAME, ClientRequestToken="history-0001-" + "0" * 20)["PipelineExecutionArn"]


def _handover_event() -> dict:
    return _event(
        "Create", stack=OLD_STACK, resource_type="Custom::SageMakerPipelineHandover",
        properties={"ServiceToken": "x", "PipelineNamePrefix": "smp-sandbox-", "ResourcePrefix": "smp-sandbox"},
    )


def test_migration_in_cloudformations_order_keeps_the_pipeline_and_its_history(aws: tuple) -> None:
    sagemaker, s3, calls = aws
    execution = _old_layout_with_history(sagemaker, s3)
    calls.operations.clear()
    # 1. The shared stack's update creates the handover resource before its cleanup phase.
    handler.handle(event=_handover_event(), client=sagemaker)
    assert _owner(sagemaker) == NEW_STACK
    # 2. Cleanup: the old pipeline resource's Delete finds another owner.
    handler.handle(event=_event("Delete", stack=OLD_STACK, properties=_properties(), physical_id=NAME), client=sagemaker)
    # 3. The pipeline's own stack is created and adopts it.
    handler.handle(event=_event("Create", stack=NEW_STACK, properties=_properties()), client=sagemaker, s3_client=s3)
    assert "DeletePipeline" not in calls.operations and "CreatePipeline" not in calls.operations
    assert _owner(sagemaker) == NEW_STACK
    executions = sagemaker.list_pipeline_executions(PipelineName=NAME)["PipelineExecutionSummaries"]
    assert [e["PipelineExecutionArn"] for e in executions] == [execution]


def test_new_stack_first_then_old_stack_delete_with_an_explicit_handover(aws: tuple) -> None:
    sagemaker, s3, calls = aws
    _old_layout_with_history(sagemaker, s3)
    calls.operations.clear()
    handler.handle(event=_event("Create", stack=NEW_STACK, properties=_properties(AdoptFrom=[OLD_STACK])), client=sagemaker, s3_client=s3)
    handler.handle(event=_event("Delete", stack=OLD_STACK, properties=_properties(), physical_id=NAME), client=sagemaker)
    assert "DeletePipeline" not in calls.operations
    assert _owner(sagemaker) == NEW_STACK


def test_adoption_from_a_stack_not_named_is_refused(aws: tuple) -> None:
    sagemaker, s3, calls = aws
    _old_layout_with_history(sagemaker, s3)
    with pytest.raises(RuntimeError, match=f"managed by {OLD_STACK}, not {NEW_STACK}: refusing"):
        handler.handle(event=_event("Create", stack=NEW_STACK, properties=_properties(AdoptFrom=["smp-sandbox-other"])), client=sagemaker)
    assert _owner(sagemaker) == OLD_STACK


def test_the_owning_stack_still_deletes_its_pipeline(aws: tuple) -> None:
    sagemaker, s3, calls = aws
    _old_layout_with_history(sagemaker, s3)
    handler.handle(event=_event("Delete", stack=OLD_STACK, properties=_properties(), physical_id=NAME), client=sagemaker)
    assert calls.operations[-1] == "DeletePipeline"
    assert sagemaker.list_pipelines()["PipelineSummaries"] == []


def test_handover_moves_only_this_stacks_pipelines_of_the_prefix(aws: tuple) -> None:
    sagemaker, s3, _ = aws
    _old_layout_with_history(sagemaker, s3)
    other = _properties(PipelineName="smp-sandbox-other", Tags=[{"Key": "Pipeline", "Value": "other"}])
    handler.handle(event=_event("Create", stack="smp-sandbox-someone-else", properties=other), client=sagemaker)
    result = handler.handle(event=_handover_event(), client=sagemaker)
    assert result["Data"] == {"HandedOver": "1"}
    arn = sagemaker.describe_pipeline(PipelineName="smp-sandbox-other")["PipelineArn"]
    assert {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]}[MANAGED_BY_TAG] == "smp-sandbox-someone-else"


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def _job_file_buckets(s3: Any, files: dict[str, bytes]) -> dict[str, str]:
    for bucket in ("cdk-assets", "smp-sandbox-artifacts"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="cdk-assets", Key="abc.zip", Body=_zip(files))
    return {"S3Bucket": "cdk-assets", "S3Key": "abc.zip", "Bucket": "smp-sandbox-artifacts"}


def test_job_files_land_at_their_keys_before_the_pipeline_is_created(aws: tuple) -> None:
    sagemaker, s3, calls = aws
    files = {f"{NAME}/code/1f2e/preprocess.py": b"print('x')\n", f"{NAME}/Train/b1/payload.pkl": b"\x80\x04"}
    job_files = _job_file_buckets(s3, files)
    calls.operations.clear()
    handler.handle(event=_event("Create", stack=NEW_STACK, properties=_properties(JobFiles=job_files)), client=sagemaker, s3_client=s3)
    for key, body in files.items():
        assert s3.get_object(Bucket="smp-sandbox-artifacts", Key=key)["Body"].read() == body
    writes = [op for op in calls.operations if op.startswith("PutObject") or op == "CreatePipeline"]
    assert writes == [*(f"PutObject {key}" for key in sorted(files)), "CreatePipeline"]


@pytest.mark.parametrize("key", ["smp-sandbox-other/code/x.py", f"{NAME}/../smp-sandbox-other/code/x.py", "code/x.py"])
def test_a_job_file_outside_the_pipelines_prefix_is_refused_and_nothing_is_written(aws: tuple, key: str) -> None:
    sagemaker, s3, calls = aws
    job_files = _job_file_buckets(s3, {f"{NAME}/code/ok.py": b"ok", key: b"evil"})
    calls.operations.clear()
    with pytest.raises(RuntimeError, match=r"JobFiles.*outside the pipeline's own prefix"):
        handler.respond(event=_event("Create", stack=NEW_STACK, properties=_properties(JobFiles=job_files)), client=sagemaker)
    assert s3.list_objects_v2(Bucket="smp-sandbox-artifacts").get("KeyCount") == 0
    assert [op for op in calls.operations if op.startswith("PutObject") or op.endswith("Pipeline")] == []


def test_the_handlers_naming_copies_match_the_project(aws: tuple) -> None:
    assert ownership.MANAGED_BY_TAG == MANAGED_BY_TAG
    for module in ("abalone", "a" * 40, "b" * 130, "train-evaluate-register"):
        for prefix in ("smp-sandbox", "smp-prod"):
            assert ownership.pipeline_stack_name(resource_prefix=prefix, module_pipeline_name=module) == pipeline_stack_name(
                resource_prefix=prefix, module_pipeline_name=module
            )


def test_the_handover_resource_type_matches_the_project() -> None:
    from base.naming import HANDOVER_RESOURCE_TYPE

    assert load_handler("pipeline_upsert", module="request").HANDOVER_RESOURCE_TYPE == HANDOVER_RESOURCE_TYPE
