"""Training job: fit a gradient-boosting regressor on the preprocessed abalone data.

Container contract: channels in SM_CHANNEL_TRAIN / SM_CHANNEL_VALIDATION, hyperparameters in
SM_HPS (JSON) or SM_HP_<NAME>, the model goes to SM_MODEL_DIR (with the inference handler under
code/ so the serving container needs nothing else), metrics to SM_OUTPUT_DATA_DIR/metrics.json.
"""

from __future__ import annotations

import glob
import json
import os
import shutil

import joblib
import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.metrics import mean_squared_error

DEFAULTS = {"max_depth": 3, "n_estimators": 100, "learning_rate": 0.1}


def hyperparameters(environ: dict[str, str]) -> dict[str, float | int]:
    """SM_HPS wins; SM_HP_<NAME> fills gaps; values arrive as JSON or strings."""
    values: dict[str, object] = {}
    for key, raw in environ.items():
        if key.startswith("SM_HP_"):
            values[key[len("SM_HP_") :].lower()] = raw
    values.update(json.loads(environ.get("SM_HPS", "{}") or "{}"))
    result: dict[str, float | int] = {}
    for name, default in DEFAULTS.items():
        raw = values.get(name, default)
        result[name] = type(default)(float(raw)) if isinstance(default, int) else float(raw)
    return result


def read_channel(directory: str) -> tuple[np.ndarray, np.ndarray]:
    paths = sorted(glob.glob(os.path.join(directory, "*.csv")))
    if not paths:
        raise SystemExit(f"no CSV files in {directory}")
    frame = pd.concat([pd.read_csv(p, header=None) for p in paths], ignore_index=True)
    return frame.iloc[:, 1:].to_numpy(), frame.iloc[:, 0].to_numpy()


def main(environ: dict[str, str] | None = None) -> dict[str, float]:
    environ = dict(os.environ if environ is None else environ)
    params = hyperparameters(environ)
    x_train, y_train = read_channel(environ["SM_CHANNEL_TRAIN"])
    x_valid, y_valid = read_channel(environ["SM_CHANNEL_VALIDATION"])
    model = GradientBoostingRegressor(
        max_depth=int(params["max_depth"]),
        n_estimators=int(params["n_estimators"]),
        learning_rate=float(params["learning_rate"]),
        random_state=0,
    ).fit(x_train, y_train)
    metrics = {"validation_mse": float(mean_squared_error(y_valid, model.predict(x_valid)))}

    model_dir = environ["SM_MODEL_DIR"]
    os.makedirs(os.path.join(model_dir, "code"), exist_ok=True)
    joblib.dump(model, os.path.join(model_dir, "model.joblib"))
    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copy(os.path.join(here, "inference.py"), os.path.join(model_dir, "code", "inference.py"))

    output_dir = environ.get("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data")
    os.makedirs(output_dir, exist_ok=True)
    with open(os.path.join(output_dir, "metrics.json"), "w", encoding="utf-8") as handle:
        json.dump(metrics, handle, sort_keys=True)
    print(f"validation_mse={metrics['validation_mse']:.4f}")
    return metrics


if __name__ == "__main__":
    main()
