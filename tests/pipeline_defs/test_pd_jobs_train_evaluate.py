"""The abalone job scripts, each run against small data in a directory laid out like its container."""

from __future__ import annotations

import importlib.util
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO_ROOT

JOBS = REPO_ROOT / "pipeline_defs" / "jobs"


def load_script(relative: str):
    path = JOBS / relative
    spec = importlib.util.spec_from_file_location(f"job_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_abalone(path: Path, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(rows):
        length = rng.uniform(0.2, 0.8)
        rings = int(3 + length * 20 + rng.integers(0, 3))
        values = [length, length * 0.8, length * 0.3, length * 1.5, length * 0.6, length * 0.3, length * 0.4]
        lines.append(",".join([str(rng.choice(["M", "F", "I"]))] + [f"{v:.4f}" for v in values] + [str(rings)]))
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def processing_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("processing")
    (base / "input").mkdir()
    write_abalone(base / "input" / "part-a.csv", 80, seed=1)
    write_abalone(base / "input" / "part-b.csv", 40, seed=2)
    load_script("abalone_preprocess.py").main(["--base-dir", str(base)])
    return base


@pytest.fixture(scope="module")
def trained(processing_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("training")
    environ = {
        "SM_CHANNEL_TRAIN": str(processing_dir / "train"),
        "SM_CHANNEL_VALIDATION": str(processing_dir / "validation"),
        "SM_MODEL_DIR": str(root / "model"),
        "SM_OUTPUT_DATA_DIR": str(root / "output" / "data"),
        "SM_HPS": json.dumps({"max_depth": "2", "n_estimators": 20}),
        "SM_HP_LEARNING_RATE": "0.2",
    }
    metrics = load_script("abalone_train/train.py").main(environ)
    return root, metrics


def test_preprocess_splits_all_rows_with_label_first(processing_dir):
    counts = {}
    for name in ("train", "validation", "test"):
        files = list((processing_dir / name).glob("*.csv"))
        assert [f.name for f in files] == [f"{name}.csv"]
        rows = np.loadtxt(files[0], delimiter=",", ndmin=2)
        assert rows.shape[1] == 1 + 7 + 3
        assert set(np.unique(rows[:, -3:])) <= {0.0, 1.0}
        assert (rows[:, -3:].sum(axis=1) == 1).all(), "one sex column set per row"
        counts[name] = len(rows)
    assert sum(counts.values()) == 120
    assert counts == {"train": 84, "validation": 18, "test": 18}


def test_preprocess_is_reproducible(processing_dir, tmp_path):
    (tmp_path / "input").mkdir()
    for source in (processing_dir / "input").glob("*.csv"):
        (tmp_path / "input" / source.name).write_bytes(source.read_bytes())
    load_script("abalone_preprocess.py").main(["--base-dir", str(tmp_path)])
    for name in ("train", "validation", "test"):
        assert (tmp_path / name / f"{name}.csv").read_bytes() == (processing_dir / name / f"{name}.csv").read_bytes()


def test_hyperparameters_merge_sm_hps_over_sm_hp_variables():
    train = load_script("abalone_train/train.py")
    params = train.hyperparameters({"SM_HPS": '{"max_depth": "5"}', "SM_HP_MAX_DEPTH": "9", "SM_HP_LEARNING_RATE": "0.3"})
    assert params == {"max_depth": 5, "n_estimators": 100, "learning_rate": 0.3}


def test_training_writes_model_inference_code_and_metrics(trained):
    root, metrics = trained
    assert (root / "model" / "model.joblib").is_file()
    assert (root / "model" / "code" / "inference.py").is_file()
    written = json.loads((root / "output" / "data" / "metrics.json").read_text())
    assert written == metrics
    assert 0 <= written["validation_mse"] < 20


def test_evaluation_report_has_the_path_the_pipeline_reads(processing_dir, trained, tmp_path):
    root, _ = trained
    base = tmp_path / "processing"
    (base / "model").mkdir(parents=True)
    with tarfile.open(base / "model" / "model.tar.gz", "w:gz") as archive:
        archive.add(root / "model" / "model.joblib", arcname="model.joblib")
    (base / "test").mkdir()
    (base / "test" / "test.csv").write_bytes((processing_dir / "test" / "test.csv").read_bytes())
    report = load_script("abalone_evaluate.py").main(["--base-dir", str(base)])
    written = json.loads((base / "evaluation" / "evaluation.json").read_text())
    assert written == report
    assert written["regression_metrics"]["rows"] == 18
    value = written["regression_metrics"]["mse"]["value"]
    assert isinstance(value, float) and 0 <= value < 20


def test_inference_handler_scores_csv_without_the_label(processing_dir, trained):
    root, _ = trained
    inference = load_script("abalone_train/inference.py")
    model = inference.model_fn(str(root / "model"))
    test_rows = np.loadtxt(processing_dir / "test" / "test.csv", delimiter=",", ndmin=2)
    body = "\n".join(",".join(f"{v}" for v in row[1:]) for row in test_rows[:3]).encode()
    output = inference.output_fn(inference.predict_fn(inference.input_fn(body, "text/csv"), model), "text/csv")
    assert len(output.strip().splitlines()) == 3
    with pytest.raises(ValueError):
        inference.input_fn(body, "application/json")
