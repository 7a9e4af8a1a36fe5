"""What the example pipelines compile to: structure, guardrails, staged files, declared values."""

from __future__ import annotations

import functools
import hashlib
import json

from base.naming import pipeline_name_problem
from pipeline_defs import placeholders
from pipeline_defs.contract import iter_steps
from pipeline_defs.schedules import Guardrail
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.validation.schema import check_schema


def steps_by_name(definition):
    return {step["Name"]: step for step, _ in iter_steps(definition["Steps"])}


def step_build_id(step):
    """The build id a ``@step`` step's S3 paths hold: the value of its ``--func_step_s3_dir`` argument."""
    arguments = step["Arguments"]["AlgorithmSpecification"]["ContainerArguments"]
    return arguments[arguments.index("--func_step_s3_dir") + 1]


def test_every_module_compiled_with_a_stable_environment_prefixed_name(compiled):
    assert {"train-evaluate-register", "batch-inference"} <= set(compiled)
    for module_name, result in compiled.items():
        assert result.pipeline_name == f"sandbox-{module_name}"
        assert pipeline_name_problem(result.pipeline_name) is None
        assert result.region == "us-east-1" and result.region_is_pinned is False
        assert result.source_module == f"pipeline_defs/pipelines/{module_name.replace('-', '_')}.py"
        assert not result.signing_key_development_only


def test_definitions_are_canonical_json_and_pass_the_amended_schema(compiled, definitions):
    for name, result in compiled.items():
        definition = definitions[name]
        assert result.definition == json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        # As the compiler checks it: the top level, then each step without the steps it holds.
        check_schema(definition, functools.partial(PipelineDefinitionError, pipeline=result.pipeline_name))


def test_only_known_placeholders_and_the_role_arn_shape(compiled, definitions):
    for name, result in compiled.items():
        assert set(result.placeholders_used) <= placeholders.NAMES
        for step, _ in iter_steps(definitions[name]["Steps"]):
            role = (step.get("Arguments") or {}).get("RoleArn") or (step.get("Arguments") or {}).get("ExecutionRoleArn")
            if role:
                assert role == "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ExecutionRoleName}"


def test_manifest_hashes_match_staged_bytes_under_the_pipeline_prefix(compiled, definitions):
    for name, result in compiled.items():
        assert set(result.manifest) == set(result.staged_files)
        for key, body in result.staged_files.items():
            assert key.startswith(result.pipeline_name + "/")
            assert result.manifest[key] == hashlib.sha256(body).hexdigest()
        manifest = json.loads(result.manifest_json())
        assert manifest["definition_sha256"] == hashlib.sha256(result.definition.encode()).hexdigest()
        for uri in code_inputs(definitions[name]):
            key = uri.removeprefix("s3://${ArtifactBucket}/")
            assert any(k == key or k.startswith(key + "/") for k in result.staged_files), uri


def code_inputs(definition):
    """Literal S3 URIs of job inputs (code, drivers, @step bootstrap): all must be staged."""
    for step, _ in iter_steps(definition["Steps"]):
        arguments = step.get("Arguments") or {}
        uris = [i["S3Input"]["S3Uri"] for i in arguments.get("ProcessingInputs", [])]
        uris += [c["DataSource"]["S3DataSource"]["S3Uri"] for c in arguments.get("InputDataConfig", [])]
        yield from (u for u in uris if isinstance(u, str) and u.startswith("s3://${ArtifactBucket}/"))


def test_every_job_step_carries_vpc_kms_tags_and_encryption(definitions):
    for name, definition in definitions.items():
        for step, _ in iter_steps(definition["Steps"]):
            arguments = step.get("Arguments") or {}
            if step["Type"] not in ("Processing", "Training", "Transform", "Model"):
                continue
            assert {"Key": "CostCenter", "Value": "ml-platform"} in arguments["Tags"], step["Name"]
            if step["Type"] == "Processing":
                network = arguments["NetworkConfig"]
                assert network["VpcConfig"]["Subnets"] == ["${SubnetId0}", "${SubnetId1}"]
                assert network["EnableInterContainerTrafficEncryption"] is True
                assert network["EnableNetworkIsolation"] is True
                assert arguments["ProcessingOutputConfig"]["KmsKeyId"] == "${KmsKeyArn}"
                assert arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == "${KmsKeyArn}"
            if step["Type"] == "Training":
                assert arguments["VpcConfig"]["SecurityGroupIds"] == ["${JobSecurityGroupId}"]
                assert arguments["OutputDataConfig"]["KmsKeyId"] == "${KmsKeyArn}"
                assert arguments["ResourceConfig"]["VolumeKmsKeyId"] == "${KmsKeyArn}"
                assert arguments["EnableInterContainerTrafficEncryption"] is True
            if step["Type"] == "Transform":
                assert arguments["TransformOutput"]["KmsKeyId"] == "${KmsKeyArn}"
                assert arguments["TransformResources"]["VolumeKmsKeyId"] == "${KmsKeyArn}"
        assert definition["PipelineExperimentConfig"] == {
            "ExperimentName": {"Get": "Execution.PipelineName"},
            "TrialName": {"Std:Join": {"On": "-", "Values": ["sandbox", {"Get": "Execution.PipelineExecutionId"}]}},  # the environment prefix
        }


def test_train_evaluate_register_structure(compiled, definitions):
    result = compiled["train-evaluate-register"]
    types = {p.name: p.type for p in result.parameters}
    assert {"String", "Integer", "Float"} <= set(types.values())
    assert types["MseThreshold"] == "Float" and types["ModelApprovalStatus"] == "String"
    steps = steps_by_name(definitions["train-evaluate-register"])
    outputs = steps["Preprocess"]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert [o["OutputName"] for o in outputs] == ["train", "validation", "test"]
    for output in outputs:
        join = output["S3Output"]["S3Uri"]["Std:Join"]
        assert {"Get": "Execution.PipelineExecutionId"} in join["Values"]
    channels = {c["ChannelName"]: c for c in steps["Train"]["Arguments"]["InputDataConfig"]}
    assert channels["train"]["DataSource"]["S3DataSource"]["S3Uri"] == {
        "Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    }
    assert steps["Evaluate"]["PropertyFiles"] == [
        {"FilePath": "evaluation.json", "OutputName": "evaluation", "PropertyFileName": "EvaluationReport"}
    ]
    condition = steps["CheckMse"]["Arguments"]
    metric = {"Std:JsonGet": {"Path": "regression_metrics.mse.value", "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}}}
    assert condition["Conditions"] == [{"LeftValue": metric, "RightValue": {"Get": "Parameters.MseThreshold"}, "Type": "LessThanOrEqualTo"}]
    assert [s["Name"] for s in condition["IfSteps"]] == ["CreateModel", "RegisterModel", "BatchTransform"]
    assert [s["Name"] for s in condition["ElseSteps"]] == ["MseAboveThreshold"]
    message = steps["MseAboveThreshold"]["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert metric in message and {"Get": "Parameters.MseThreshold"} in message
    assert steps["RegisterModel"]["Arguments"]["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
    assert steps["BatchTransform"]["Arguments"]["ModelName"] == {"Get": "Steps.CreateModel.ModelName"}
    assert steps["CreateModel"]["Arguments"]["EnableNetworkIsolation"] is True
    assert [s.name for s in result.schedules] == ["weekly-retrain"]


def test_train_evaluate_register_stages_the_scripts_it_references(compiled, definitions):
    result = compiled["train-evaluate-register"]
    staged_names = {key.rsplit("/", 1)[-1] for key in result.staged_files}
    assert {"abalone_preprocess.py", "abalone_evaluate.py", "train.py", "inference.py", "sourcecode.json"} <= staged_names
    steps = steps_by_name(definitions["train-evaluate-register"])
    code = [i for i in steps["Preprocess"]["Arguments"]["ProcessingInputs"] if i["InputName"] == "code"][0]
    key = code["S3Input"]["S3Uri"].removeprefix("s3://${ArtifactBucket}/")
    assert result.staged_files[key].startswith(b'"""Processing job: one-hot encode')
    assert not any("__pycache__" in key or key.endswith(".pyc") for key in result.staged_files)


def test_batch_inference_passes_delayed_returns_and_declares_its_exemption(compiled, definitions):
    result = compiled["batch-inference"]
    steps = steps_by_name(definitions["batch-inference"])
    assert set(steps) == {"ListBatches", "ScoreBatches", "Summarise"}
    assert steps["ScoreBatches"]["DependsOn"] == ["ListBatches"]
    assert sorted(steps["Summarise"]["DependsOn"]) == ["ListBatches", "ScoreBatches"]
    score = steps["ScoreBatches"]["Arguments"]
    assert score["EnableManagedSpotTraining"] is True
    assert score["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert score["ResourceConfig"]["InstanceType"] == {"Get": "Parameters.ScoringInstanceType"}
    assert score["TrainingJobName"] == "sandbox-batch-inference-ScoreBatches"
    assert "Steps.ListBatches.OutputDataConfig.S3OutputPath" in score["AlgorithmSpecification"]["ContainerArguments"]
    for step in steps.values():
        arguments = step["Arguments"]
        assert arguments["ResourceConfig"]["KeepAlivePeriodInSeconds"] == 0
        assert arguments["EnableNetworkIsolation"] is False
        assert '{"dependency_file": "batch_inference_requirements.txt"}' in arguments["AlgorithmSpecification"]["ContainerArguments"]
        assert arguments["Environment"]["REMOTE_FUNCTION_SECRET_KEY"].startswith("-----BEGIN PUBLIC KEY-----")
    assert [e.guardrail for e in result.guardrail_exemptions] == [Guardrail.NETWORK_ISOLATION]
    payloads = sorted(k for k in result.staged_files if k.endswith("/function/payload.pkl"))
    assert payloads == [f"{result.pipeline_name}/{name}/{step_build_id(steps[name])}/function/payload.pkl" for name in sorted(steps)]
    assert len({step_build_id(step) for step in steps.values()}) == 3
    assert any(k.endswith("pre_exec_script_and_dependencies/batch_inference_requirements.txt") for k in result.staged_files)


def test_function_step_payloads_carry_signatures_the_definition_key_verifies(compiled, definitions):
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    result = compiled["batch-inference"]
    steps = steps_by_name(definitions["batch-inference"])
    for name, step in steps.items():
        public = serialization.load_pem_public_key(step["Arguments"]["Environment"]["REMOTE_FUNCTION_SECRET_KEY"].encode())
        prefix = f"{result.pipeline_name}/{name}/{step_build_id(step)}/function/"
        payload = result.staged_files[prefix + "payload.pkl"]
        metadata = json.loads(result.staged_files[prefix + "metadata.json"])
        assert metadata["sha256_hash"] == hashlib.sha256(payload).hexdigest()
        public.verify(base64.b64decode(metadata["asymmetric_signature"]), payload, ec.ECDSA(hashes.SHA256()))


def test_lambda_data_passing_feeds_typed_outputs_to_the_processing_job(definitions):
    steps = steps_by_name(definitions["lambda-data-passing"])
    lambda_step = steps["ComputeSettings"]
    assert lambda_step["FunctionArn"] == "${DataPassingFunctionArn}"
    assert {o["OutputName"]: o["OutputType"] for o in lambda_step["OutputParameters"]} == {
        "sample_count": "Integer",
        "run_label": "String",
        "use_gpu": "Boolean",
        "learning_rate": "Float",
        "settings_json": "String",
    }
    arguments = steps["UseSettings"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    passed = dict(zip(arguments[::2], arguments[1::2]))

    def get(name):
        return {"Get": f"Steps.ComputeSettings.OutputParameters['{name}']"}

    assert passed["--run-label"] == get("run_label")
    assert passed["--settings-json"] == get("settings_json")
    for flag, name in (("--sample-count", "sample_count"), ("--use-gpu", "use_gpu"), ("--learning-rate", "learning_rate")):
        assert passed[flag] == {"Std:Join": {"On": "", "Values": [get(name)]}}


def test_parallel_shards_split_input_by_key_over_several_instances(compiled, definitions):
    step = steps_by_name(definitions["parallel-shards"])["SummariseShards"]["Arguments"]
    assert step["ProcessingInputs"][0]["S3Input"]["S3DataDistributionType"] == "ShardedByS3Key"
    assert step["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == {"Get": "Parameters.InstanceCount"}
    declared = {p.name: p.default for p in compiled["parallel-shards"].parameters}
    assert declared["InstanceCount"] == 3
    assert step["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True


def test_fan_out_parent_names_its_children_with_the_environment_prefix(definitions, compiled):
    steps = steps_by_name(definitions["fan-out-parent"])
    fan_out = steps["FanOut"]
    assert fan_out["FunctionArn"] == "${FanOutFunctionArn}"
    assert fan_out["Arguments"]["child_pipeline"] == "sandbox-parallel-shards"
    assert fan_out["Arguments"]["items_json"] == {"Get": "Parameters.ItemsJson"}
    declared = {p.name: p.default for p in compiled["fan-out-parent"].parameters}
    assert [item["InputUri"] for item in json.loads(declared["ItemsJson"])][0] == "s3://${ArtifactBucket}/datasets/shards/emea/"
    assert fan_out["Arguments"]["parent_execution_id"] == {"Get": "Execution.PipelineExecutionId"}
    condition = steps["CheckStarted"]["Arguments"]["Conditions"][0]
    assert condition["LeftValue"] == {"Get": "Steps.FanOut.OutputParameters['started_count']"}
    assert [s["Name"] for s in steps["CheckStarted"]["Arguments"]["IfSteps"]] == ["NoChildStarted"]
