"""The quality and bias checks read the raw CSV the preprocess job reads, and registration waits for both."""

from __future__ import annotations

import json

from pipeline_defs.contract import iter_steps
from test_pd_jobs_train_evaluate import load_script, processing_dir  # noqa: F401 - the fixture, shared


def _steps(definitions):
    return {step["Name"]: step for step, _ in iter_steps(definitions["check-and-register"]["Steps"])}


def _analysis_config(compiled, steps):
    (config_input,) = [i for i in steps["DataBias"]["Arguments"]["ProcessingInputs"] if i["InputName"] == "analysis_config"]
    key = config_input["S3Input"]["S3Uri"].removeprefix("s3://${ArtifactBucket}/")
    return json.loads(compiled["check-and-register"].staged_files[key])


def test_the_bias_check_names_the_columns_the_preprocess_job_reads(compiled, definitions, processing_dir):
    steps = _steps(definitions)
    config = _analysis_config(compiled, steps)
    preprocess = load_script("abalone_preprocess.py")
    assert config["headers"] == preprocess.COLUMNS
    assert config["label"] == "rings" and config["facet"] == [{"name_or_index": "sex"}]
    # The raw rows the preprocess job reads are the rows the bias check reads: no header, the label last.
    raw = preprocess.read_input(str(processing_dir / "input"))
    assert list(raw.columns) == config["headers"] and raw["sex"].isin(["F", "I", "M"]).all()
    assert steps["DataQuality"]["Arguments"]["Environment"]["dataset_format"] == json.dumps({"csv": {"header": False}})


def test_the_checks_and_the_preprocess_read_the_same_dataset_and_registration_waits_for_both(definitions):
    steps = _steps(definitions)

    def inputs(step, name):
        (found,) = [i for i in steps[step]["Arguments"]["ProcessingInputs"] if i["InputName"] == name]
        return found["S3Input"]["S3Uri"]

    dataset = inputs("Preprocess", "raw")
    assert dataset == {"Get": "Parameters.InputDataUrl"}
    assert inputs("DataQuality", "baseline_dataset_input") == inputs("DataBias", "dataset") == dataset
    assert sorted(steps["RegisterModel"]["DependsOn"]) == ["DataBias", "DataQuality"]
    assert steps["DataQuality"]["FailOnViolation"] is True and steps["DataBias"]["FailOnViolation"] is True
    assert steps["DataQuality"]["Type"] == "QualityCheck" and steps["DataBias"]["Type"] == "ClarifyCheck"
