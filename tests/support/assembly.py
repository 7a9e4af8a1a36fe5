"""Read a synthesized cloud assembly: templates per stack, and CloudFormation values made concrete.

Intrinsics resolve to stable stand-ins (``Ref`` of a resource is its logical id, pseudo parameters
are fixed), so a test can build a request with the same values the policies will see.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
PARTITION = "aws"
DEFAULT_REGION = "us-east-1"


@dataclass
class StackTemplate:
    name: str
    template: dict[str, Any]
    region: str
    account: str

    def resources(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template.get("Resources", {}).items() if v["Type"] == type_name}

    def logical_id(self, type_name: str, path_fragment: str) -> str:
        """The one resource of ``type_name`` whose construct path contains ``path_fragment``."""
        found = [
            k for k, v in self.resources(type_name).items() if path_fragment in v.get("Metadata", {}).get("aws:cdk:path", "")
        ]
        if len(found) != 1:
            raise LookupError(f"{self.name}: expected one {type_name} at *{path_fragment}*, found {found}")
        return found[0]


class Assembly:
    """All stacks of one synthesized ``cdk.out`` (nested stage assemblies included)."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = Path(outdir)
        self.stacks: dict[str, StackTemplate] = {}
        self._load(self.outdir)

    def definition_file(self, *, pipeline: str) -> Path:
        """The readable definition the synth writes beside a stage's templates."""
        (path,) = self.outdir.glob(f"assembly-*/pipeline-definitions/{pipeline}.json")
        return path

    def _load(self, directory: Path) -> None:
        manifest = json.loads((directory / "manifest.json").read_text())
        for artifact_id, artifact in manifest.get("artifacts", {}).items():
            if artifact["type"] == "cdk:cloud-assembly":
                self._load(directory / artifact["properties"]["directoryName"])
            elif artifact["type"] == "aws:cloudformation:stack":
                account, region = artifact["environment"].removeprefix("aws://").split("/")
                stack_name = artifact["properties"].get("stackName", artifact_id)
                template = json.loads((directory / artifact["properties"]["templateFile"]).read_text())
                self.stacks[stack_name] = StackTemplate(
                    name=stack_name,
                    template=template,
                    region=DEFAULT_REGION if region == "unknown-region" else region,
                    account=ACCOUNT if account == "unknown-account" else account,
                )

    def stack(self, suffix: str) -> StackTemplate:
        found = [s for name, s in self.stacks.items() if name.endswith(suffix)]
        if len(found) != 1:
            raise LookupError(f"expected one stack ending in {suffix!r}, found {sorted(self.stacks)}")
        return found[0]

    def _export(self, name: str) -> tuple[StackTemplate, Any]:
        for stack in self.stacks.values():
            for output in stack.template.get("Outputs", {}).values():
                if output.get("Export", {}).get("Name") == name:
                    return stack, output["Value"]
        raise LookupError(f"no stack exports {name!r}")

    def resolve(self, stack: StackTemplate, value: Any) -> Any:
        """``value`` with every intrinsic replaced by its stand-in."""
        if isinstance(value, list):
            return [self.resolve(stack, v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (function, argument), = value.items()
            if function == "Ref":
                return self._ref(stack, argument)
            if function == "Fn::GetAtt":
                return self._get_att(stack, *argument)
            if function == "Fn::Join":
                delimiter, parts = argument
                return delimiter.join(str(self.resolve(stack, p)) for p in parts)
            if function == "Fn::ImportValue":
                source, exported = self._export(self.resolve(stack, argument))
                return self.resolve(source, exported)
            if function == "Fn::GetStackOutput":
                source = self.stacks[argument["StackName"]]
                return self.resolve(source, source.template["Outputs"][argument["OutputName"]]["Value"])
            if function == "Fn::Sub":
                body, variables = (argument, {}) if isinstance(argument, str) else (argument[0], self.resolve(stack, argument[1]))
                return re.sub(r"\$\{([^}!]+)\}", lambda m: str(variables[m.group(1)] if m.group(1) in variables else self._ref(stack, m.group(1))), body)
            if function == "Fn::Select":
                index, items = argument
                return self.resolve(stack, items)[int(index)]
            if function == "Fn::Split":
                delimiter, text = argument
                return str(self.resolve(stack, text)).split(delimiter)
            if function.startswith("Fn::"):
                raise ValueError(f"{stack.name}: intrinsic {function} is not resolved by the test assembly")
        return {k: self.resolve(stack, v) for k, v in value.items()}

    def _ref(self, stack: StackTemplate, name: str) -> str:
        pseudo = {
            "AWS::AccountId": stack.account,
            "AWS::Region": stack.region,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack.name,
        }
        if name in pseudo:
            return pseudo[name]
        resource = stack.template["Resources"][name]
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            return properties.get("RoleName", name)
        if resource["Type"] == "AWS::S3::Bucket":
            return self.resolve(stack, properties.get("BucketName", name.lower()))
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            return f"arn:{PARTITION}:iam::{stack.account}:policy/{properties.get('ManagedPolicyName', name)}"
        return name

    def _get_att(self, stack: StackTemplate, name: str, attribute: str) -> str:
        resource = stack.template["Resources"][name]
        kind = resource["Type"]
        if attribute == "Arn":
            if kind == "AWS::IAM::Role":
                return f"arn:{PARTITION}:iam::{stack.account}:role/{self._ref(stack, name)}"
            if kind == "AWS::S3::Bucket":
                return f"arn:{PARTITION}:s3:::{self._ref(stack, name)}"
            if kind == "AWS::KMS::Key":
                return f"arn:{PARTITION}:kms:{stack.region}:{stack.account}:key/{name}"
            return f"arn:{PARTITION}:{kind.split('::')[1].lower()}:{stack.region}:{stack.account}:{name}"
        if kind == "Custom::SageMakerPipeline" and attribute == "PipelineArn":
            # The handler returns the real ARN, which follows from the name: pipelines in different stacks differ.
            return f"arn:{PARTITION}:sagemaker:{stack.region}:{stack.account}:pipeline/{resource['Properties']['PipelineName']}"
        return f"{name}.{attribute}"

    def role_policies(self, role_stack: StackTemplate, role_logical_id: str) -> tuple[list[dict], dict | None]:
        """The identity policies attached to a role, from any stack, and its resolved permission boundary."""
        role_name = self._ref(role_stack, role_logical_id)
        identity = []
        for stack in self.stacks.values():
            for policy in stack.resources("AWS::IAM::Policy").values():
                roles = self.resolve(stack, policy["Properties"].get("Roles", []))
                if role_name in roles:
                    identity.append(self.resolve(stack, policy["Properties"]["PolicyDocument"]))
        role = role_stack.template["Resources"][role_logical_id]["Properties"]
        for inline in role.get("Policies", []):
            identity.append(self.resolve(role_stack, inline["PolicyDocument"]))
        # Customer managed policies attached to the role (AWS managed ones are not in the assembly).
        attached = set(self.resolve(role_stack, role.get("ManagedPolicyArns", [])))
        for stack in self.stacks.values():
            for logical_id, policy in stack.resources("AWS::IAM::ManagedPolicy").items():
                if self._ref(stack, logical_id) in attached:
                    identity.append(self.resolve(stack, policy["Properties"]["PolicyDocument"]))
        boundary = None
        if "PermissionsBoundary" in role:
            boundary_arn = self.resolve(role_stack, role["PermissionsBoundary"])
            for stack in self.stacks.values():
                for logical_id, policy in stack.resources("AWS::IAM::ManagedPolicy").items():
                    if self._ref(stack, logical_id) == boundary_arn:
                        boundary = self.resolve(stack, policy["Properties"]["PolicyDocument"])
        return identity, boundary


def unsubstituted(value: Any) -> Any:
    """``value`` with each ``Fn::Sub`` replaced by its template string, as CloudFormation receives it."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        body = value["Fn::Sub"]
        return body if isinstance(body, str) else body[0]
    if isinstance(value, dict):
        return {k: unsubstituted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unsubstituted(v) for v in value]
    return value
