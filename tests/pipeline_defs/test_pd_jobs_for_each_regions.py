"""The ForEach pipeline's body job, run once per region as each iteration's container sees it."""

from __future__ import annotations

import json

from pipeline_defs.contract import iter_steps
from test_pd_jobs_train_evaluate import load_script


def _steps(definitions):
    return {step["Name"]: step for step, _ in iter_steps(definitions["for-each-regions"]["Steps"])}


def test_each_iteration_reads_its_own_regions_shards_and_writes_under_its_region(definitions, tmp_path):
    steps = _steps(definitions)
    fan_out, body = steps["PerRegion"]["Arguments"], steps["Summarise"]["Arguments"]
    regions = json.loads(next(p["DefaultValue"] for p in definitions["for-each-regions"]["Parameters"] if p["Name"] == "Regions"))
    (shards,) = [i for i in body["ProcessingInputs"] if i["InputName"] == "shards"]
    (summaries,) = body["ProcessingOutputConfig"]["Outputs"]
    assert fan_out["IterableItems"] == {"Get": "Parameters.Regions"} and fan_out["MaxConcurrency"] == 3
    # The item picks the input prefix and the output prefix of its iteration.
    assert {"Get": "ForEach.CurrentItem"} in shards["S3Input"]["S3Uri"]["Std:Join"]["Values"]
    assert summaries["S3Output"]["S3Uri"]["Std:Join"]["Values"][-1] == {"Get": "ForEach.CurrentItem"}

    worker = load_script("shard_worker.py")
    local_input = shards["S3Input"]["LocalPath"].removeprefix("/opt/ml/processing/")
    for index, region in enumerate(regions):
        base = tmp_path / region
        (base / local_input).mkdir(parents=True)
        (base / local_input / f"{region}.csv").write_text("\n".join(f"{region},{i}" for i in range(index + 2)) + "\n")
        summary = worker.main(["--base-dir", str(base), "--resource-config", str(tmp_path / "absent.json")])
        assert summary["files"] == {f"{region}.csv": {"rows": index + 2, "sum_last_column": float(sum(range(index + 2)))}}
        produced = list((base / summaries["S3Output"]["LocalPath"].removeprefix("/opt/ml/processing/")).iterdir())
        assert [p.name for p in produced] == ["summary-algo-1.json"]
