"""Per-pipeline compile time: pipeline_defs' offline path against the stock SDK path, same run.

The stock path builds the same modules with a plain ``PipelineSession`` and a config whose values
the SDK accepts (a concrete role ARN and bucket); its AWS calls (STS, S3 uploads, IAM simulation)
are answered locally by a botocore ``before-send`` stub, so only the SDK's own work is timed.
Both paths run builder + ``Pipeline.definition()``; the offline path also validates, hashes and
packages. The SDK import and the one-off session creation are reported separately.

A second table scales the whole compile (``compile_environment``: load, build, validate, package)
to 1, 10 and 50 generated pipelines, variants of train-evaluate-register written to a temporary
directory; ratios are to the 1-pipeline compile measured in the same run.

    python benchmarks/compile.py [--repeat 5] [--generated-repeat 3] [--generated-only]
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("PIPELINE_DEFS_SIGNING_SEED", "benchmark-only seed")
# What a stock user sets: a region (the SDK needs one) and no client-side IAM role validation.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")

STOCK_ROLE = "arn:aws:iam::111111111111:role/benchmark-execution"
STOCK_BUCKET = "benchmark-artifacts-111111111111"
BUDGET_SECONDS = 0.3

_STS_IDENTITY = (
    b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    b"<GetCallerIdentityResult><Arn>arn:aws:sts::111111111111:assumed-role/benchmark/s</Arn>"
    b"<UserId>AROA:s</UserId><Account>111111111111</Account></GetCallerIdentityResult>"
    b"</GetCallerIdentityResponse>"
)
_IAM_SIMULATION = (
    b'<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
    b"<SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults><member>"
    b"<EvalActionName>s3:PutObject</EvalActionName><EvalDecision>allowed</EvalDecision>"
    b"<EvalResourceName>*</EvalResourceName></member></EvaluationResults>"
    b"</SimulatePrincipalPolicyResult></SimulatePrincipalPolicyResponse>"
)

_S3_BUCKETS = (
    b'<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Buckets><Bucket>'
    + f"<Name>{STOCK_BUCKET}</Name>".encode()
    + b"<CreationDate>2020-01-01T00:00:00.000Z</CreationDate></Bucket></Buckets>"
    b"<Owner><ID>owner</ID></Owner></ListAllMyBucketsResult>"
)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: object):
        yield self._body


def _stub_aws(request=None, event_name: str = "", **_: object):
    """Answer every AWS request of the stock session locally (counted, never sent)."""
    from botocore.awsrequest import AWSResponse

    _stub_aws.calls.append(event_name)
    body = b""
    if "GetCallerIdentity" in event_name:
        body = _STS_IDENTITY
    elif "SimulatePrincipalPolicy" in event_name:
        body = _IAM_SIMULATION
    elif "ListBuckets" in event_name:
        body = _S3_BUCKETS
    return AWSResponse(request.url, 200, {"ETag": '"0"'}, _Raw(body))


_stub_aws.calls = []


BENCHMARK_STEP_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/smp-step-runtime@sha256:689e9dd50804826d04c324c720104e2fc7362bd1a54df6e4898a8b423f2cae15"


def stock_session(region: str):
    import boto3
    import botocore.session
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    from pipeline_defs.compiler import sdk_config

    core = botocore.session.Session()
    core.set_credentials("stub", "stub")
    core.register("before-send", _stub_aws)
    config = sdk_config.sdk_defaults_config(
        role_arn=STOCK_ROLE,
        bucket=STOCK_BUCKET,
        subnet_ids=("subnet-0a", "subnet-0b"),
        security_group_ids=("sg-0a",),
        volume_kms_key="arn:aws:kms:us-east-1:111111111111:key/benchmark",
        output_kms_key="arn:aws:kms:us-east-1:111111111111:key/benchmark",
        tags=[{"Key": "CostCenter", "Value": "benchmark"}],
        network_isolation=True,
        inter_container_encryption=True,
        step_instance_type="ml.m5.large",
        step_image_uri="763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5-cpu-py311",
    )
    return PipelineSession(
        boto_session=boto3.Session(botocore_session=core, region_name=region),
        default_bucket=STOCK_BUCKET,
        sagemaker_config=config,
    )


def stock_compile(item, ctx, session) -> str:
    """Builder + definition through the plain SDK (what a team gets without pipeline_defs)."""
    from pipeline_defs.compiler import sdk_pins
    from pipeline_defs.loader import registered_module

    stock_ctx = ctx.for_pipeline(pipeline_name=ctx.full_pipeline_name(item.pipeline_name), session=session)
    stock_ctx = stock_ctx.__class__(**{**stock_ctx.__dict__, "execution_role_arn": STOCK_ROLE, "artifact_bucket": STOCK_BUCKET})
    with sdk_pins.working_directory(REPO_ROOT / "pipeline_defs"), registered_module(
        item.module
    ), sdk_pins.pickle_by_value(item.module):
        return item.build(stock_ctx).definition()


def timed(function, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


GENERATED_COUNTS = (1, 10, 50)
GENERATED_TEMPLATE = REPO_ROOT / "pipeline_defs" / "pipelines" / "train_evaluate_register.py"


def write_generated_modules(*, directory: Path, count: int) -> list[Path]:
    """``count`` copies of the train-evaluate-register module, each with its own PIPELINE_NAME."""
    source = GENERATED_TEMPLATE.read_text(encoding="utf-8")
    marker = 'PIPELINE_NAME = "train-evaluate-register"'
    if marker not in source:
        raise SystemExit(f"error: {GENERATED_TEMPLATE} no longer contains {marker!r}; update the generator")
    paths = []
    for index in range(count):
        path = directory / f"generated_{index:03d}.py"
        path.write_text(source.replace(marker, f'PIPELINE_NAME = "generated-{index:03d}"'), encoding="utf-8")
        paths.append(path)
    return paths


def generated_scale(*, repeat: int) -> list[tuple[int, float]]:
    """Median wall time of compiling 1, 10 and 50 generated pipelines, after one warm-up."""
    import tempfile

    from pipeline_defs.compiler import compile_environment
    from pipeline_defs.context import context_for_environment

    ctx = context_for_environment(
        env_name="sandbox", region="us-east-1", cost_tag_key="CostCenter", cost_tag_value="ml-platform"
    )
    with tempfile.TemporaryDirectory(prefix="generated-pipelines-") as scratch:
        paths = write_generated_modules(directory=Path(scratch), count=max(GENERATED_COUNTS))
        compile_environment(ctx, module_paths=paths[:1])
        return [
            (count, statistics.median(timed(lambda: compile_environment(ctx, module_paths=paths[:count]), repeat)))
            for count in GENERATED_COUNTS
        ]


def print_generated_scale(results: list[tuple[int, float]]) -> None:
    baseline = results[0][1]
    print()
    print("compile_environment of generated train-evaluate-register variants (baseline: 1 pipeline, same run)")
    print(f"{'pipelines':>9} {'median s':>9} {'per pipeline s':>15} {'ratio':>7}")
    for count, seconds in results:
        print(f"{count:9d} {seconds:9.3f} {seconds / count:15.3f} {seconds / baseline:7.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--generated-repeat", type=int, default=3)
    parser.add_argument("--generated-only", action="store_true", help="only the 1/10/50 generated-pipelines table")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    if args.generated_only:
        logging.disable(logging.CRITICAL)
        print_generated_scale(generated_scale(repeat=args.generated_repeat))
        return 0

    started = time.perf_counter()
    from pipeline_defs import compiler
    from pipeline_defs.compiler.sdk_session import offline_session
    from pipeline_defs.context import context_for_environment
    from pipeline_defs.loader import load_pipeline_modules

    import_seconds = time.perf_counter() - started
    logging.disable(logging.CRITICAL)

    ctx = context_for_environment(
        env_name="sandbox",
        region="us-east-1",
        cost_tag_key="CostCenter",
        cost_tag_value="ml-platform",
        step_image_uri=BENCHMARK_STEP_IMAGE,
    )
    modules = load_pipeline_modules()
    started = time.perf_counter()
    offline_session(region=ctx.region, bucket=ctx.artifact_bucket)
    offline_session_seconds = time.perf_counter() - started
    started = time.perf_counter()
    session = stock_session(ctx.region)
    stock_session_seconds = time.perf_counter() - started

    rows = []
    for item in modules:
        offline = timed(
            lambda: compiler.compile_module(item, ctx=ctx, signing_seed=b"benchmark", development_only_key=False),
            args.repeat + 1,
        )[1:]
        stock = timed(lambda: stock_compile(item, ctx, session), args.repeat + 1)[1:]
        rows.append((item.pipeline_name, statistics.median(offline), statistics.median(stock)))

    print(f"SDK import: {import_seconds:.2f} s; session: offline {offline_session_seconds:.2f} s, stock {stock_session_seconds:.2f} s")
    print(f"median of {args.repeat} runs after one warm-up; stock path AWS calls answered locally: {len(_stub_aws.calls)}")
    print(f"{'pipeline':28} {'offline s':>10} {'stock s':>10} {'ratio':>7}")
    for name, offline_s, stock_s in rows:
        print(f"{name:28} {offline_s:10.3f} {stock_s:10.3f} {offline_s / stock_s:7.2f}")
    total_offline = sum(r[1] for r in rows)
    total_stock = sum(r[2] for r in rows)
    print(f"{'total':28} {total_offline:10.3f} {total_stock:10.3f} {total_offline / total_stock:7.2f}")
    over = [name for name, offline_s, _ in rows if offline_s > BUDGET_SECONDS]
    print(f"budget {BUDGET_SECONDS} s per pipeline: {'met' if not over else 'exceeded by ' + ', '.join(over)}")
    print_generated_scale(generated_scale(repeat=args.generated_repeat))
    return 0 if not over else 1


if __name__ == "__main__":
    sys.exit(main())
