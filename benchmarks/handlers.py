"""Lambda handler costs against moto, with ratios to baselines measured in the same run.

- pipeline upsert: import time (baseline: importing boto3 alone), per-event time for create,
  unchanged update, update and delete (baseline: one DescribePipeline call);
- fan-out: 1,000 child starts with 20% of calls throttled (baseline: the same without throttling),
  checking every item started exactly once and the time against the function's timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "eu-west-1"})

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from stacks.pipelines.definition_parts import split_definition  # noqa: E402
from support.faults import Throttler  # noqa: E402
from support.lambdas import load_handler  # noqa: E402

FAN_OUT_TIMEOUT_SECONDS = 600  # stacks/functions/lambda_step_targets.py
ROLE = "arn:aws:iam::123456789012:role/smp-bench-sagemaker-execution"


def _import_seconds(statement: str, runs: int) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lambda_src")}  # the asset root, as /var/task in Lambda
    return statistics.median(float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout) for _ in range(runs))


def _definition(instance_type: str) -> str:
    steps = [{"Name": f"Step{i}", "Type": "Processing", "Arguments": {"ProcessingResources": {"ClusterConfig": {"InstanceType": instance_type, "InstanceCount": 1, "VolumeSizeInGB": 30}}}} for i in range(8)]
    return json.dumps({"Version": "2020-12-01", "Metadata": {}, "Parameters": [], "Steps": steps})


def _event(kind: str, name: str, instance_type: str, request: int) -> dict:
    properties = {"ServiceToken": "x", "PipelineName": name, "RoleArn": ROLE, "Definition": split_definition(definition=_definition(instance_type)), "Tags": [{"Key": "CostCenter", "Value": "bench"}]}
    event = {"RequestType": kind, "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/bench/1", "RequestId": f"req-{request:08d}-0000-0000-0000-000000000000", "ResourceProperties": properties}
    if kind != "Create":
        event["PhysicalResourceId"] = name
    return event


def bench_upsert(runs: int) -> None:
    handler = load_handler("pipeline_upsert")
    boto_import = _import_seconds("import boto3", runs)
    handler_import = _import_seconds("import pipeline_upsert.handler", runs)
    print(f"upsert handler import   median {handler_import * 1000:7.1f} ms   ratio to 'import boto3' {handler_import / boto_import:.2f}x")
    timings: dict[str, list[float]] = {"describe (baseline)": [], "create": [], "unchanged update": [], "update": [], "delete": []}
    with mock_aws():
        client = boto3.client("sagemaker", config=handler.CLIENT_CONFIG)
        for run in range(runs * 10):
            name = f"smp-bench-p{run}"
            for label, event in (
                ("create", _event("Create", name, "ml.m5.large", run)),
                ("describe (baseline)", None),
                ("unchanged update", _event("Update", name, "ml.m5.large", run)),
                ("update", _event("Update", name, "ml.m5.xlarge", run)),
                ("delete", _event("Delete", name, "ml.m5.xlarge", run)),
            ):
                start = time.perf_counter()
                if event is None:
                    client.describe_pipeline(PipelineName=name)
                else:
                    handler.handle(event=event, client=client)
                timings[label].append(time.perf_counter() - start)
    baseline = statistics.median(timings["describe (baseline)"])
    for label, values in timings.items():
        median = statistics.median(values)
        print(f"upsert {label:<20} median {median * 1000:7.2f} ms   ratio to one DescribePipeline {median / baseline:.2f}x")


def bench_fan_out(items: int) -> None:
    fan_out = load_handler("fan_out")
    results = {}
    with mock_aws():
        client = boto3.client("sagemaker", config=fan_out.CLIENT_CONFIG)
        for label, rate in (("no throttling (baseline)", 0.0), ("20% throttled", 0.2)):
            child = f"smp-bench-child-{int(rate * 100)}"
            client.create_pipeline(PipelineName=child, PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}), RoleArn=ROLE, ClientRequestToken="t" * 40)
            throttler = Throttler(client, operation="StartPipelineExecution", rate=rate) if rate else None
            request = fan_out.parse_request(event={"child_pipeline": child, "items_json": json.dumps([{"Item": str(i)} for i in range(items)]), "parent_execution_id": f"bench-{label}"})
            start = time.perf_counter()
            started = fan_out.fan_out(client=client, request=request, deadline=time.monotonic() + FAN_OUT_TIMEOUT_SECONDS - 10)
            elapsed = time.perf_counter() - start
            if throttler:
                throttler.remove()
            executions, kwargs = [], {"PipelineName": child, "MaxResults": 100}
            while True:
                page = client.list_pipeline_executions(**kwargs)
                executions += page["PipelineExecutionSummaries"]
                if not page.get("NextToken"):
                    break
                kwargs["NextToken"] = page["NextToken"]
            names = sorted(e["PipelineExecutionDisplayName"] for e in executions)
            exactly_once = names == sorted(fan_out.display_name(child_pipeline=child, index=i) for i in range(items))
            results[label] = elapsed
            throttled = throttler.throttled if throttler else 0
            print(
                f"fan-out {label:<24} {items} items in {elapsed:6.2f} s ({elapsed / FAN_OUT_TIMEOUT_SECONDS:.1%} of the {FAN_OUT_TIMEOUT_SECONDS} s timeout), "
                f"{throttled} throttled calls, started exactly once: {exactly_once}, lost: {items - len(set(s.index for s in started))}"
            )
    print(f"fan-out ratio throttled / baseline {results['20% throttled'] / results['no throttling (baseline)']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()
    bench_upsert(args.runs)
    bench_fan_out(args.items)


if __name__ == "__main__":
    main()
