"""Serving handler for the scikit-learn container (batch transform): CSV rows in, predictions out."""

from __future__ import annotations

import io
import os

import joblib
import numpy as np


def model_fn(model_dir: str):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(body, content_type: str):
    if content_type != "text/csv":
        raise ValueError(f"unsupported content type {content_type}")
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    rows = np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2)
    return rows


def predict_fn(rows, model):
    return model.predict(rows)


def output_fn(predictions, accept: str):
    return "\n".join(f"{value:.6f}" for value in predictions) + "\n"
