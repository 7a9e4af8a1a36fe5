"""Deploy-time strings a pipeline definition may contain, resolved by the stacks with Fn::Sub.

This is the single list of names the stacks must provide. A definition containing any other
``${...}`` fails to compile, naming the pipeline and the placeholder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Placeholder:
    """One Fn::Sub variable: its name and what the stacks must substitute for it."""

    name: str
    resolves_to: str

    @property
    def token(self) -> str:
        return "${" + self.name + "}"


ACCOUNT_ID = Placeholder("AWS::AccountId", "pseudo parameter: the deploy account")
REGION = Placeholder("AWS::Region", "pseudo parameter: the deploy region")
PARTITION = Placeholder("AWS::Partition", "pseudo parameter: aws, aws-cn or aws-us-gov")
EXECUTION_ROLE_NAME = Placeholder(
    "ExecutionRoleName", "name (not ARN, no path) of the pipeline execution role"
)
ARTIFACT_BUCKET = Placeholder(
    "ArtifactBucket", "artifact bucket name; staged files are deployed under their keys here"
)
KMS_KEY_ARN = Placeholder("KmsKeyArn", "ARN of the environment's KMS key (volumes, outputs)")
JOB_SECURITY_GROUP_ID = Placeholder("JobSecurityGroupId", "security group id for job ENIs")
SUBNET_IDS = tuple(Placeholder(f"SubnetId{i}", f"private isolated job subnet id number {i}") for i in range(16))
"""As many as an environment has job subnets (one per zone, or an existing VPC's list): jobs spread over all."""
DATA_PASSING_FUNCTION_ARN = Placeholder(
    "DataPassingFunctionArn", "ARN of the Lambda used by the data-passing example"
)
FAN_OUT_FUNCTION_ARN = Placeholder(
    "FanOutFunctionArn", "ARN of the Lambda that starts child pipelines"
)

ALL: tuple[Placeholder, ...] = (
    ACCOUNT_ID,
    REGION,
    PARTITION,
    EXECUTION_ROLE_NAME,
    ARTIFACT_BUCKET,
    KMS_KEY_ARN,
    JOB_SECURITY_GROUP_ID,
    *SUBNET_IDS,
    DATA_PASSING_FUNCTION_ARN,
    FAN_OUT_FUNCTION_ARN,
)

NAMES: frozenset[str] = frozenset(p.name for p in ALL)

LAMBDA_FUNCTION_ARNS: dict[str, Placeholder] = {
    "DataPassing": DATA_PASSING_FUNCTION_ARN,
    "FanOut": FAN_OUT_FUNCTION_ARN,
}

EXECUTION_ROLE_ARN = (
    f"arn:{PARTITION.token}:iam::{ACCOUNT_ID.token}:role/{EXECUTION_ROLE_NAME.token}"
)

_TOKEN = re.compile(r"\$\{([^}]*)\}")


def find_names(text: str) -> list[str]:
    """Every ``${...}`` name in the text, in order of appearance, duplicates removed."""
    seen: dict[str, None] = {}
    for match in _TOKEN.finditer(text):
        seen.setdefault(match.group(1), None)
    return list(seen)


def unknown_names(text: str) -> list[str]:
    """Names used in the text that the stacks cannot resolve."""
    return [name for name in find_names(text) if name not in NAMES]
