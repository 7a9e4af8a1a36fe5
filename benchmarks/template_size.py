"""Template bytes per pipeline: definitions inline (one property per step) against the S3-asset form.

Both forms are synthesized in this run from the same compiled sandbox pipelines; the ratio shows
what the per-step layout costs in template size, next to CloudFormation's 1 MB template limit.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # noqa: E402

from base.naming import PIPELINE_RESOURCE_TYPE  # noqa: E402
from benchmarks.scale import CLOUDFORMATION_QUOTAS  # noqa: E402
from base.config import EnvironmentConfig, project_context  # noqa: E402
from base.expiry import utc_today  # noqa: E402
from planning.compilation import compile_pipelines  # noqa: E402
from planning.plan import plan_environment  # noqa: E402
from planning.staging import INLINE_DEFINITION_LIMIT, stage_pipeline_files  # noqa: E402
from stacks.stage import PlatformStage  # noqa: E402

TEMPLATE_LIMIT = CLOUDFORMATION_QUOTAS["bytes"]


def _sizes(*, outdir: Path, compiled: tuple, inline_limit: int) -> tuple[dict[str, int], dict[str, int]]:
    """Per pipeline: its resource's size, and its own stack's template size (bytes)."""
    app = cdk.App(outdir=str(outdir), context=project_context())
    plan = plan_environment(config=EnvironmentConfig(name="sandbox"), today=utc_today(), compiled=compiled)
    staged = stage_pipeline_files(plan=plan, directory=outdir / "pipeline-files", inline_limit=inline_limit)
    PlatformStage(app, "sandbox", plan=plan, staged_files=staged)
    app.synth()
    resources, templates = {}, {}
    for path in (outdir / "assembly-sandbox").glob("sandboxPipeline*.template.json"):
        template = json.loads(path.read_text())
        for resource in template["Resources"].values():
            if resource["Type"] == PIPELINE_RESOURCE_TYPE:
                name = resource["Properties"]["PipelineName"]
                resources[name] = len(json.dumps(resource, separators=(",", ":")))
                templates[name] = path.stat().st_size
    return resources, templates


def main() -> None:
    compiled = compile_pipelines(config=EnvironmentConfig(name="sandbox"))
    with tempfile.TemporaryDirectory() as scratch:
        inline, inline_templates = _sizes(outdir=Path(scratch, "inline"), compiled=compiled, inline_limit=INLINE_DEFINITION_LIMIT)
        in_s3, _ = _sizes(outdir=Path(scratch, "s3"), compiled=compiled, inline_limit=0)
    definitions = {c.pipeline_name: len(c.definition) for c in compiled}
    print(f"{'pipeline':<38} {'definition':>10} {'inline':>8} {'S3 asset':>9} {'inline/definition':>18} {'own stack':>10}")
    for name in sorted(inline):
        print(
            f"{name:<38} {definitions[name]:>10} {inline[name]:>8} {in_s3[name]:>9} {inline[name] / definitions[name]:>17.2f}x"
            f" {inline_templates[name]:>10}"
        )
    largest = max(inline_templates.values())
    print(f"largest pipeline stack template: {largest} bytes ({largest / TEMPLATE_LIMIT:.1%} of 1 MB); each pipeline has its own")


if __name__ == "__main__":
    main()
