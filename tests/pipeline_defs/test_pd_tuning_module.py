"""The tuning module and the training script agree: the script, run as its container runs it, prints
the objective the tuner parses, and reads every hyperparameter the tuner varies."""

from __future__ import annotations

import io
import json
import re
import tarfile

from conftest import REPO_ROOT
from test_pd_jobs_train_evaluate import load_script, processing_dir  # noqa: F401 - the fixture, shared


def _tuning_job(step_definitions):
    (step,) = step_definitions["tuning"]["Steps"]
    return step["Arguments"]


def test_the_script_prints_the_objective_the_tuner_parses(processing_dir, tmp_path, capsys, step_definitions):
    arguments = _tuning_job(step_definitions)
    objective = arguments["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
    (metric,) = [m for m in arguments["TrainingJobDefinition"]["AlgorithmSpecification"]["MetricDefinitions"] if m["Name"] == objective["MetricName"]]
    environ = {
        "SM_CHANNEL_TRAIN": str(processing_dir / "train"),
        "SM_CHANNEL_VALIDATION": str(processing_dir / "validation"),
        "SM_MODEL_DIR": str(tmp_path / "opt/ml/model"),
        "SM_OUTPUT_DATA_DIR": str(tmp_path / "opt/ml/output/data"),
        # What a tuning job passes: one value from each range, as strings.
        "SM_HPS": json.dumps({"max_depth": "4", "learning_rate": "0.05", "sagemaker_program": "train.py"}),
    }
    metrics = load_script("abalone_train/train.py").main(environ)
    logged = [float(m) for m in re.findall(metric["Regex"], capsys.readouterr().out)]
    assert objective["Type"] == "Minimize" and logged == [round(metrics["validation_mse"], 4)]
    written = json.loads((tmp_path / "opt/ml/output/data/metrics.json").read_text())
    assert written == metrics and (tmp_path / "opt/ml/model/model.joblib").is_file()


def test_the_tuned_hyperparameters_and_channels_are_the_ones_the_script_reads(step_definitions):
    train = load_script("abalone_train/train.py")
    config = _tuning_job(step_definitions)["HyperParameterTuningJobConfig"]["ParameterRanges"]
    tuned = {r["Name"] for ranges in config.values() for r in ranges}
    assert tuned and tuned <= set(train.DEFAULTS)
    channels = {c["ChannelName"] for c in _tuning_job(step_definitions)["TrainingJobDefinition"]["InputDataConfig"]}
    assert {"train", "validation"} <= channels


def test_the_staged_code_is_the_script_the_tuner_names(step_compiled, step_definitions):
    static = _tuning_job(step_definitions)["TrainingJobDefinition"]["StaticHyperParameters"]
    key = static["sagemaker_submit_directory"].removeprefix("s3://${ArtifactBucket}/")
    with tarfile.open(fileobj=io.BytesIO(step_compiled["tuning"].staged_files[key])) as archive:
        staged = archive.extractfile(static["sagemaker_program"]).read()
    assert staged == (REPO_ROOT / "pipeline_defs/jobs/abalone_train/train.py").read_bytes()
