"""Job defaults through the SDK's own config mechanism, validated once per environment.

The context's values (VPC, KMS keys, tags, role, ``@step`` settings) become the SDK config
dictionary, so every job gets them without touching each call; a pipeline-wide guardrail
exemption drops its default. The SDK re-validates that dictionary on every lookup (120-270 ms
each); here its shape, the config with the pipeline's name replaced by a stand-in, is validated
once per environment (and per distinct set of pipeline-wide exemptions) and then trusted (the
pins in :mod:`~pipeline_defs.compiler.sdk_pins` install that).
"""

from __future__ import annotations

import collections
import copy
import re
from dataclasses import dataclass
from typing import Any

from pipeline_defs import placeholders
from pipeline_defs.compiler.sdk_session import sdk_environment
from pipeline_defs.compiler.step_image import default_step_image_uri
from pipeline_defs.context import BuildContext
from pipeline_defs.contract import canonical_json
from pipeline_defs.schedules import Guardrail, GuardrailExemption

with sdk_environment():
    from sagemaker.core.config.config_manager import SageMakerConfig  # noqa: E402


def _pruned(value: Any) -> Any:
    """Drop None and emptied entries, so an opted-out default is absent rather than blank."""
    if isinstance(value, dict):
        pruned = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v is not None and v != {} and v != []}
    return value


@dataclass(frozen=True)
class _JobDefaults:
    """The values every job section repeats; each section gets its own copies."""

    role_arn: str
    vpc: dict
    volume_kms_key: str | None
    output_kms_key: str | None
    tags: list[dict[str, str]]
    network_isolation: bool
    inter_container_encryption: bool

    def fresh_tags(self) -> list[dict[str, str]]:
        """A new list each time: the SDK may extend a tag list in place."""
        return [dict(tag) for tag in self.tags]

    def fresh_vpc(self) -> dict:
        return copy.deepcopy(self.vpc)


def _python_sdk_modules(defaults: _JobDefaults, *, bucket: str, step_instance_type: str, step_image_uri: str) -> dict:
    """``SageMaker.PythonSDK.Modules``: telemetry off, ``@step`` jobs and ``ModelTrainer``."""
    return {
        "TelemetryOptOut": True,
        "RemoteFunction": {
            "RoleArn": defaults.role_arn,
            "ImageUri": step_image_uri,
            "InstanceType": step_instance_type,
            "S3RootUri": f"s3://{bucket}",
            "S3KmsKeyId": defaults.output_kms_key,
            "VolumeKmsKeyId": defaults.volume_kms_key,
            "VpcConfig": defaults.fresh_vpc(),
            "EnableInterContainerTrafficEncryption": defaults.inter_container_encryption,
            "Tags": defaults.fresh_tags(),
        },
        # ModelTrainer reads its own space and ignores most of
        # SageMaker.TrainingJob (and outputDataConfig once it set a default).
        "ModelTrainer": {
            "networking": {
                "subnets": list(defaults.vpc.get("Subnets", [])),
                "security_group_ids": list(defaults.vpc.get("SecurityGroupIds", [])),
                "enable_network_isolation": defaults.network_isolation,
                "enable_inter_container_traffic_encryption": defaults.inter_container_encryption,
            },
        },
    }


def _job_sections(defaults: _JobDefaults) -> dict:
    """``SageMaker.ProcessingJob``, ``TrainingJob``, ``TransformJob`` and ``Model``."""
    return {
        "ProcessingJob": {
            "NetworkConfig": {
                "EnableNetworkIsolation": defaults.network_isolation,
                "EnableInterContainerTrafficEncryption": defaults.inter_container_encryption,
                "VpcConfig": defaults.fresh_vpc(),
            },
            "ProcessingOutputConfig": {"KmsKeyId": defaults.output_kms_key},
            "ProcessingResources": {"ClusterConfig": {"VolumeKmsKeyId": defaults.volume_kms_key}},
            "RoleArn": defaults.role_arn,
            "Tags": defaults.fresh_tags(),
        },
        "TrainingJob": {
            "EnableNetworkIsolation": defaults.network_isolation,
            "EnableInterContainerTrafficEncryption": defaults.inter_container_encryption,
            "OutputDataConfig": {"KmsKeyId": defaults.output_kms_key},
            "ResourceConfig": {"VolumeKmsKeyId": defaults.volume_kms_key},
            "RoleArn": defaults.role_arn,
            "VpcConfig": defaults.fresh_vpc(),
            "Tags": defaults.fresh_tags(),
        },
        # TransformOutput.KmsKeyId / TransformResources.VolumeKmsKeyId are left out: SDK
        # 3.27 merges them into snake_case dicts under PascalCase keys and its own model
        # rejects the result. Builders pass output_kms_key/volume_kms_key to Transformer;
        # validation fails the compile when they are missing.
        "TransformJob": {"Tags": defaults.fresh_tags()},
        "Model": {
            "EnableNetworkIsolation": defaults.network_isolation,
            "ExecutionRoleArn": defaults.role_arn,
            "VpcConfig": defaults.fresh_vpc(),
            "Tags": defaults.fresh_tags(),
        },
    }


def sdk_defaults_config(
    *,
    role_arn: str,
    bucket: str,
    subnet_ids: tuple[str, ...],
    security_group_ids: tuple[str, ...],
    volume_kms_key: str | None,
    output_kms_key: str | None,
    tags: list[dict[str, str]],
    network_isolation: bool,
    inter_container_encryption: bool,
    step_instance_type: str,
    step_image_uri: str,
) -> dict:
    """The SDK config dictionary (``SageMaker.*``) carrying every job default.

    Empty subnets, a None key or no tags leave that default out (an explicit exemption).
    """
    vpc = {"Subnets": list(subnet_ids), "SecurityGroupIds": list(security_group_ids)}
    if not subnet_ids or not security_group_ids:
        vpc = {}
    defaults = _JobDefaults(
        role_arn=role_arn,
        vpc=vpc,
        volume_kms_key=volume_kms_key,
        output_kms_key=output_kms_key,
        tags=tags,
        network_isolation=network_isolation,
        inter_container_encryption=inter_container_encryption,
    )
    modules = _python_sdk_modules(
        defaults, bucket=bucket, step_instance_type=step_instance_type, step_image_uri=step_image_uri
    )
    return _pruned({"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": modules}, **_job_sections(defaults)}})


_SCHEMA_STAND_INS = {
    placeholders.PARTITION.name: "aws",
    placeholders.ACCOUNT_ID.name: "000000000000",
    placeholders.REGION.name: "us-east-1",
}


def _with_stand_ins(value: Any) -> Any:
    if isinstance(value, str):
        return re.sub(
            r"\$\{([^}]*)\}",
            lambda m: _SCHEMA_STAND_INS.get(m.group(1), re.sub(r"[^A-Za-z0-9]", "", m.group(1))),
            value,
        )
    if isinstance(value, dict):
        return {k: _with_stand_ins(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_stand_ins(v) for v in value]
    return value


PIPELINE_NAME_STAND_IN = "pipeline-name-stand-in"
"""Validated in place of a pipeline's name: the name reaches only tag values, whose schema
accepts every name ``base.naming`` allows (``tests/pipeline_defs/test_pd_cache_sdk_once.py``)."""


def config_shape(config: Any, *, pipeline_name: str | None) -> Any:
    """The config as every pipeline of an environment has it: each value that is the pipeline's name replaced.

    Only whole values are replaced: a value that merely contains the name keeps the shape apart,
    so it is validated on its own.
    """
    if isinstance(config, dict):
        return {key: config_shape(value, pipeline_name=pipeline_name) for key, value in config.items()}
    if isinstance(config, list):
        return [config_shape(value, pipeline_name=pipeline_name) for value in config]
    return PIPELINE_NAME_STAND_IN if pipeline_name and config == pipeline_name else config


class _TrustedConfigs:
    """Config shapes validated once (placeholders replaced by valid stand-ins), configs then trusted.

    The SDK validates the whole config against its JSON schema on every lookup, checking the
    schema itself each time, and its role pattern rejects a placeholder ARN. Validating each
    shape once keeps the check without either cost. A trusted config is held here while its id
    is trusted (a freed id could be reused by another dict), at most :attr:`HELD` of them.
    """

    HELD = 64

    def __init__(self) -> None:
        self._shapes: set[str] = set()
        self._held: collections.OrderedDict[int, dict] = collections.OrderedDict()

    def validate_and_trust(self, config: dict, *, pipeline_name: str | None) -> dict:
        """Validate the config's shape the first time it is seen; lookups of ``config`` then skip it."""
        shaped = config_shape(config, pipeline_name=pipeline_name)
        shape = canonical_json(shaped)
        if shape not in self._shapes:
            original_validate(_with_stand_ins(shaped))
            self._shapes.add(shape)
        self._held[id(config)] = config
        self._held.move_to_end(id(config))
        while len(self._held) > self.HELD:
            self._held.popitem(last=False)
        return config

    def is_trusted(self, config: Any) -> bool:
        return self._held.get(id(config)) is config


original_validate = SageMakerConfig.validate_sagemaker_config
_trusted_configs = _TrustedConfigs()


def trust_config(config: dict, *, pipeline_name: str | None = None) -> dict:
    """Validate an SDK config's shape once against the SDK's schema; lookups then skip re-validation.

    ``pipeline_name`` is replaced by :data:`PIPELINE_NAME_STAND_IN` before validating, so every
    pipeline of an environment shares one validation. Returns ``config``.
    """
    return _trusted_configs.validate_and_trust(config, pipeline_name=pipeline_name)


def validate_unless_trusted(sagemaker_config: dict | None = None) -> None:
    """Stands in for the SDK's per-lookup validation while a definition builds (see sdk_pins)."""
    if sagemaker_config is not None and _trusted_configs.is_trusted(sagemaker_config):
        return
    original_validate(sagemaker_config)


def _exempt_pipeline_wide(exemptions: tuple[GuardrailExemption, ...], guardrail: Guardrail) -> bool:
    return any(e.guardrail is guardrail and not e.steps for e in exemptions)


def sdk_config_for(ctx: BuildContext, exemptions: tuple[GuardrailExemption, ...]) -> dict:
    """The SDK defaults for one pipeline, its shape validated once; pipeline-wide exemptions drop a default."""

    def kept(guardrail: Guardrail) -> bool:
        return not _exempt_pipeline_wide(exemptions, guardrail)

    vpc = kept(Guardrail.VPC)
    config = sdk_defaults_config(
        role_arn=ctx.execution_role_arn,
        bucket=ctx.artifact_bucket,
        subnet_ids=ctx.subnet_ids if vpc else (),
        security_group_ids=ctx.security_group_ids if vpc else (),
        volume_kms_key=ctx.kms_key if kept(Guardrail.VOLUME_KMS_KEY) else None,
        output_kms_key=ctx.kms_key if kept(Guardrail.OUTPUT_KMS_KEY) else None,
        tags=ctx.cost_tags() if kept(Guardrail.COST_TAG) else [],
        network_isolation=kept(Guardrail.NETWORK_ISOLATION),
        inter_container_encryption=kept(Guardrail.INTER_CONTAINER_ENCRYPTION),
        step_instance_type=ctx.default_instance_type,
        step_image_uri=ctx.step_image_uri or default_step_image_uri(ctx.region),
    )
    return trust_config(config, pipeline_name=ctx.pipeline_name)
