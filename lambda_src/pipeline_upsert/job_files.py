"""Deploy one pipeline's job files: the zip its stack published, written to the keys its definition names.

Replaces a per-pipeline deployment function: the upsert function writes the files just before it
creates or updates the pipeline. Every key must sit under the pipeline's own prefix, so one
pipeline's stack can never write another pipeline's code. Nothing is pruned: executions already
running keep reading the files of their own version.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

from handler_kit import RequestError

FIELD = "ResourceProperties.JobFiles"
MAX_FILES = 10_000


@dataclass(frozen=True)
class JobFiles:
    """Where the zip is (the CDK asset bucket) and which bucket the files go to."""

    source_bucket: str
    source_key: str
    destination_bucket: str


def deploy_job_files(*, job_files: JobFiles, pipeline_name: str, s3_client: Any) -> list[str]:
    """Write every file of the zip at its key; returns the keys written, in order."""
    body = s3_client.get_object(Bucket=job_files.source_bucket, Key=job_files.source_key)["Body"].read()
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except zipfile.BadZipFile:
        raise RequestError(field=FIELD, problem=f"names s3://{job_files.source_bucket}/{job_files.source_key}, which is not a zip", allowed="the job-file asset of the pipeline's stack") from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_FILES:
        raise RequestError(field=FIELD, problem=f"holds {len(members)} files", allowed=f"at most {MAX_FILES}")
    prefix = f"{pipeline_name}/"
    outside = sorted(m.filename for m in members if not m.filename.startswith(prefix) or ".." in m.filename.split("/"))
    if outside:
        raise RequestError(field=FIELD, problem=f"holds {outside[0]!r}, outside the pipeline's own prefix", allowed=f"keys under {prefix}")
    written = []
    for member in sorted(members, key=lambda m: m.filename):
        s3_client.put_object(Bucket=job_files.destination_bucket, Key=member.filename, Body=archive.read(member))
        written.append(member.filename)
    return written
