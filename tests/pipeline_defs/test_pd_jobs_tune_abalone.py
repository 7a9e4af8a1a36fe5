"""The tuning pipeline's jobs, run as their containers run them: the preprocess writes the channels
the tuning job reads, and each training job prints the objective the tuner parses."""

from __future__ import annotations

import json
import re

from pipeline_defs.contract import iter_steps
from test_pd_jobs_train_evaluate import load_script, processing_dir  # noqa: F401 - the fixture, shared


def _steps(definitions):
    return {step["Name"]: step["Arguments"] for step, _ in iter_steps(definitions["tune-abalone"]["Steps"])}


def test_each_training_job_prints_the_objective_the_tuner_parses(definitions, processing_dir, tmp_path, capsys):
    tuning = _steps(definitions)["Tune"]
    objective = tuning["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
    (metric,) = [m for m in tuning["TrainingJobDefinition"]["AlgorithmSpecification"]["MetricDefinitions"] if m["Name"] == objective["MetricName"]]
    ranges = tuning["HyperParameterTuningJobConfig"]["ParameterRanges"]
    # One training job as the tuning job starts it: a value from each range, every value a string.
    chosen = {r["Name"]: r["MaxValue"] for kind in ranges.values() for r in kind}
    environ = {
        **{f"SM_CHANNEL_{c['ChannelName'].upper()}": str(processing_dir / c["ChannelName"]) for c in tuning["TrainingJobDefinition"]["InputDataConfig"] if c["ChannelName"] != "sm_drivers"},
        "SM_MODEL_DIR": str(tmp_path / "opt/ml/model"),
        "SM_OUTPUT_DATA_DIR": str(tmp_path / "opt/ml/output/data"),
        "SM_HPS": json.dumps({**chosen, "sagemaker_program": "train.py"}),
    }
    metrics = load_script("abalone_train/train.py").main(environ)
    logged = [float(m) for m in re.findall(metric["Regex"], capsys.readouterr().out)]
    assert objective == {"MetricName": "validation_mse", "Type": "Minimize"}
    assert logged == [round(metrics["validation_mse"], 4)]
    assert set(chosen) == {"max_depth", "learning_rate"} <= set(load_script("abalone_train/train.py").DEFAULTS)


def test_the_tuning_job_reads_the_splits_the_preprocess_writes(definitions, processing_dir):
    steps = _steps(definitions)
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in steps["Tune"]["TrainingJobDefinition"]["InputDataConfig"]}
    outputs = {o["OutputName"]: o["S3Output"]["LocalPath"] for o in steps["Preprocess"]["ProcessingOutputConfig"]["Outputs"]}
    # Besides the SDK's own driver channel (sm_drivers), the two splits the script reads.
    assert set(channels) == {"train", "validation", "sm_drivers"}
    for name in ("train", "validation"):
        assert channels[name] == {"Get": f"Steps.Preprocess.ProcessingOutputConfig.Outputs['{name}'].S3Output.S3Uri"}
        assert outputs[name] == f"/opt/ml/processing/{name}" and (processing_dir / name / f"{name}.csv").is_file()
    limits = steps["Tune"]["HyperParameterTuningJobConfig"]["ResourceLimits"]
    assert limits["MaxNumberOfTrainingJobs"] == 6 and limits["MaxParallelTrainingJobs"] == 2
