"""The @step function bodies of the batch inference pipeline, run locally against moto's S3."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from conftest import REPO_ROOT


@pytest.fixture(scope="module")
def steps():
    from pipeline_defs.loader import import_module_file

    return import_module_file(REPO_ROOT / "pipeline_defs" / "pipelines" / "batch_inference.py")


@pytest.fixture
def s3(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="data")
        for index in range(5):
            client.put_object(Bucket="data", Key=f"in/part-{index}.csv", Body=f"{index},1\n{index},2\n".encode())
        client.put_object(Bucket="data", Key="in/readme.txt", Body=b"not data")
        client.put_object(Bucket="data", Key="models/model.json", Body=json.dumps({"weights": [2, 10], "intercept": 1}).encode())
        yield client


def test_list_batches_groups_csv_keys(steps, s3):
    batches, total = steps.list_batches("s3://data/in/", 2)
    assert total == 5
    assert batches == [
        ["s3://data/in/part-0.csv", "s3://data/in/part-1.csv"],
        ["s3://data/in/part-2.csv", "s3://data/in/part-3.csv"],
        ["s3://data/in/part-4.csv"],
    ]


def test_score_then_summarise_write_predictions_and_summary(steps, s3):
    batches, total = steps.list_batches("s3://data/in", 3)
    result = steps.score_batches(batches, "s3://data/models/model.json", "s3://data/out", "exec-1")
    assert result == {"scored_rows": 10, "scored_files": 5, "output_uri": "s3://data/out/exec-1"}
    body = s3.get_object(Bucket="data", Key="out/exec-1/part-3.csv")["Body"].read().decode()
    assert body == "17.000000\n27.000000\n"
    uri = steps.summarise(result["scored_rows"], total, result["output_uri"])
    assert uri == "s3://data/out/exec-1/_summary.json"
    summary = json.loads(s3.get_object(Bucket="data", Key="out/exec-1/_summary.json")["Body"].read())
    assert summary == {"listed_files": 5, "scored_rows": 10}
