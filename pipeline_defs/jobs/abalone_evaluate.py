"""Processing job: score the trained model on the test split and write the evaluation report.

Container contract: model archive at /opt/ml/processing/model/model.tar.gz, test CSV under
/opt/ml/processing/test, report to /opt/ml/processing/evaluation/evaluation.json, which the
pipeline reads with JsonGet at ``regression_metrics.mse.value``.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import tarfile

import joblib
import numpy as np
import pandas as pd


def load_model(model_dir: str):
    archive = os.path.join(model_dir, "model.tar.gz")
    if os.path.exists(archive):
        with tarfile.open(archive) as tar:
            root = os.path.realpath(model_dir)
            for member in tar.getmembers():
                target = os.path.realpath(os.path.join(root, member.name))
                if not target.startswith(root + os.sep) or not (member.isfile() or member.isdir()):
                    raise SystemExit(f"refusing archive member {member.name!r}")
            tar.extractall(model_dir)
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def evaluate(model, frame: pd.DataFrame) -> dict:
    y_true = frame.iloc[:, 0].to_numpy()
    predictions = model.predict(frame.iloc[:, 1:].to_numpy())
    errors = (y_true - predictions) ** 2
    return {
        "regression_metrics": {
            "mse": {"value": float(errors.mean()), "standard_deviation": float(np.std(errors))},
            "rows": int(len(frame)),
        }
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-dir", default="/opt/ml/processing")
    args = parser.parse_args(argv)
    model = load_model(os.path.join(args.base_dir, "model"))
    paths = sorted(glob.glob(os.path.join(args.base_dir, "test", "*.csv")))
    frame = pd.concat([pd.read_csv(p, header=None) for p in paths], ignore_index=True)
    report = evaluate(model, frame)
    out_dir = os.path.join(args.base_dir, "evaluation")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "evaluation.json"), "w", encoding="utf-8") as handle:
        json.dump(report, handle, sort_keys=True)
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
