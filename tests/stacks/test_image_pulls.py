"""Which images a pipeline's role may pull: the repositories its definition names, nothing else."""

from __future__ import annotations

import pytest

from support.assembly import Assembly
from support.environments import TEST_ACCOUNT, TEST_REGION
from support.iam_evaluator import Decision, Request, evaluate

PULLS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")
SKLEARN = f"arn:aws:ecr:{TEST_REGION}:141502667606:repository/sagemaker-scikit-learn"
STEP_RUNTIME = f"arn:aws:ecr:{TEST_REGION}:{TEST_ACCOUNT}:repository/smp-step-runtime"


def _decide(assembly: Assembly, module: str, action: str, resource: str) -> Decision:
    """The prod role of ``module`` asking for ``action`` on ``resource``, with its identity policies and boundary."""
    stack = assembly.stack(f"smp-prod-pipeline-{module}")
    identity, boundary = assembly.role_policies(stack, stack.logical_id("AWS::IAM::Role", "ExecutionRole/Role"))
    return evaluate(identity_policies=identity, boundary=boundary, request=Request(action=action, resource=resource))


@pytest.mark.parametrize("action", PULLS)
def test_a_role_pulls_from_the_repositories_its_definition_names(assembly: Assembly, action: str) -> None:
    assert _decide(assembly, "train-evaluate-register", action, SKLEARN) is Decision.ALLOW
    assert _decide(assembly, "batch-inference", action, STEP_RUNTIME) is Decision.ALLOW


@pytest.mark.parametrize(
    ("module", "resource"),
    [
        ("train-evaluate-register", SKLEARN.replace("141502667606", "999999999999")),  # the same name in another account
        ("train-evaluate-register", SKLEARN.replace("sagemaker-scikit-learn", "sagemaker-xgboost")),  # another repository of AWS's account
        ("train-evaluate-register", SKLEARN.replace(TEST_REGION, "us-east-1")),  # the same repository in another region
        ("train-evaluate-register", STEP_RUNTIME),  # another pipeline's image, in the environment's own account
        ("batch-inference", SKLEARN),
        ("batch-inference", f"arn:aws:ecr:{TEST_REGION}:{TEST_ACCOUNT}:repository/smp-step-runtime-debug"),
    ],
    ids=["other-account", "other-repository", "other-region", "own-account-unused", "unused-framework", "name-prefix"],
)
def test_a_role_pulls_from_no_other_repository(assembly: Assembly, module: str, resource: str) -> None:
    for action in PULLS:
        assert _decide(assembly, module, action, resource) is not Decision.ALLOW, (action, resource)


def test_a_pipeline_without_images_gets_no_registry_access(assembly: Assembly) -> None:
    assert _decide(assembly, "fan-out-parent", "ecr:GetAuthorizationToken", "*") is not Decision.ALLOW
    assert _decide(assembly, "batch-inference", "ecr:GetAuthorizationToken", "*") is Decision.ALLOW
