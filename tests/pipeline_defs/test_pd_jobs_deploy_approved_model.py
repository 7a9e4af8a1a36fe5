"""The deployed model serves requests the way the hosting container runs it: the artifacts a training
job of ``train-evaluate-register`` writes, unpacked into /opt/ml/model, with the program the model names."""

from __future__ import annotations

import importlib.util

import numpy as np

from pipeline_defs.contract import iter_steps
from test_pd_jobs_train_evaluate import processing_dir, trained  # noqa: F401 - the fixtures, shared


def _steps(definitions):
    return {step["Name"]: step["Arguments"] for step, _ in iter_steps(definitions["deploy-approved-model"]["Steps"])}


def test_the_endpoint_serves_one_request_with_the_program_the_model_names(definitions, processing_dir, trained):
    root, _ = trained
    container = _steps(definitions)["CreateModel"]["PrimaryContainer"]
    environment = container["Environment"]
    # SageMaker unpacks model.tar.gz into /opt/ml/model: SAGEMAKER_SUBMIT_DIRECTORY is inside it.
    code_dir = root / "model" / environment["SAGEMAKER_SUBMIT_DIRECTORY"].removeprefix("/opt/ml/model/")
    spec = importlib.util.spec_from_file_location("served", code_dir / environment["SAGEMAKER_PROGRAM"])
    served = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(served)
    model = served.model_fn(str(root / "model"))
    row = np.loadtxt(processing_dir / "test" / "test.csv", delimiter=",", ndmin=2)[0]
    body = ",".join(f"{v}" for v in row[1:])
    answer = served.output_fn(served.predict_fn(served.input_fn(body, "text/csv"), model), "text/csv")
    assert len(answer.splitlines()) == 1 and 0 < float(answer) < 40
    assert container["ModelDataUrl"] == {"Get": "Parameters.ModelDataUrl"}


def test_the_deployment_stays_inside_the_guardrails(definitions):
    steps = _steps(definitions)
    assert steps["CreateModel"]["EnableNetworkIsolation"] is True and steps["CreateModel"]["VpcConfig"]["Subnets"]
    assert steps["EndpointConfig"]["KmsKeyId"] == "${KmsKeyArn}"
    # A new configuration per execution, inside the role's scope; the endpoint keeps its one name.
    name = steps["EndpointConfig"]["EndpointConfigName"]["Std:Join"]
    assert name["Values"][0].startswith("sandbox-") and name["Values"][1] == {"Get": "Execution.PipelineExecutionId"}
    assert steps["Endpoint"]["EndpointName"] == "sandbox-deploy-approved-model-Endpoint"
    (variant,) = steps["EndpointConfig"]["ProductionVariants"]
    assert variant["ModelName"] == {"Get": "Steps.CreateModel.ModelName"}
    assert variant["InstanceType"] == {"Get": "Parameters.EndpointInstanceType"}
    assert steps["Endpoint"]["EndpointConfigName"] == {"Get": "Steps.EndpointConfig.EndpointConfigName"}
    for step in steps.values():
        assert {"Key": "CostCenter", "Value": "ml-platform"} in step["Tags"]
