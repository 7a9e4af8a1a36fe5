"""The upsert function's job-file deployment (what it refuses, with the message, and the keys it
writes) and its copy of the pipeline stack-name rule at the length limit."""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import Any

import pytest

from base.naming import pipeline_stack_name
from support.lambdas import load_handler, load_kit

job_files = load_handler("pipeline_upsert", module="job_files")
ownership = load_handler("pipeline_upsert", module="ownership")
kit = load_kit()

NAME = "smp-sandbox-abalone"
SOURCE = job_files.JobFiles(source_bucket="cdk-assets", source_key="abc.zip", destination_bucket="smp-sandbox-artifacts")


class RecordingS3:
    """The two S3 calls deployment makes: one zip to read, every write recorded in order."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.reads: list[dict] = []
        self.writes: list[dict] = []

    def get_object(self, **params: Any) -> dict:
        self.reads.append(params)
        return {"Body": io.BytesIO(self.body)}

    def put_object(self, **params: Any) -> dict:
        self.writes.append(params)
        return {}


def _zip(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, name.encode())
    return buffer.getvalue()


def _refusal(s3: RecordingS3) -> str:
    with pytest.raises(kit.RequestError) as caught:
        job_files.deploy_job_files(job_files=SOURCE, pipeline_name=NAME, s3_client=s3)
    assert s3.writes == []
    return str(caught.value)


def test_every_file_is_written_at_its_key_in_key_order_and_the_keys_returned() -> None:
    names = [f"{NAME}/code/b.py", f"{NAME}/code/a.py", f"{NAME}/Train/payload.pkl"]
    s3 = RecordingS3(_zip(names))
    written = job_files.deploy_job_files(job_files=SOURCE, pipeline_name=NAME, s3_client=s3)
    assert s3.reads == [{"Bucket": "cdk-assets", "Key": "abc.zip"}]
    assert written == sorted(names)
    assert s3.writes == [{"Bucket": "smp-sandbox-artifacts", "Key": key, "Body": key.encode()} for key in sorted(names)]


def test_an_asset_that_is_no_zip_is_refused_naming_it() -> None:
    message = _refusal(RecordingS3(b"not a zip"))
    assert message == "field 'ResourceProperties.JobFiles' names s3://cdk-assets/abc.zip, which is not a zip; allowed: the job-file asset of the pipeline's stack"


def test_more_files_than_the_limit_are_refused_and_the_limit_itself_is_written() -> None:
    at_limit = RecordingS3(_zip([f"{NAME}/f/{i}" for i in range(job_files.MAX_FILES)]))
    assert len(job_files.deploy_job_files(job_files=SOURCE, pipeline_name=NAME, s3_client=at_limit)) == job_files.MAX_FILES == 10_000
    message = _refusal(RecordingS3(_zip([f"{NAME}/f/{i}" for i in range(job_files.MAX_FILES + 1)])))
    assert message == "field 'ResourceProperties.JobFiles' holds 10001 files; allowed: at most 10000"


def test_a_key_outside_the_prefix_is_refused_naming_the_first_and_the_prefix() -> None:
    message = _refusal(RecordingS3(_zip([f"{NAME}/ok.py", "smp-sandbox-other/b.py", "smp-sandbox-other/a.py"])))
    assert message == f"field 'ResourceProperties.JobFiles' holds 'smp-sandbox-other/a.py', outside the pipeline's own prefix; allowed: keys under {NAME}/"


# smp-sandbox-pipeline- is 21 characters: these modules put the whole name at, and around, 128.
MODULES = ["m" * 106, "m" * 107, "m" * 108, "a" * 97 + "-" + "b" * 40, "a" * 96 + "X-" + "b" * 40]


@pytest.mark.parametrize("module", MODULES)
def test_the_stack_name_copy_is_the_projects_at_the_length_limit(module: str) -> None:
    assert ownership.pipeline_stack_name(resource_prefix="smp-sandbox", module_pipeline_name=module) == pipeline_stack_name(resource_prefix="smp-sandbox", module_pipeline_name=module)


def test_a_stack_name_of_128_characters_is_kept_and_a_longer_one_is_cut_with_its_digest() -> None:
    assert ownership.pipeline_stack_name(resource_prefix="smp-sandbox", module_pipeline_name="m" * 107) == "smp-sandbox-pipeline-" + "m" * 107
    full = "smp-sandbox-pipeline-" + "a" * 97 + "-" + "b" * 40
    cut = ownership.pipeline_stack_name(resource_prefix="smp-sandbox", module_pipeline_name="a" * 97 + "-" + "b" * 40)
    assert cut == "smp-sandbox-pipeline-" + "a" * 97 + "-" + hashlib.sha256(full.encode()).hexdigest()[:8]
    assert len(cut) == 127  # the hyphen the cut ended on is dropped, not doubled
    cut = ownership.pipeline_stack_name(resource_prefix="smp-sandbox", module_pipeline_name="a" * 96 + "X-" + "b" * 40)
    assert cut.startswith("smp-sandbox-pipeline-" + "a" * 96 + "X-") and len(cut) == 127


@pytest.mark.parametrize(
    ("stack_id", "name"),
    [
        ("arn:aws:cloudformation:eu-west-1:123456789012:stack/smp-sandbox-pipelines/0f0e0d0c-1111", "smp-sandbox-pipelines"),
        ("arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/smp-cn-pipeline-x/uuid", "smp-cn-pipeline-x"),
        ("smp-sandbox-pipelines", "smp-sandbox-pipelines"),
    ],
)
def test_the_owning_stack_is_named_from_its_arn_or_given_as_a_name(stack_id: str, name: str) -> None:
    assert ownership.stack_name(stack_id=stack_id) == name
