"""checkov over synthesized templates, compared with the reasoned skip list ``checkov-skips.yaml``.

checkov pins its own boto3 and friends, which clash with the app's, so it lives in its own virtualenv
(``.venv-checkov``, made by ``make install-dev``) and runs as a subprocess.
"""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
SKIPS_FILE = ROOT / "checkov-skips.yaml"
_CHECK_ID = re.compile(r"CKV2?_AWS_\d+")
_KEYS = ("check", "resource", "reason")


@dataclass(frozen=True)
class Failure:
    """One failed check on one resource, named by its construct path."""

    check: str
    path: str


@dataclass(frozen=True)
class Skip:
    """One accepted finding: a check id, a construct-path pattern, and why."""

    check: str
    resource: str
    reason: str

    def matches(self, failure: Failure) -> bool:
        return failure.check == self.check and fnmatch.fnmatchcase(failure.path, self.resource)


def load_skips(path: Path = SKIPS_FILE) -> list[Skip]:
    """The skip list; a malformed entry stops with its index, key and what is allowed."""
    entries = yaml.safe_load(path.read_text()) or []
    if not isinstance(entries, list):
        raise ValueError(f"{path.name}: expected a list of entries with keys {list(_KEYS)}")
    skips = []
    for index, entry in enumerate(entries):
        where = f"{path.name} entry {index}"
        if not isinstance(entry, dict) or sorted(entry) != sorted(_KEYS):
            raise ValueError(f"{where}: keys {sorted(entry) if isinstance(entry, dict) else entry!r}; expected exactly {list(_KEYS)}")
        if not _CHECK_ID.fullmatch(str(entry["check"])):
            raise ValueError(f"{where}: check {entry['check']!r} is not a checkov AWS check id like 'CKV_AWS_18'")
        if str(entry["resource"]).count("/") < 2 or str(entry["resource"]).strip("*/") == "":
            raise ValueError(f"{where}: resource {entry['resource']!r} is not a construct path pattern like '*/Guardrails/ArtifactStore/AccessLogs/Resource'")
        if len(str(entry["reason"]).split()) < 12:
            raise ValueError(f"{where}: reason {entry['reason']!r} is too short to say why the finding is accepted")
        skips.append(Skip(check=entry["check"], resource=entry["resource"], reason=entry["reason"]))
    return skips


def run_checkov(*, templates: Sequence[Path]) -> list[Failure]:
    """Failed checks of checkov's CloudFormation framework over ``templates``, offline."""
    if not CHECKOV.exists():
        raise FileNotFoundError(f"{CHECKOV} is missing: run `make install-dev` (it installs requirements-checkov.txt there)")
    result = subprocess.run(
        [str(CHECKOV), "--framework", "cloudformation", "--output", "json", "--skip-download", "--quiet", "--file", *map(str, templates)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"checkov exited {result.returncode}:\n{result.stderr[-4000:]}")
    reports = json.loads(result.stdout)
    failures = []
    for report in reports if isinstance(reports, list) else [reports]:
        for failed in report.get("results", {}).get("failed_checks", []):
            template = json.loads(Path(failed["file_abs_path"]).read_text())
            logical_id = failed["resource"].split(".", 1)[1]
            failures.append(Failure(check=failed["check_id"], path=template["Resources"][logical_id]["Metadata"]["aws:cdk:path"]))
    return sorted(set(failures), key=lambda f: (f.check, f.path))


def unskipped(*, failures: Sequence[Failure], skips: Sequence[Skip]) -> list[str]:
    """Failed checks that no skip entry covers, as ``check at path`` lines."""
    return [f"{f.check} at {f.path}" for f in failures if not any(skip.matches(f) for skip in skips)]


def unused(*, failures: Sequence[Failure], skips: Sequence[Skip]) -> list[str]:
    """Skip entries that cover no failed check: stale, and so to be removed."""
    return [f"{skip.check} at {skip.resource}" for skip in skips if not any(skip.matches(f) for f in failures)]
