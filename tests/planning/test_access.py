"""Declared data access and fan-out children: checked against every other pipeline, refused with the module named."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from pipeline_defs.contract import CompiledPipeline
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.schedules import DataAccess
from planning.access import FAN_OUT_CHILDREN_TAG, code_prefixes, pipeline_access


def _compiled(module: str, *, data_access: DataAccess = DataAccess(), children: tuple[str, ...] = (), files: tuple[str, ...] = ()) -> CompiledPipeline:
    name = f"smp-lab-{module}"
    return CompiledPipeline(
        pipeline_name=name,
        module_pipeline_name=module,
        env_name="lab",
        definition="{}",
        staged_files=MappingProxyType({f"{name}/{key}": b"x" for key in files}),
        manifest=MappingProxyType({}),
        parameters=(),
        schedules=(),
        guardrail_exemptions=(),
        region="eu-west-1",
        region_is_pinned=True,
        source_module=f"pipeline_defs/pipelines/{module.replace('-', '_')}.py",
        placeholders_used=(),
        build_id="b",
        signing_key_development_only=False,
        data_access=data_access,
        child_pipelines=children,
    )


def test_declared_access_and_children_are_granted_as_declared() -> None:
    producer = _compiled("producer", files=("code/abc/prep.py",))
    consumer = _compiled(
        "consumer",
        data_access=DataAccess(read=("smp-lab-producer/outputs/", "shared/reference/"), write=("shared/features/",)),
        children=("producer",),
    )
    access = pipeline_access(compiled=[producer, consumer])
    assert access["smp-lab-consumer"].read_prefixes == ("shared/reference/", "smp-lab-producer/outputs/")
    assert access["smp-lab-consumer"].write_prefixes == ("shared/features/",)
    assert access["smp-lab-consumer"].child_pipelines == ("smp-lab-producer",)
    assert access["smp-lab-producer"].read_prefixes == access["smp-lab-producer"].write_prefixes == ()


def test_the_environment_prefix_mark_names_another_pipelines_outputs_in_every_environment() -> None:
    producer = _compiled("producer", files=("code/abc/prep.py",))
    consumer = _compiled("consumer", data_access=DataAccess(read=("{prefix}-producer/outputs/",), write=("{prefix}-shared/",)))
    access = pipeline_access(compiled=[producer, consumer])
    assert access["smp-lab-consumer"].read_prefixes == ("smp-lab-producer/outputs/",)
    assert access["smp-lab-consumer"].write_prefixes == ("smp-lab-shared/",)
    for declared, field in ((DataAccess(read=("{prefix}-producer/code/",)), "DATA_ACCESS.read"), (DataAccess(write=("{prefix}-producer/outputs/",)), "DATA_ACCESS.write")):
        with pytest.raises(PipelineDefinitionError) as raised:
            pipeline_access(compiled=[producer, _compiled("consumer", data_access=declared)])
        assert raised.value.field == field and "smp-lab-producer" in str(raised.value)


@pytest.mark.parametrize(
    ("declared", "field", "message"),
    [
        (DataAccess(read=("s3://other-bucket/data/",)), "DATA_ACCESS.read", "reaches outside the environment's artifact bucket"),
        (DataAccess(write=("arn:aws:s3:::x/",)), "DATA_ACCESS.write", "reaches outside the environment's artifact bucket"),
        (DataAccess(read=("shared/reference",)), "DATA_ACCESS.read", "is not a key prefix"),
        (DataAccess(read=("shared/../smp-lab-producer/",)), "DATA_ACCESS.read", "is not a key prefix"),
        (DataAccess(write=("/shared/",)), "DATA_ACCESS.write", "is not a key prefix"),
        (DataAccess(write=("smp-lab-producer/outputs/",)), "DATA_ACCESS.write", "overlaps pipeline smp-lab-producer's own prefix"),
        (DataAccess(write=("smp-lab-",)), "DATA_ACCESS.write", "is not a key prefix"),
        (DataAccess(write=("smp-lab-producer/",)), "DATA_ACCESS.write", "overlaps pipeline smp-lab-producer's own prefix"),
        (DataAccess(read=("smp-lab-producer/code/",)), "DATA_ACCESS.read", "overlaps pipeline smp-lab-producer's code"),
        (DataAccess(read=("smp-lab-producer/",)), "DATA_ACCESS.read", "overlaps pipeline smp-lab-producer's code"),
    ],
)
def test_a_bad_declaration_names_the_module_and_the_field(declared: DataAccess, field: str, message: str) -> None:
    producer = _compiled("producer", files=("code/abc/prep.py",))
    consumer = _compiled("consumer", data_access=declared)
    with pytest.raises(PipelineDefinitionError) as caught:
        pipeline_access(compiled=[producer, consumer])
    assert caught.value.field == field
    assert caught.value.module_file == "pipeline_defs/pipelines/consumer.py"
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("children", "message"),
    [
        (("missing",), "'missing' is no pipeline of environment lab; known: ['consumer', 'producer']"),
        (("consumer",), "is this pipeline itself"),
    ],
)
def test_a_child_that_does_not_exist_or_is_itself_is_refused(children: tuple[str, ...], message: str) -> None:
    with pytest.raises(PipelineDefinitionError, match="CHILD_PIPELINES") as caught:
        pipeline_access(compiled=[_compiled("producer"), _compiled("consumer", children=children)])
    assert message in str(caught.value)


def test_children_must_fit_the_tag_their_parent_carries() -> None:
    children = tuple(f"child-{'x' * 40}-{i}" for i in range(6))
    with pytest.raises(PipelineDefinitionError, match=f"more than the 256 characters of one pipeline tag"):
        pipeline_access(compiled=[_compiled("parent", children=children), *(_compiled(c) for c in children)])
    assert FAN_OUT_CHILDREN_TAG == "smp:fan-out-children"


def test_code_prefixes_are_the_build_directories_of_the_job_files() -> None:
    item = _compiled("p", files=("code/abc/prep.py", "code/abc/lib/util.py", "Train/b1/function/payload.pkl", "manifest.json"))
    assert code_prefixes(item) == ("smp-lab-p/Train/b1/", "smp-lab-p/code/abc/", "smp-lab-p/manifest.json")
