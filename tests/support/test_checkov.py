"""The checkov gate's own logic: what a skip entry covers, stale entries, malformed entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.checkov import SKIPS_FILE, Failure, Skip, load_skips, unskipped, unused

REASON = "The access-log bucket receives the artifact bucket's logs; logging it into itself would never end."


def test_a_skip_covers_its_check_on_the_resources_its_pattern_names_only() -> None:
    skip = Skip(check="CKV_AWS_18", resource="*/Guardrails/ArtifactStore/AccessLogs/Resource", reason=REASON)
    assert skip.matches(Failure("CKV_AWS_18", "prod/Guardrails/ArtifactStore/AccessLogs/Resource"))
    assert not skip.matches(Failure("CKV_AWS_18", "prod/Guardrails/ArtifactStore/Bucket/Resource"))
    assert not skip.matches(Failure("CKV_AWS_21", "prod/Guardrails/ArtifactStore/AccessLogs/Resource"))
    assert not skip.matches(Failure("CKV_AWS_18", "prod/Guardrails/ArtifactStore/AccessLogs/Resource/Extra"))


def test_failures_outside_the_list_and_entries_matching_nothing_are_both_reported() -> None:
    skips = [
        Skip(check="CKV_AWS_18", resource="*/Guardrails/ArtifactStore/AccessLogs/Resource", reason=REASON),
        Skip(check="CKV_AWS_117", resource="*/Pipelines/Gone/Function/Resource", reason=REASON),
    ]
    failures = [Failure("CKV_AWS_18", "prod/Guardrails/ArtifactStore/AccessLogs/Resource"), Failure("CKV_AWS_21", "prod/Guardrails/X/Resource")]
    assert unskipped(failures=failures, skips=skips) == ["CKV_AWS_21 at prod/Guardrails/X/Resource"]
    assert unused(failures=failures, skips=skips) == ["CKV_AWS_117 at */Pipelines/Gone/Function/Resource"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"check": "CKV_AWS_18", "resource": "*/Guardrails/AccessLogs/Resource"}, r"entry 0: keys \['check', 'resource'\]; expected exactly \['check', 'resource', 'reason'\]"),
        ({"check": "AWS-18", "resource": "*/Guardrails/AccessLogs/Resource", "reason": REASON}, r"entry 0: check 'AWS-18' is not a checkov AWS check id"),
        ({"check": "CKV_AWS_18", "resource": "*", "reason": REASON}, r"entry 0: resource '\*' is not a construct path pattern"),
        ({"check": "CKV_AWS_18", "resource": "*/Guardrails/AccessLogs/Resource", "reason": "design"}, r"entry 0: reason 'design' is too short"),
    ],
)
def test_a_malformed_entry_is_refused_naming_it(tmp_path: Path, entry: dict, message: str) -> None:
    path = tmp_path / "checkov-skips.yaml"
    path.write_text(json.dumps([entry]))
    with pytest.raises(ValueError, match=message):
        load_skips(path)


def test_the_shipped_list_gives_every_entry_a_check_a_resource_and_a_reason() -> None:
    skips = load_skips(SKIPS_FILE)
    assert len(skips) >= 10
    assert len({(s.check, s.resource) for s in skips}) == len(skips)
