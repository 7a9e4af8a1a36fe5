"""Processing job run on every instance of a sharded job: summarise this instance's files.

Container contract: this instance's share of the input under /opt/ml/processing/input (SageMaker
shards by S3 key), the cluster layout in /opt/ml/config/resourceconfig.json (``current_host``,
``hosts``), outputs under /opt/ml/processing/output, named per host so shares never collide.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os


def host_identity(config_path: str) -> tuple[str, list[str]]:
    if not os.path.exists(config_path):
        return "algo-1", ["algo-1"]
    with open(config_path, encoding="utf-8") as handle:
        config = json.load(handle)
    return config["current_host"], list(config["hosts"])


def summarise_file(path: str) -> dict:
    rows = 0
    total = 0.0
    with open(path, newline="", encoding="utf-8") as handle:
        for record in csv.reader(handle):
            if not record:
                continue
            rows += 1
            total += float(record[-1])
    return {"rows": rows, "sum_last_column": round(total, 6)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-dir", default="/opt/ml/processing")
    parser.add_argument("--resource-config", default="/opt/ml/config/resourceconfig.json")
    args = parser.parse_args(argv)

    host, hosts = host_identity(args.resource_config)
    input_dir = os.path.join(args.base_dir, "input")
    files = sorted(glob.glob(os.path.join(input_dir, "**", "*.csv"), recursive=True))
    summary = {
        "host": host,
        "host_index": hosts.index(host),
        "host_count": len(hosts),
        "files": {os.path.relpath(p, input_dir): summarise_file(p) for p in files},
    }
    summary["rows"] = sum(item["rows"] for item in summary["files"].values())
    out_dir = os.path.join(args.base_dir, "output")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, f"summary-{host}.json"), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, sort_keys=True)
    print(f"{host}: {len(files)} files, {summary['rows']} rows")
    return summary


if __name__ == "__main__":
    main()
