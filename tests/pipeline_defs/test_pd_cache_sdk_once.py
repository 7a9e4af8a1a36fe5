"""Per-environment SDK work stays per environment: the config validated once, region data loaded once.

Both rest on SDK internals (where the config schema is checked, how image URIs find region data);
these tests count the real work across several compiles, so an SDK upgrade that moves either makes
the count grow with the pipelines and fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import TEST_STEP_IMAGE

TEMPLATE = Path(__file__).resolve().parents[2] / "pipeline_defs" / "pipelines" / "train_evaluate_register.py"


def _copies(directory: Path, count: int, *, template: Path = TEMPLATE) -> list[Path]:
    """``count`` copies of an example module, each with its own ``PIPELINE_NAME``."""
    source = template.read_text(encoding="utf-8")
    paths = []
    for index in range(count):
        path = directory / f"copy_{index}.py"
        path.write_text(re.sub(r'^PIPELINE_NAME = "([a-z-]+)"', rf'PIPELINE_NAME = "\1-copy{index}"', source, flags=re.M), encoding="utf-8")
        paths.append(path)
    return paths


def _context(cost_tag_value: str):
    """An environment no other test compiled for (its config shape is new to this process)."""
    from pipeline_defs.context import context_for_environment

    return context_for_environment(
        env_name="once",
        region="eu-west-1",
        cost_tag_key="CostCenter",
        cost_tag_value=cost_tag_value,
        step_image_uri=TEST_STEP_IMAGE,
    )


@pytest.fixture
def config_schema_validations(monkeypatch):
    """Every validation against the SDK's config schema, however the SDK reaches it."""
    import jsonschema
    from sagemaker.core.config.config_schema import SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA

    from pipeline_defs.compiler import stages  # noqa: F401 - the SDK imported as the compiler imports it

    seen = []
    original = jsonschema.validate

    def counting(instance, schema, *args, **kwargs):
        if schema is SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA:
            seen.append(instance)
        return original(instance, schema, *args, **kwargs)

    monkeypatch.setattr(jsonschema, "validate", counting)
    return seen


@pytest.fixture
def endpoint_data_loads(monkeypatch):
    """Every parse of botocore's endpoints file (the region data image URIs are built from)."""
    import botocore.loaders

    from pipeline_defs.compiler import stages  # noqa: F401

    loads = []
    original = botocore.loaders.Loader.load_data

    def counting(self, name, *args, **kwargs):
        if name == "endpoints":
            loads.append(name)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(botocore.loaders.Loader, "load_data", counting)
    return loads


def _compile(paths: list[Path], ctx) -> tuple:
    from pipeline_defs.compiler import compile_environment

    return compile_environment(ctx, module_paths=paths)


def test_the_sdk_config_is_validated_once_per_environment(tmp_path, config_schema_validations, monkeypatch):
    monkeypatch.setenv("PIPELINE_DEFS_SIGNING_SEED", "tests-only seed for the cache tests, 32+ chars")
    paths = _copies(tmp_path, 3)
    _compile(paths[:1], _context("validated-once"))  # the region's session, and this environment's validation
    first = len(config_schema_validations)
    assert 1 <= first <= 4
    compiled = _compile(paths, _context("validated-once"))
    assert len(compiled) == 3
    # Three more pipelines, no validation (each of the SDK's config lookups used to be one).
    assert len(config_schema_validations) == first
    _compile(paths, _context("another-environment"))
    assert len(config_schema_validations) == first + 1


def test_a_bad_config_still_fails_validation():
    """Trusting a validated shape must not trust a shape nobody validated: a tag key the schema refuses."""
    import jsonschema

    from pipeline_defs.compiler import sdk_config
    from pipeline_defs.context import context_for_environment

    ctx = context_for_environment(
        env_name="once", region="eu-west-1", cost_tag_key="Cost#Center", cost_tag_value="v", step_image_uri=TEST_STEP_IMAGE
    )
    with pytest.raises(jsonschema.ValidationError, match="does not match"):
        sdk_config.sdk_config_for(ctx.for_pipeline(pipeline_name="once-bad", session=None), ())


def test_region_data_is_loaded_once_across_compiles(tmp_path, endpoint_data_loads, monkeypatch):
    monkeypatch.setenv("PIPELINE_DEFS_SIGNING_SEED", "tests-only seed for the cache tests, 32+ chars")
    paths = _copies(tmp_path, 3)
    _compile(paths[:1], _context("region-data"))
    before = len(endpoint_data_loads)
    _compile(paths, _context("region-data"))  # each module looks up the scikit-learn image three times
    assert len(endpoint_data_loads) == before
    assert before <= 1


def test_a_pipeline_name_reaches_the_sdk_config_only_as_tag_values():
    """Why one validation covers every pipeline: the name, replaced by a stand-in, is only ever a tag value."""
    from pipeline_defs.compiler import sdk_config

    name = "once-unmistakable-pipeline-name"
    ctx = _context("tags").for_pipeline(pipeline_name=name, session=None)
    config = sdk_config.sdk_defaults_config(
        role_arn=ctx.execution_role_arn, bucket=ctx.artifact_bucket, subnet_ids=ctx.subnet_ids,
        security_group_ids=ctx.security_group_ids, volume_kms_key=ctx.kms_key, output_kms_key=ctx.kms_key,
        tags=ctx.cost_tags(), network_isolation=True, inter_container_encryption=True,
        step_instance_type="ml.m5.large", step_image_uri="image",
    )

    def paths_holding(value, path=()):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from paths_holding(item, path + (key,))
        elif isinstance(value, list):
            for item in value:
                yield from paths_holding(item, path + ("[]",))
        elif isinstance(value, str) and name in value:
            yield path

    holders = list(paths_holding(config))
    assert holders and all(path[-3:] == ("Tags", "[]", "Value") and value_is_name(config, path, name) for path in holders)
    assert name not in str(sdk_config.config_shape(config, pipeline_name=name))


def test_a_value_that_only_contains_the_name_is_validated_apart():
    """Only whole values are replaced: a longer value holding the name is its own shape."""
    from pipeline_defs.compiler import sdk_config

    config = {"Tags": [{"Key": "k", "Value": "p"}, {"Key": "team", "Value": "p-owners"}]}
    assert sdk_config.config_shape(config, pipeline_name="p") == {
        "Tags": [{"Key": "k", "Value": sdk_config.PIPELINE_NAME_STAND_IN}, {"Key": "team", "Value": "p-owners"}]
    }


def value_is_name(config: dict, path: tuple, name: str) -> bool:
    section = config
    for key in path[:-2]:
        section = section[key]
    return any(tag["Value"] == name for tag in section)


@pytest.mark.parametrize("name", ["a", "a" * 256, "A-0-b-Z"])
def test_the_sdk_schema_accepts_every_allowed_pipeline_name_as_a_tag_value(name):
    """The stand-in may replace any name the naming rule allows: all of them validate where the name goes."""
    from base.naming import pipeline_name_problem
    from pipeline_defs.compiler import sdk_config

    assert pipeline_name_problem(name) is None
    ctx = _context("names").for_pipeline(pipeline_name=name, session=None)
    config = sdk_config.sdk_defaults_config(
        role_arn="arn:aws:iam::111111111111:role/r", bucket="bucket", subnet_ids=("subnet-1",),
        security_group_ids=("sg-1",), volume_kms_key="key", output_kms_key="key", tags=ctx.cost_tags(),
        network_isolation=True, inter_container_encryption=True, step_instance_type="ml.m5.large",
        step_image_uri="image",
    )
    sdk_config.original_validate(config)
