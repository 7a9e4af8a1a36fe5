"""The drift check: the tests' synthesized app against pipelines deployed into moto, and exact API calls via Stubber.

Pipelines are "deployed" as CloudFormation and the upsert handler would: each template resource's
properties resolved (``support.assembly``), the definition assembled from its parts, tagged with
the owning stack.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from base import network_block
from base.config import EnvironmentConfig, load_environments
from base.errors import ExitCode
from base.naming import MANAGED_BY_TAG, PIPELINE_RESOURCE_TYPE, SHARED_PIPELINES_STACK_SUFFIX
from support.assembly import DEFAULT_REGION, Assembly
from support.environments import ENVIRONMENTS, TEST_ACCOUNT, TEST_REGION
from support.lambdas import load_handler
from tools import drift
from tools.drift_assembly import read_pipelines
from tools.drift_compare import ABSENT, Difference, Named, PlaceholderValues, compare
from tools.drift_report import render_difference
from pipeline_defs.loader import load_pipeline_modules

MOTO_DEFAULT_ACCOUNT = "123456789012"
PREFIX = "smp-prod-"
SHIPPED = tuple(sorted(module.pipeline_name for module in load_pipeline_modules()))
"""Module names of the shipped pipelines."""


def _in_sync(environment: str, *, without: tuple[str, ...]) -> str:
    """The report's in-sync line when every shipped pipeline but ``without`` matches."""
    names = [f"smp-{environment}-{name}" for name in SHIPPED if name not in without]
    return f"in sync ({len(names)}): {', '.join(names) or '-'}"


@pytest.fixture(scope="module")
def environments() -> dict[str, EnvironmentConfig]:
    return load_environments({"environments": ENVIRONMENTS})


def _create_requests(*, assembly: Assembly, environment: str) -> list[dict[str, Any]]:
    """CreatePipeline requests of the environment's pipelines, each from its own stack, every deploy-time value filled in."""
    requests = []
    stacks = [stack for name, stack in assembly.stacks.items() if name.startswith(f"smp-{environment}-")]
    for stack, resource in ((stack, r) for stack in stacks for r in stack.resources(PIPELINE_RESOURCE_TYPE).values()):
        properties = assembly.resolve(stack, resource["Properties"])
        parts = properties["Definition"]
        document = json.loads(parts["Head"])
        document["Steps"] = [json.loads(parts["Steps"][name]) for name in parts["StepOrder"]]
        requests.append(
            {
                "PipelineName": properties["PipelineName"],
                "PipelineDisplayName": properties["DisplayName"],
                "PipelineDescription": properties["Description"],
                "PipelineDefinition": json.dumps(document, sort_keys=True, separators=(",", ":")),
                "RoleArn": properties["RoleArn"],
                "ParallelismConfiguration": {"MaxParallelExecutionSteps": int(properties["MaxParallelExecutionSteps"])},
                "Tags": [*properties["Tags"], {"Key": MANAGED_BY_TAG, "Value": stack.name}],
            }
        )
    return sorted(requests, key=lambda request: request["PipelineName"])


def _deploy(*, client: Any, synth_dir: Path, environment: str) -> list[str]:
    names = []
    for request in _create_requests(assembly=Assembly(synth_dir), environment=environment):
        client.create_pipeline(**request)
        names.append(request["PipelineName"])
    return names


def _edit_definition(*, client: Any, name: str, edit: Any) -> None:
    """A console or CLI edit: UpdatePipeline with a changed definition, no CloudFormation involved."""
    document = json.loads(client.describe_pipeline(PipelineName=name)["PipelineDefinition"])
    edit(document)
    client.update_pipeline(PipelineName=name, PipelineDefinition=json.dumps(document))


def _retag(*, client: Any, name: str, key: str, value: str) -> None:
    arn = client.describe_pipeline(PipelineName=name)["PipelineArn"]
    client.delete_tags(ResourceArn=arn, TagKeys=[key])
    client.add_tags(ResourceArn=arn, Tags=[{"Key": key, "Value": value}])


def _step(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(step for step in document["Steps"] if step["Name"] == name)


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto as the tests' prod account and region."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", TEST_REGION)
    monkeypatch.setenv("MOTO_ACCOUNT_ID", TEST_ACCOUNT)
    with mock_aws():
        yield boto3.client("sagemaker", region_name=TEST_REGION)


def _run(capsys: pytest.CaptureFixture[str], *argv: str, **kwargs: Any) -> tuple[int, str, str]:
    code = drift.main(list(argv), **kwargs)
    out, err = capsys.readouterr()
    return code, out, err


# --- against moto -------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["prod", "sandbox"])
def test_a_freshly_deployed_environment_has_no_drift(
    environment: str, synth_dir: Path, environments: dict, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # sandbox names no account or region: pseudo parameters come from the deployed ARNs.
    region, account_id = (TEST_REGION, TEST_ACCOUNT) if environment == "prod" else (DEFAULT_REGION, MOTO_DEFAULT_ACCOUNT)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("MOTO_ACCOUNT_ID", account_id)
    with mock_aws():
        names = _deploy(client=boto3.client("sagemaker", region_name=region), synth_dir=synth_dir, environment=environment)
        code, out, err = _run(capsys, "--env", environment, "--assembly", str(synth_dir), environments=environments)
    assert (code, err) == (ExitCode.OK, ""), err
    assert len(names) == len(SHIPPED)
    assert f"in sync ({len(names)}): {', '.join(names)}" in out.splitlines()
    assert out.splitlines()[-1] == "no drift"


def test_edited_missing_and_unmanaged_pipelines_are_reported(
    account: Any, synth_dir: Path, environments: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    _deploy(client=account, synth_dir=synth_dir, environment="prod")

    def loosen_training(document: dict[str, Any]) -> None:
        train = _step(document, "Train")
        train["Arguments"]["ResourceConfig"]["InstanceCount"] = 4
        train["Arguments"]["EnableNetworkIsolation"] = False

    _edit_definition(client=account, name="smp-prod-train-evaluate-register", edit=loosen_training)
    _retag(client=account, name="smp-prod-fan-out-parent", key="SourceVersion", value="sha256-0000000000000000")
    account.delete_pipeline(PipelineName="smp-prod-parallel-shards")
    account.create_pipeline(PipelineName="smp-prod-scratch", PipelineDefinition="{}", RoleArn="arn:aws:iam::111111111111:role/x")
    # Contains the prefix but does not start with it: another environment's business.
    account.create_pipeline(PipelineName="x-smp-prod-other", PipelineDefinition="{}", RoleArn="arn:aws:iam::111111111111:role/x")

    code, out, err = _run(capsys, "--env", "prod", "--assembly", str(synth_dir), environments=environments)

    assert (code, err) == (ExitCode.ATTENTION, "")
    lines = out.splitlines()
    changed = lines[lines.index("changed outside CloudFormation (2), synthesized → deployed:") :]
    assert changed[:4] == [
        "changed outside CloudFormation (2), synthesized → deployed:",
        "  smp-prod-fan-out-parent",
        "    tag SourceVersion: " + json.dumps(_source_version(synth_dir, "smp-prod-fan-out-parent")) + ' → "sha256-0000000000000000"',
        "  smp-prod-train-evaluate-register",
    ]
    assert sorted(changed[4:6]) == [
        "    step Train: Arguments.EnableNetworkIsolation: true → false",
        "    step Train: Arguments.ResourceConfig.InstanceCount: 1 → 4",
    ]
    assert lines[lines.index("missing in the account (1):") + 1] == "  smp-prod-parallel-shards"
    assert lines[lines.index("unmanaged (no smp:managed-by tag) (1):") + 1] == "  smp-prod-scratch"
    assert "x-smp-prod-other" not in out
    assert lines[-1] == "drift: 2 changed, 1 missing, 1 unmanaged"


def _source_version(synth_dir: Path, name: str) -> str:
    pipeline = next(p for p in read_pipelines(assembly=synth_dir, environment="prod") if p.name == name)
    return pipeline.tags["SourceVersion"]


def test_a_key_swapped_throughout_one_pipeline_differs_from_the_other_pipelines(
    account: Any, synth_dir: Path, environments: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    _deploy(client=account, synth_dir=synth_dir, environment="prod")
    text = account.describe_pipeline(PipelineName="smp-prod-parallel-shards")["PipelineDefinition"]
    key_arn = json.loads(text)["Steps"][0]["Arguments"]["ProcessingOutputConfig"]["KmsKeyId"]
    foreign = "arn:aws:kms:eu-west-1:999999999999:key/foreign"
    account.update_pipeline(PipelineName="smp-prod-parallel-shards", PipelineDefinition=text.replace(key_arn, foreign))

    code, out, _ = _run(capsys, "--env", "prod", "--assembly", str(synth_dir), environments=environments)

    assert code == ExitCode.ATTENTION
    lines = out.splitlines()
    assert lines[1:3] == [
        "changed outside CloudFormation (1), synthesized → deployed:",
        "  smp-prod-parallel-shards",
    ]
    assert lines[3].startswith(f'    ${{KmsKeyArn}} is "{foreign}" here, but "{key_arn}" in smp-prod-batch-inference, ')


def test_a_value_changed_in_one_place_only_is_a_difference_at_that_place(
    account: Any, synth_dir: Path, environments: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    _deploy(client=account, synth_dir=synth_dir, environment="prod")

    def move_output(document: dict[str, Any]) -> None:
        config = _step(document, "Train")["Arguments"]["OutputDataConfig"]
        config["KmsKeyId"] = "alias/aws/s3"

    definition = account.describe_pipeline(PipelineName="smp-prod-train-evaluate-register")["PipelineDefinition"]
    key_arn = _step(json.loads(definition), "Train")["Arguments"]["OutputDataConfig"]["KmsKeyId"]
    _edit_definition(client=account, name="smp-prod-train-evaluate-register", edit=move_output)

    code, out, _ = _run(capsys, "--env", "prod", "--assembly", str(synth_dir), environments=environments)

    assert code == ExitCode.ATTENTION
    # The key's value is the one the rest of the pipeline uses; the step's other placeholders still match.
    assert out.splitlines()[2:5] == [
        "  smp-prod-train-evaluate-register",
        f'    step Train: Arguments.OutputDataConfig.KmsKeyId: "{key_arn}" → "alias/aws/s3"',
        _in_sync("prod", without=("train-evaluate-register",)),
    ]


def test_a_managed_pipeline_no_longer_in_the_app_is_listed_but_is_not_drift(
    account: Any, synth_dir: Path, environments: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    _deploy(client=account, synth_dir=synth_dir, environment="prod")
    account.create_pipeline(
        PipelineName="smp-prod-retired",
        PipelineDefinition="{}",
        RoleArn="arn:aws:iam::111111111111:role/x",
        Tags=[{"Key": MANAGED_BY_TAG, "Value": "smp-prod-pipelines"}],
    )
    code, out, _ = _run(capsys, "--env", "prod", "--assembly", str(synth_dir), environments=environments)
    assert code == ExitCode.OK
    lines = out.splitlines()
    assert lines[lines.index("not drift: managed, no longer in the app (kept by a retain policy) (1):") + 1] == "  smp-prod-retired"


def _role_arn(name: str) -> str:
    return f"arn:aws:iam::{TEST_ACCOUNT}:role/{name}-exec"


def test_each_pipeline_is_compared_with_the_role_of_its_own_stack(
    account: Any, synth_dir: Path, environments: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every pipeline stack has the same logical ids: another pipeline's role is a difference, not a consistent value."""
    _deploy(client=account, synth_dir=synth_dir, environment="prod")
    assert account.describe_pipeline(PipelineName="smp-prod-batch-inference")["RoleArn"] == _role_arn("smp-prod-batch-inference")
    account.update_pipeline(PipelineName="smp-prod-batch-inference", RoleArn=_role_arn("smp-prod-parallel-shards"))

    code, out, _ = _run(capsys, "--env", "prod", "--assembly", str(synth_dir), environments=environments)

    assert code == ExitCode.ATTENTION
    assert out.splitlines()[1:4] == [
        "changed outside CloudFormation (1), synthesized → deployed:",
        "  smp-prod-batch-inference",
        f'    setting RoleArn: "{_role_arn("smp-prod-batch-inference")}" → "{_role_arn("smp-prod-parallel-shards")}"',
    ]


def test_a_pipeline_the_shared_stack_still_manages_is_a_move_not_deployed_yet(
    account: Any, synth_dir: Path, environments: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before the deploy that hands pipelines to their own stacks, the account has the shared stack as owner."""
    _deploy(client=account, synth_dir=synth_dir, environment="prod")
    shared = f"smp-prod-{SHARED_PIPELINES_STACK_SUFFIX}"
    _retag(client=account, name="smp-prod-parallel-shards", key=MANAGED_BY_TAG, value=shared)
    _retag(client=account, name="smp-prod-batch-inference", key=MANAGED_BY_TAG, value=shared)
    account.update_pipeline(PipelineName="smp-prod-batch-inference", RoleArn=f"arn:aws:iam::{TEST_ACCOUNT}:role/smp-prod-pipelines-exec")
    # An owner the app does not move the pipeline from is a changed tag, as before.
    _retag(client=account, name="smp-prod-fan-out-parent", key=MANAGED_BY_TAG, value="smp-prod-elsewhere")

    code, out, err = _run(capsys, "--env", "prod", "--assembly", str(synth_dir), environments=environments)

    assert (code, err) == (ExitCode.ATTENTION, "")
    lines = out.splitlines()
    assert lines[1:4] == [
        "changed outside CloudFormation (1), synthesized → deployed:",
        "  smp-prod-fan-out-parent",
        f'    tag {MANAGED_BY_TAG}: "smp-prod-pipeline-fan-out-parent" → "smp-prod-elsewhere"',
    ]
    assert lines[4:8] == [
        "not moved yet (2): still managed by the stack the app moves them from; "
        "`make deploy ENV=prod` hands them over (synthesized → deployed, until then):",
        f"  smp-prod-batch-inference: {MANAGED_BY_TAG} {shared}, in the app smp-prod-pipeline-batch-inference",
        f'    setting RoleArn: "{_role_arn("smp-prod-batch-inference")}" → "arn:aws:iam::{TEST_ACCOUNT}:role/smp-prod-pipelines-exec"',
        f"  smp-prod-parallel-shards: {MANAGED_BY_TAG} {shared}, in the app smp-prod-pipeline-parallel-shards",
    ]
    assert lines[-2:] == [
        _in_sync("prod", without=("fan-out-parent", "batch-inference", "parallel-shards")),
        "drift: 1 changed, 0 missing, 0 unmanaged; 2 not moved to their own stacks yet",
    ]


def test_a_move_not_deployed_alone_is_attention_but_not_drift(
    account: Any, synth_dir: Path, environments: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in _deploy(client=account, synth_dir=synth_dir, environment="prod"):
        _retag(client=account, name=name, key=MANAGED_BY_TAG, value=f"smp-prod-{SHARED_PIPELINES_STACK_SUFFIX}")
    code, out, _ = _run(capsys, "--env", "prod", "--assembly", str(synth_dir), environments=environments)
    assert code == ExitCode.ATTENTION
    assert out.splitlines()[-2:] == ["in sync (0): -", f"no drift; {len(SHIPPED)} not moved to their own stacks yet"]


def test_credentials_of_another_account_are_refused(
    synth_dir: Path, environments: dict, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("MOTO_ACCOUNT_ID", MOTO_DEFAULT_ACCOUNT)
    with mock_aws():
        code, out, err = _run(capsys, "--env", "prod", "--assembly", str(synth_dir), environments=environments)
    assert (code, out) == (ExitCode.UNAVAILABLE, "")
    assert err == (
        f"error: the AWS credentials are for account {MOTO_DEFAULT_ACCOUNT}, but environment prod deploys to "
        f"{TEST_ACCOUNT}: use credentials of {TEST_ACCOUNT}\n"
    )


def test_no_credentials_exit_4_with_one_line(
    synth_dir: Path, environments: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with network_block.blocked():
        code, out, err = _run(capsys, "--env", "prod", "--assembly", str(synth_dir), environments=environments)
    assert (code, out) == (ExitCode.UNAVAILABLE, "")
    assert err.startswith("error: no AWS credentials found for GetCallerIdentity: set AWS_PROFILE")
    assert len(err.splitlines()) == 1


# --- exact calls (Stubber) ----------------------------------------------------------------------


def _stubbed(service: str) -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name=TEST_REGION, aws_access_key_id="x", aws_secret_access_key="y")
    return client, Stubber(client)


def _arn(name: str) -> str:
    return f"arn:aws:sagemaker:{TEST_REGION}:{TEST_ACCOUNT}:pipeline/{name}"


def _summary(name: str) -> dict[str, str]:
    return {"PipelineName": name, "PipelineArn": _arn(name)}


def test_the_calls_list_every_page_then_describe_and_read_tags(synth_dir: Path) -> None:
    requests = {r["PipelineName"]: r for r in _create_requests(assembly=Assembly(synth_dir), environment="prod")}
    synthesized = [p for p in read_pipelines(assembly=synth_dir, environment="prod") if p.name in ("smp-prod-fan-out-parent", "smp-prod-parallel-shards")]
    client, stub = _stubbed("sagemaker")
    stub.add_response(
        "list_pipelines",
        {"PipelineSummaries": [_summary("smp-prod-fan-out-parent"), _summary("x-smp-prod-other")], "NextToken": "page-2"},
        {"PipelineNamePrefix": PREFIX, "MaxResults": 100},
    )
    stub.add_response(
        "list_pipelines",
        {"PipelineSummaries": [_summary("smp-prod-scratch")]},
        {"PipelineNamePrefix": PREFIX, "MaxResults": 100, "NextToken": "page-2"},
    )
    request = requests["smp-prod-fan-out-parent"]
    stub.add_response(
        "describe_pipeline",
        {
            "PipelineArn": _arn(request["PipelineName"]),
            "PipelineName": request["PipelineName"],
            "PipelineDisplayName": request["PipelineDisplayName"],
            "PipelineDescription": request["PipelineDescription"],
            "PipelineDefinition": request["PipelineDefinition"],
            "RoleArn": request["RoleArn"],
            "ParallelismConfiguration": request["ParallelismConfiguration"],
        },
        {"PipelineName": "smp-prod-fan-out-parent"},
    )
    tags = request["Tags"]
    stub.add_response("list_tags", {"Tags": tags[:2], "NextToken": "tags-2"}, {"ResourceArn": _arn("smp-prod-fan-out-parent")})
    stub.add_response("list_tags", {"Tags": tags[2:]}, {"ResourceArn": _arn("smp-prod-fan-out-parent"), "NextToken": "tags-2"})
    stub.add_response("list_tags", {"Tags": []}, {"ResourceArn": _arn("smp-prod-scratch")})
    with stub:
        report = drift.check_drift(sagemaker=client, synthesized=synthesized, prefix=PREFIX, max_workers=1)
        stub.assert_no_pending_responses()
    assert report.in_sync == ["smp-prod-fan-out-parent"]
    assert report.missing == ["smp-prod-parallel-shards"]
    assert report.unmanaged == ["smp-prod-scratch"]
    assert report.changed == {} and report.retained == []


def test_the_account_is_checked_before_any_sagemaker_call(synth_dir: Path, environments: dict, capsys: pytest.CaptureFixture[str]) -> None:
    sts, sts_stub = _stubbed("sts")
    sagemaker, sagemaker_stub = _stubbed("sagemaker")
    sts_stub.add_response("get_caller_identity", {"Account": "222222222222", "Arn": "arn:aws:iam::222222222222:user/u", "UserId": "AID"}, {})
    with sts_stub, sagemaker_stub:
        code, out, err = _run(capsys, "--env", "prod", "--assembly", str(synth_dir), environments=environments, sagemaker=sagemaker, sts=sts)
        sts_stub.assert_no_pending_responses()
    assert code == ExitCode.UNAVAILABLE
    assert "credentials are for account 222222222222, but environment prod deploys to 111111111111" in err


@pytest.mark.parametrize("debug", [False, True])
def test_an_aws_error_exits_4_with_one_error_line(
    debug: bool, synth_dir: Path, environments: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    sts, sts_stub = _stubbed("sts")
    sagemaker, sagemaker_stub = _stubbed("sagemaker")
    sts_stub.add_response("get_caller_identity", {"Account": TEST_ACCOUNT, "Arn": f"arn:aws:iam::{TEST_ACCOUNT}:user/u", "UserId": "AID"}, {})
    message = f"User: arn:aws:iam::{TEST_ACCOUNT}:user/u is not authorized to perform: sagemaker:ListPipelines"
    sagemaker_stub.add_client_error("list_pipelines", service_error_code="AccessDeniedException", service_message=message, http_status_code=400)
    argv = ["--env", "prod", "--assembly", str(synth_dir), *(["--debug"] if debug else [])]
    with sts_stub, sagemaker_stub:
        code, out, err = _run(capsys, *argv, environments=environments, sagemaker=sagemaker, sts=sts)
    assert (code, out) == (ExitCode.UNAVAILABLE, "")
    assert err.splitlines()[-1] == f"error: AWS refused ListPipelines with prefix {PREFIX}: AccessDeniedException: {message}"
    assert ("Traceback" in err) is debug
    if not debug:
        assert len(err.splitlines()) == 1


# --- bad input ----------------------------------------------------------------------------------


def _silent_clients() -> dict[str, Any]:
    """Clients that fail any call: bad input must be refused before AWS is asked anything."""
    clients = {}
    for service in ("sagemaker", "sts"):
        client, stub = _stubbed(service)
        stub.activate()
        clients[service] = client
    return clients


def test_an_unknown_environment_names_the_nearest_one(synth_dir: Path, environments: dict, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--env", "prd", "--assembly", str(synth_dir), environments=environments, **_silent_clients())
    assert (code, out) == (ExitCode.BAD_INPUT, "")
    assert err == "error: --env 'prd' is not an environment of cdk.json (did you mean 'prod'?): expected one of ['prod', 'sandbox']\n"


def test_no_assembly_tells_to_synthesize_first(tmp_path: Path, environments: dict, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--env", "prod", "--assembly", str(tmp_path / "cdk.out"), environments=environments, **_silent_clients())
    assert code == ExitCode.BAD_INPUT
    assert err == f"error: {tmp_path / 'cdk.out'} is not a synthesized cloud assembly (no manifest.json): run `make synth ENV=prod` first\n"


def test_an_assembly_without_the_environment_tells_to_synthesize_it(
    synth_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environments = load_environments({"environments": {**ENVIRONMENTS, "qa": {}}})
    code, _, err = _run(capsys, "--env", "qa", "--assembly", str(synth_dir), environments=environments, **_silent_clients())
    assert code == ExitCode.BAD_INPUT
    assert err == f"error: {synth_dir} has no assembly of environment 'qa' (it has: prod, sandbox): run `make synth ENV=qa` first\n"


# --- the synthesized side and the rendering -----------------------------------------------------


def test_a_definition_sent_as_an_s3_asset_reads_like_an_inline_one(synth_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "cdk.out"
    shutil.copytree(synth_dir, copy, ignore=shutil.ignore_patterns("asset.*", "pipeline-files"))
    template_path = next((copy / "assembly-prod").glob("prodPipelineTrainEvaluateRegister*.template.json"))
    template = json.loads(template_path.read_text())
    name = "smp-prod-train-evaluate-register"
    inline = next(p for p in read_pipelines(assembly=copy, environment="prod") if p.name == name)
    resource = next(r for r in template["Resources"].values() if r["Type"] == PIPELINE_RESOURCE_TYPE and r["Properties"]["PipelineName"] == name)
    substitutions = {k: v for k, v in inline.variables.items() if k != "RoleArn"}
    resource["Properties"]["Definition"] = {"S3Bucket": "assets", "S3Key": "definition.json", "Substitutions": substitutions}
    template_path.write_text(json.dumps(template))

    from_asset = next(p for p in read_pipelines(assembly=copy, environment="prod") if p.name == name)

    assert from_asset == inline


def test_json_values_compare_by_type_and_named_items_by_name() -> None:
    values = PlaceholderValues(variables={}, pseudo={})
    expected = {"Steps": [{"Name": "A", "Retry": True, "Count": 1}, {"Name": "B"}], "Order": ["x", "y"]}
    deployed = {"Steps": [{"Name": "B"}, {"Name": "A", "Retry": 1, "Count": 1.0}], "Order": ["y", "x"]}
    found = compare(expected=expected, deployed=deployed, path=("definition",), values=values)
    assert found == [
        Difference(("definition", "Steps", Named("A"), "Retry"), True, 1),
        Difference(("definition", "Order", 0), "x", "y"),
        Difference(("definition", "Order", 1), "y", "x"),
    ]


def test_one_placeholder_has_one_value_within_a_pipeline() -> None:
    values = PlaceholderValues(variables={"Bucket": {"Fn::GetAtt": ["Bucket", "Name"]}}, pseudo={"AWS::Region": "eu-west-1"})
    assert values.matches(expected="s3://${Bucket}/a/${AWS::Region}", deployed="s3://b1/a/eu-west-1")
    assert not values.matches(expected="s3://${Bucket}/b", deployed="s3://b2/b")
    assert not values.matches(expected="${AWS::Region}", deployed="us-east-1")
    assert values.fill(text="s3://${Bucket}/${Other}") == "s3://b1/${Other}"


def test_long_values_are_shown_where_they_differ() -> None:
    old = "s3://bucket/" + "a" * 100 + "/model-v1.tar.gz"
    new = "s3://bucket/" + "a" * 100 + "/model-v2.tar.gz"
    line = render_difference(
        difference=Difference(("definition", "Steps", Named("Train"), "Arguments", "ModelDataUrl"), old, new)
    )
    assert line == 'step Train: Arguments.ModelDataUrl: …aaaa/model-v1.tar.gz" → …aaaa/model-v2.tar.gz"'
    absent = render_difference(difference=Difference(("definition", "Parameters", Named("Threshold")), {"Name": "Threshold"}, ABSENT))
    assert absent == 'Parameters[Threshold]: {"Name": "Threshold"} → (absent)'


def test_the_managed_by_tag_is_the_one_the_upsert_handler_writes() -> None:
    assert MANAGED_BY_TAG == load_handler("pipeline_upsert").MANAGED_BY_TAG
