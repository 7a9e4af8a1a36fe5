"""The compiler and the infrastructure agree because both take each shared fact from pipeline_defs.contract.

Checked three ways: both sides decide the same cases the same (the IAM Deny and the synth check on
NVMe types, the exemption tag the compiler writes and the Deny reads), the modules that use a fact
hold the contract's very object, and no other module spells a fact again.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest

from base.config import EnvironmentConfig
from base.naming import PIPELINE_NAME_PATTERN
from pipeline_defs import contract
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.schedules import Guardrail, GuardrailExemption
from support.iam_evaluator import Request, matching_sids

REPO_ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRECTORIES = {".git", ".venv", ".venv-checkov", "node_modules", "cdk.out", "tests", "lambda_src", "__pycache__"}
INSTANCE_TYPES = (
    "ml.t3.medium", "ml.m5.large", "ml.m5d.large", "ml.c5.xlarge", "ml.c6id.2xlarge", "ml.r5d.4xlarge",
    "ml.g4dn.xlarge", "ml.p3dn.24xlarge", "ml.p4d.24xlarge", "ml.p4de.24xlarge", "ml.g5.xlarge",
    "ml.g6e.2xlarge", "ml.p5.48xlarge", "ml.trn1.32xlarge", "ml.trn1n.32xlarge", "ml.inf2.xlarge",
    "ml.inf1.xlarge", "ml.m6i.large",
)


def _job_denies(config: EnvironmentConfig) -> list[dict]:
    from stacks.guardrails.policies import job_guardrail_statements

    return [{"Statement": [s.to_statement_json() for s in job_guardrail_statements(config=config)]}]


def _training_step(*, instance_type: str, volume_key: str | None, isolated: bool = True) -> dict:
    """A training step that follows every guardrail except, as told, the volume key and isolation."""
    resources = {"InstanceType": instance_type, "InstanceCount": 1, "VolumeSizeInGB": 30}
    if volume_key:
        resources["VolumeKmsKeyId"] = volume_key
    return {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "ResourceConfig": resources,
            "VpcConfig": {"Subnets": ["${SubnetId0}"], "SecurityGroupIds": ["${JobSecurityGroupId}"]},
            "OutputDataConfig": {"KmsKeyId": "${KmsKeyArn}"},
            "EnableNetworkIsolation": isolated,
            "EnableInterContainerTrafficEncryption": True,
            "Tags": [{"Key": "CostCenter", "Value": "ml-platform"}],
        },
    }


def _compiler_refuses_volume_key(instance_type: str) -> bool:
    from pipeline_defs.validation.guardrails import check_guardrails

    definition = {"Steps": [_training_step(instance_type=instance_type, volume_key="${KmsKeyArn}")]}
    try:
        check_guardrails(
            definition, PipelineDefinitionError, exemptions=(), cost_tag_key="CostCenter", allowed_instance_types=(), platform=None
        )
    except PipelineDefinitionError as error:
        assert "local NVMe storage" in str(error)
        return True
    return False


@pytest.mark.parametrize("instance_type", INSTANCE_TYPES)
def test_the_volume_key_deny_and_the_compiler_agree_on_nvme_instance_types(instance_type: str) -> None:
    """Where the Deny lets a job through without a volume key, the compiler refuses one, and only there."""
    request = Request(
        action="sagemaker:CreateTrainingJob",
        resource="arn:aws:sagemaker:eu-west-1:111111111111:training-job/smp-t-train",
        context={"sagemaker:InstanceTypes": [instance_type]},
    )
    denied = "DenyJobsWithoutVolumeKmsKey" in matching_sids(_job_denies(EnvironmentConfig(name="t")), request, effect="Deny")
    nvme = contract.has_nvme_storage(instance_type)
    assert denied is not nvme
    assert _compiler_refuses_volume_key(instance_type) is nvme


def test_the_isolation_exemption_is_read_from_the_role_never_from_the_request() -> None:
    """The boundary's Deny exempts a job only when the calling role carries the exemption tag, which
    only the pipeline's stack sets; the tag the compiler writes on the job itself exempts nothing."""
    from pipeline_defs.compiler.finishing import tag_isolation_exemptions
    from stacks.guardrails.policies import EXEMPT_ROLE_TAG_VALUE

    definition = {"Steps": [_training_step(instance_type="ml.m5.large", volume_key="k", isolated=False)]}
    assert tag_isolation_exemptions(definition, pipeline_name="smp-t-batch") == ["Train"]
    written = {t["Key"]: t["Value"] for t in definition["Steps"][0]["Arguments"]["Tags"]}
    denies = _job_denies(EnvironmentConfig(name="t"))
    tag = contract.NETWORK_ISOLATION_EXEMPTION_TAG

    def isolation_denied(*, request_tags: dict[str, str], role_tags: dict[str, str]) -> bool:
        context = {
            "sagemaker:NetworkIsolation": "false",
            **{f"aws:RequestTag/{k}": v for k, v in request_tags.items()},
            **{f"aws:PrincipalTag/{k}": v for k, v in role_tags.items()},
        }
        request = Request(action="sagemaker:CreateTrainingJob", resource="*", context=context)
        return "DenyJobsWithoutNetworkIsolation" in matching_sids(denies, request, effect="Deny")

    assert not isolation_denied(request_tags=written, role_tags={tag: EXEMPT_ROLE_TAG_VALUE})
    assert not isolation_denied(request_tags={}, role_tags={tag: EXEMPT_ROLE_TAG_VALUE})
    assert isolation_denied(request_tags=written, role_tags={})
    assert isolation_denied(request_tags={tag: EXEMPT_ROLE_TAG_VALUE}, role_tags={})
    assert isolation_denied(request_tags=written, role_tags={tag: "false"})


def test_an_exempted_nvme_step_passes_without_a_volume_key() -> None:
    from pipeline_defs.validation.guardrails import check_guardrails

    exemption = GuardrailExemption(guardrail=Guardrail.VOLUME_KMS_KEY, reason="NVMe", owner="ml-platform", expires="2099-12-31", steps=("Train",))
    definition = {"Steps": [_training_step(instance_type="ml.g5.xlarge", volume_key=None)]}
    check_guardrails(
        definition, PipelineDefinitionError, exemptions=(exemption,), cost_tag_key="CostCenter", allowed_instance_types=(), platform=None
    )


SHARED_NAMES = (
    "NVME_INSTANCE_PATTERNS", "NETWORK_ISOLATION_EXEMPTION_TAG", "PIPELINE_TAG", "canonical_json",
    "has_nvme_storage", "iter_steps", "CompiledPipeline", "DeclaredParameter",
)


def _project_modules() -> list[ModuleType]:
    """Every module of the layers that meet the contract, wherever a change moved it (no CLIs, no pipelines)."""
    modules = []
    for package_name in ("pipeline_defs", "planning", "stacks", "tools"):
        try:
            package = importlib.import_module(package_name)
        except ModuleNotFoundError:
            continue
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            if info.name.endswith("__main__") or info.name.startswith(("pipeline_defs.pipelines", "pipeline_defs.jobs")):
                continue
            modules.append(importlib.import_module(info.name))
    return modules


def test_stacks_compiler_and_validation_hold_the_contracts_own_objects() -> None:
    """A module that names a shared fact holds the contract's object, and both sides do name them."""
    holders: dict[str, list[str]] = {name: [] for name in SHARED_NAMES}
    for module in _project_modules():
        if module is contract:
            continue
        for name in SHARED_NAMES:
            if name in vars(module):
                assert vars(module)[name] is getattr(contract, name), f"{module.__name__}.{name} is not contract.{name}"
                holders[name].append(module.__name__)

    def held_under(name: str, prefix: str) -> bool:
        return any(holder.startswith(prefix) for holder in holders[name])

    for name in ("NVME_INSTANCE_PATTERNS", "NETWORK_ISOLATION_EXEMPTION_TAG", "canonical_json"):
        assert held_under(name, "stacks."), (name, holders[name])
    assert held_under("NETWORK_ISOLATION_EXEMPTION_TAG", "pipeline_defs.compiler."), holders
    assert held_under("canonical_json", "pipeline_defs.compiler."), holders
    assert held_under("has_nvme_storage", "pipeline_defs.validation."), holders
    assert held_under("iter_steps", "pipeline_defs.validation.") and held_under("iter_steps", "pipeline_defs.mermaid"), holders


def test_canonical_json_is_sorted_compact_and_keeps_unicode() -> None:
    assert contract.canonical_json({"b": [1, 2.5, None], "a": {"é": "ü"}}) == '{"a":{"é":"ü"},"b":[1,2.5,null]}'


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _is_canonical_dumps(node: ast.AST) -> bool:
    """``json.dumps(..., sort_keys=True, separators=(",", ":"))``: the canonical serialization retyped."""
    if not isinstance(node, ast.Call) or not (isinstance(node.func, ast.Attribute) and node.func.attr == "dumps"):
        return False
    keywords = {k.arg: k.value for k in node.keywords}
    sort_keys = keywords.get("sort_keys")
    separators = keywords.get("separators")
    return (
        isinstance(sort_keys, ast.Constant) and sort_keys.value is True
        and isinstance(separators, ast.Tuple) and [getattr(e, "value", None) for e in separators.elts] == [",", ":"]
    )


def _source_files(root: Path) -> list[Path]:
    return sorted(
        path for path in root.rglob("*.py") if not SKIPPED_DIRECTORIES & set(path.relative_to(root).parts[:-1])
    )


def test_no_module_spells_a_shared_fact_again() -> None:
    """Tag names, NVMe families, the name rule and the canonical serialization appear only where defined."""
    facts = {
        contract.PIPELINE_TAG: "pipeline tag",
        contract.NETWORK_ISOLATION_EXEMPTION_TAG: "isolation exemption tag",
        PIPELINE_NAME_PATTERN.pattern: "pipeline-name rule",
        **{pattern: "NVMe instance family" for pattern in contract.NVME_INSTANCE_PATTERNS},
    }
    owners = {Path("pipeline_defs/contract.py"), Path("base/naming.py")}
    copies = []
    for path in _source_files(REPO_ROOT):
        relative = path.relative_to(REPO_ROOT)
        if relative in owners:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in facts and id(node) not in docstrings:
                copies.append(f"{relative}:{node.lineno}: {facts[node.value]} {node.value!r}")
            elif _is_canonical_dumps(node):
                copies.append(f"{relative}:{node.lineno}: canonical JSON serialization")
    assert copies == []


def test_the_lambda_copies_of_the_pipeline_name_rule_equal_the_rule() -> None:
    """The Lambda handlers ship alone, so they keep a copy; it must stay the same rule (anchors aside)."""
    rule = PIPELINE_NAME_PATTERN.pattern.strip("^$")
    copies = []
    for path in sorted((REPO_ROOT / "lambda_src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "(-*[a-zA-Z0-9])" in node.value:
                copies.append((path.relative_to(REPO_ROOT).as_posix(), node.value))
    assert copies, "no handler checks pipeline names any more: remove this test"
    assert [value.strip("^$") for _, value in copies] == [rule] * len(copies), copies
