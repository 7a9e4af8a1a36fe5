"""Job step arguments against the pinned botocore model, on small hand-built steps: each kind of
refusal with its exact message, step and field, next to the request that passes; pipeline
expressions, deploy-time placeholders and the names the service supplies where values are expected.
"""

from __future__ import annotations

import copy
import functools

import botocore
import pytest

from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.validation.service_model import PIPELINE_EXPRESSIONS, STEP_REQUESTS, RequestShape, check_service_requests, service_model

FAIL = functools.partial(PipelineDefinitionError, pipeline="sandbox-p", module_file="p.py")
ROLE = "arn:aws:iam::123456789012:role/smp-sandbox-execution"
GAP = "If your module does not set this field, the SDK wrote it and this check has a gap: record the difference in pipeline_defs/validation/service_model.py"


def _training(**changes):
    """The smallest CreateTrainingJob request a step writes (the service names the job)."""
    return {"Name": "Train", "Type": "Training", "Arguments": {"RoleArn": ROLE, "OutputDataConfig": {"S3OutputPath": "s3://b/out"}} | changes}


def _check(*steps, parameters=()):
    check_service_requests({"Parameters": list(parameters), "Steps": list(steps)}, FAIL)


def _refusal(*steps, parameters=()) -> PipelineDefinitionError:
    with pytest.raises(PipelineDefinitionError) as raised:
        _check(*steps, parameters=parameters)
    assert raised.value.pipeline == "sandbox-p"
    return raised.value


def _says(error, step, field, expected, where="the CreateTrainingJob request", service="sagemaker"):
    assert (error.step, error.field) == (step, field)
    assert error.reason == f"{expected}, says {where} in the pinned {service} service model (botocore {botocore.__version__}). {GAP}"


def _parameter(name, kind):
    return {"Name": name, "Type": kind, "DefaultValue": {"String": "s", "Integer": 1, "Float": 1.5, "Boolean": True}[kind]}


def test_the_smallest_request_passes():
    _check(_training())


def test_a_missing_required_field_fails():
    arguments = _training()["Arguments"]
    del arguments["RoleArn"]
    _says(_refusal({"Name": "Train", "Type": "Training", "Arguments": arguments}), "Train", "Arguments.RoleArn", "is required")
    _says(_refusal(_training(OutputDataConfig={})), "Train", "Arguments.OutputDataConfig.S3OutputPath", "is required")


def test_an_unknown_field_fails_listing_the_allowed_ones():
    members = sorted(service_model("sagemaker").operation_model("CreateTrainingJob").input_shape.members)
    _says(_refusal(_training(Surprise=True)), "Train", "Arguments.Surprise", f"is not a field here (allowed: {', '.join(members)})")
    error = _refusal(_training(OutputDataConfig={"S3OutputPath": "s3://b/out", "Surprise": 1}))
    assert error.field == "Arguments.OutputDataConfig.Surprise"
    assert error.reason.startswith("is not a field here (allowed: CompressionType, KmsKeyId, S3OutputPath")


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"EnableNetworkIsolation": "yes"}, "Arguments.EnableNetworkIsolation", "expects bool, got str 'yes'"),
        ({"ResourceConfig": {"InstanceCount": "two"}}, "Arguments.ResourceConfig.InstanceCount", "expects int, got str 'two'"),
        ({"HyperParameters": {"epochs": 10}}, "Arguments.HyperParameters.epochs", "expects str, got int 10"),
        ({"VpcConfig": {"Subnets": "subnet-1", "SecurityGroupIds": ["sg-1"]}}, "Arguments.VpcConfig.Subnets", "expects list, got str 'subnet-1'"),
        ({"VpcConfig": {"Subnets": ["subnet-1", 5], "SecurityGroupIds": ["sg-1"]}}, "Arguments.VpcConfig.Subnets[1]", "expects str, got int 5"),
        ({"RoleArn": ["x" * 100]}, "Arguments.RoleArn", "expects str, got list " + repr(["x" * 100])[:80]),
        ({"ResourceConfig": {"InstanceCount": -1}}, "Arguments.ResourceConfig.InstanceCount", "is too small: -1 is below the minimum 0"),
        ({"StoppingCondition": {"MaxRuntimeInSeconds": 0}}, "Arguments.StoppingCondition.MaxRuntimeInSeconds", "is too small: 0 is below the minimum 1"),
        ({"RoleArn": "arn:aws:iam::1:role"}, "Arguments.RoleArn", "is too short: length 19 is below the minimum 20"),
        ({"VpcConfig": {"Subnets": [], "SecurityGroupIds": ["sg-1"]}}, "Arguments.VpcConfig.Subnets", "is too short: length 0 is below the minimum 1"),
        ({"EnableNetworkIsolation": {"Get": "Steps.A.X", "Default": True}}, "Arguments.EnableNetworkIsolation", "expects bool, got dict {'Get': 'Steps.A.X', 'Default': True}"),
        ({"EnableNetworkIsolation": {"Std:Other": "x"}}, "Arguments.EnableNetworkIsolation", "expects bool, got dict {'Std:Other': 'x'}"),
    ],
)
def test_a_value_the_api_refuses_fails_saying_what_it_expects(changes, field, expected):
    _says(_refusal(_training(**changes)), "Train", field, expected)


@pytest.mark.parametrize(
    "changes",
    [
        {"ResourceConfig": {"InstanceCount": 0}},
        {"StoppingCondition": {"MaxRuntimeInSeconds": 1}},
        {"RoleArn": "arn:aws:iam::1:role/"},
        {"VpcConfig": {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}},
        {"HyperParameters": {"epochs": "10"}},
    ],
)
def test_the_values_at_the_edge_pass(changes):
    _check(_training(**changes))


def test_a_float_field_takes_integers_and_floats():
    endpoint_config = {"Name": "Config", "Type": "EndpointConfig", "Arguments": {"ProductionVariants": [{"VariantName": "v", "ModelName": "m", "InitialVariantWeight": 1}]}}
    _check(endpoint_config)
    endpoint_config["Arguments"]["ProductionVariants"][0]["InitialVariantWeight"] = "x"
    error = _refusal(endpoint_config)
    _says(error, "Config", "Arguments.ProductionVariants[0].InitialVariantWeight", "expects float, decimal.Decimal, int, got str 'x'", where="the CreateEndpointConfig request")


# Pipeline expressions, placeholders and supplied names


@pytest.mark.parametrize(
    "changes",
    [
        {"RoleArn": {"Get": "Parameters.Role"}},
        {"RoleArn": {"Std:Join": {"On": "", "Values": ["arn:aws:iam::", {"Get": "Execution.PipelineExecutionId"}]}}},
        {"RoleArn": {"Std:JsonGet": {"Path": "role", "PropertyFile": {"Get": "Steps.A.PropertyFiles.R"}}}},
        {"ResourceConfig": {"InstanceCount": {"Get": "Steps.Prepare.Properties.Count"}}},
        {"ResourceConfig": {"InstanceCount": {"Std:JsonGet": {"Path": "count"}}}},
        {"VpcConfig": {"Get": "Parameters.Role"}},
        {"VpcConfig": {"Subnets": {"Get": "Parameters.Role"}, "SecurityGroupIds": ["sg-1"]}},
        {"VpcConfig": {"Subnets": [{"Get": "Parameters.Role"}, {"Std:Join": {"On": "-", "Values": ["subnet", "1"]}}], "SecurityGroupIds": ["sg-1"]}},
        {"EnableNetworkIsolation": {"Get": "Steps.Prepare.Properties.Isolated"}},
        {"ResourceConfig": {"InstanceCount": {"Get": "Parameters.Undeclared"}}},
    ],
)
def test_a_pipeline_expression_stands_where_a_value_is_expected(changes):
    _check(_training(**changes), parameters=[_parameter("Role", "String")])


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"ResourceConfig": {"InstanceCount": {"Std:Join": {"On": "", "Values": ["1"]}}}}, "Arguments.ResourceConfig.InstanceCount", "expects integer; Std:Join gives a string"),
        ({"EnableNetworkIsolation": {"Std:Join": {"On": "", "Values": ["true"]}}}, "Arguments.EnableNetworkIsolation", "expects boolean; Std:Join gives a string"),
        ({"OutputDataConfig": {"Std:Join": {"On": "", "Values": ["s3://b"]}}}, "Arguments.OutputDataConfig", "expects structure; Std:Join gives a string"),
    ],
)
def test_a_join_stands_only_for_a_string(changes, field, expected):
    _says(_refusal(_training(**changes)), "Train", field, expected)


@pytest.mark.parametrize(
    ("field", "declared", "fits"),
    [
        ("integer", "Integer", True),
        ("integer", "Float", False),
        ("integer", "String", False),
        ("integer", "Boolean", False),
        ("long", "Integer", True),
        ("long", "Float", False),
        ("float", "Integer", True),
        ("float", "Float", True),
        ("float", "String", False),
        ("float", "Boolean", False),
        ("boolean", "Boolean", True),
        ("boolean", "String", False),
        ("boolean", "Integer", False),
        ("string", "Integer", True),
        ("string", "Boolean", True),
    ],
)
def test_a_parameter_fits_a_field_of_its_type(field, declared, fits):
    parameters = [_parameter("P", declared)]
    get = {"Get": "Parameters.P"}
    steps = {
        "integer": _training(ResourceConfig={"InstanceCount": get}),
        "boolean": _training(EnableNetworkIsolation=get),
        "string": _training(RoleArn=get),
        "float": {"Name": "Config", "Type": "EndpointConfig", "Arguments": {"ProductionVariants": [{"VariantName": "v", "ModelName": "m", "InitialVariantWeight": get}]}},
        "long": {"Name": "Spark", "Type": "EMRServerless", "Arguments": {"JobConfig": {"executionRoleArn": ROLE, "executionTimeoutMinutes": get}}},
    }
    if fits:
        _check(steps[field], parameters=parameters)
        return
    error = _refusal(steps[field], parameters=parameters)
    assert error.reason.startswith(f"expects {field}; Parameters.P is a {declared} parameter, says ")


def test_a_placeholder_stands_for_a_string_of_any_length():
    _check(_training(RoleArn="${ExecutionRoleName}"))
    _check(_training(VpcConfig={"Subnets": ["${SubnetId0}"], "SecurityGroupIds": ["${JobSecurityGroupId}"]}))
    _says(_refusal(_training(RoleArn="$ExecutionRoleName")), "Train", "Arguments.RoleArn", "is too short: length 18 is below the minimum 20")
    _says(_refusal(_training(RoleArn={"${ExecutionRoleName}": 1})), "Train", "Arguments.RoleArn", "expects str, got dict {'${ExecutionRoleName}': 1}")


def test_the_names_the_service_supplies_may_be_absent_but_are_checked_when_given():
    step = _training()
    _check(step)
    assert "TrainingJobName" not in step["Arguments"]
    _check(_training(TrainingJobName="smp-sandbox-train"))
    _says(_refusal(_training(TrainingJobName=5)), "Train", "Arguments.TrainingJobName", "expects str, got int 5")
    _says(_refusal(_training(TrainingJobName="")), "Train", "Arguments.TrainingJobName", "is too short: length 0 is below the minimum 1")


@pytest.mark.parametrize(
    ("kind", "arguments"),
    [
        ("Processing", {"RoleArn": ROLE, "AppSpecification": {"ImageUri": "i"}, "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}}}),
        ("QualityCheck", {"RoleArn": ROLE, "AppSpecification": {"ImageUri": "i"}, "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}}}),
        ("ClarifyCheck", {"RoleArn": ROLE, "AppSpecification": {"ImageUri": "i"}, "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}}}),
        ("Transform", {"ModelName": "m", "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/k"}}}, "TransformOutput": {"S3OutputPath": "s3://b/o"}, "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1}}),
        ("Model", {"ExecutionRoleArn": ROLE}),
        ("EndpointConfig", {"ProductionVariants": [{"VariantName": "v", "ModelName": "m"}]}),
        ("Endpoint", {"EndpointConfigName": "c"}),
        ("InferenceComponent", {"EndpointName": "e", "Specification": {}}),
        ("AutoML", {"InputDataConfig": [{"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/k"}}, "TargetAttributeName": "y"}], "OutputDataConfig": {"S3OutputPath": "s3://b/o"}, "RoleArn": ROLE}),
        ("Tuning", {"HyperParameterTuningJobConfig": {"Strategy": "Bayesian", "ResourceLimits": {"MaxParallelTrainingJobs": 1}}}),
        ("Job", {"RoleArn": ROLE, "JobCategory": "c", "JobConfigSchemaVersion": "1.0.0", "JobConfigDocument": "{}"}),
    ],
)
def test_each_job_step_is_its_api_request_without_the_name_the_service_supplies(kind, arguments):
    step = {"Name": "S", "Type": kind, "Arguments": arguments}
    _check(step)
    request = STEP_REQUESTS[kind]
    error = _refusal({**step, "Arguments": arguments | {"Surprise": 1}})
    assert error.field == "Arguments.Surprise"
    assert f"says the {request.operation} request in the pinned sagemaker service model" in error.reason


def test_a_register_model_step_names_its_group_itself():
    step = {"Name": "Register", "Type": "RegisterModel", "Arguments": {"ModelPackageGroupName": "smp-sandbox-g"}}
    _check(step)
    error = _refusal({**step, "Arguments": {"ModelPackageGroupName": 5}})
    _says(error, "Register", "Arguments.ModelPackageGroupName", "expects str, got int 5", where="the CreateModelPackage request")


def test_arguments_that_are_no_object_fail():
    _says(_refusal({"Name": "Train", "Type": "Training", "Arguments": ["RoleArn"]}), "Train", "Arguments.(root)", "must be an object")
    lineage = "the sagemaker shapes of Actions, Artifacts, Associations, Contexts"
    _says(_refusal({"Name": "Record", "Type": "Lineage"}), "Record", "Arguments.(root)", "must be an object", where=lineage)


def test_the_pipeline_services_own_steps_are_left_to_the_schema():
    _check(
        {"Name": "F", "Type": "Fail", "Arguments": {"Anything": 1}},
        {"Name": "L", "Type": "Lambda", "Arguments": {"x": [1]}},
        {"Name": "E", "Type": "ForEach", "Arguments": {"ForEachBody": [], "Surprise": 1}},
        {"Name": "C", "Type": "Cleanup", "Arguments": "x"},
    )


def test_steps_in_branches_and_for_each_bodies_are_checked():
    inner = _training(Surprise=1)
    error = _refusal({"Name": "Check", "Type": "Condition", "Arguments": {"Conditions": [], "IfSteps": [], "ElseSteps": [inner]}})
    assert (error.step, error.field) == ("Train", "Arguments.Surprise")
    error = _refusal({"Name": "Each", "Type": "ForEach", "Arguments": {"ForEachBody": [inner]}})
    assert (error.step, error.field) == ("Train", "Arguments.Surprise")


def test_the_first_step_at_fault_is_reported():
    error = _refusal(_training(), {**_training(Surprise=1), "Name": "Second"}, {**_training(Other=1), "Name": "Third"})
    assert (error.step, error.field) == ("Second", "Arguments.Surprise")


# Member by member: Lineage, EMR, EMR Serverless


_ACTION = {"ActionName": "smp-sandbox-a", "Source": {"SourceUri": "s3://b/k"}, "ActionType": "Train"}
LINEAGE = "the sagemaker shapes of Actions, Artifacts, Associations, Contexts"


def test_lineage_entities_are_their_create_requests():
    association = {"Source": {"Name": "smp-sandbox-a", "Type": "Action"}, "Destination": {"Arn": "arn"}, "Extra": [1]}
    _check({"Name": "Record", "Type": "Lineage", "Arguments": {"Actions": [_ACTION, _ACTION], "Associations": [association], "Contexts": [], "Artifacts": []}})
    error = _refusal({"Name": "Record", "Type": "Lineage", "Arguments": {"Actions": [_ACTION, {"ActionName": "smp-sandbox-b", "Source": {"SourceUri": "s3://b/k"}}]}})
    _says(error, "Record", "Arguments.Actions[1].ActionType", "is required", where="the CreateActionRequest shape")
    error = _refusal({"Name": "Record", "Type": "Lineage", "Arguments": {"Contexts": [{"ContextName": "c", "Source": {"SourceUri": "s"}, "ContextType": "t", "Surprise": 1}]}})
    assert (error.field, error.reason.split(", says ")[1].split(" in ")[0]) == ("Arguments.Contexts[0].Surprise", "the CreateContextRequest shape")
    error = _refusal({"Name": "Record", "Type": "Lineage", "Arguments": {"Artifacts": [{"Source": {"SourceUri": "s"}}]}})
    _says(error, "Record", "Arguments.Artifacts[0].ArtifactType", "is required", where="the CreateArtifactRequest shape")


def test_a_lineage_member_no_api_defines_fails():
    error = _refusal({"Name": "Record", "Type": "Lineage", "Arguments": {"Actions": [_ACTION], "Entities": []}})
    _says(error, "Record", "Arguments.Entities", "is not a field here (allowed: Actions, Artifacts, Associations, Contexts)", where=LINEAGE)


_HADOOP = {"Jar": "command-runner.jar", "Args": ["spark-submit", "s3://b/job.py"]}


def test_an_emr_step_is_a_step_on_a_cluster_the_service_names():
    _check({"Name": "Spark", "Type": "EMR", "Arguments": {"ClusterId": "j-1", "ExecutionRoleArn": ROLE, "StepConfig": {"HadoopJarStep": _HADOOP}}})
    _check({"Name": "Spark", "Type": "EMR", "Arguments": {"ClusterConfig": {"Instances": {}}, "StepConfig": {"HadoopJarStep": _HADOOP}}})
    error = _refusal({"Name": "Spark", "Type": "EMR", "Arguments": {"ClusterId": 5, "StepConfig": {"HadoopJarStep": _HADOOP}}})
    _says(error, "Spark", "Arguments.ClusterId", "expects str, got int 5", where="the AddJobFlowStepsInput.JobFlowId shape", service="emr")
    error = _refusal({"Name": "Spark", "Type": "EMR", "Arguments": {"ClusterId": "j-1", "ExecutionRoleArn": "short", "StepConfig": {"HadoopJarStep": _HADOOP}}})
    _says(error, "Spark", "Arguments.ExecutionRoleArn", "is too short: length 5 is below the minimum 20", where="the AddJobFlowStepsInput.ExecutionRoleArn shape", service="emr")
    error = _refusal({"Name": "Spark", "Type": "EMR", "Arguments": {"ClusterId": "j-1", "StepConfig": {}}})
    _says(error, "Spark", "Arguments.StepConfig.HadoopJarStep", "is required", where="the StepConfig shape", service="emr")
    error = _refusal({"Name": "Spark", "Type": "EMR", "Arguments": {"ClusterConfig": {}, "StepConfig": {"HadoopJarStep": _HADOOP}}})
    _says(error, "Spark", "Arguments.ClusterConfig.Instances", "is required", where="the RunJobFlowInput shape", service="emr")
    error = _refusal({"Name": "Spark", "Type": "EMR", "Arguments": {"ClusterId": "j-1", "StepConfig": "step"}})
    _says(error, "Spark", "Arguments.StepConfig", "expects dict, got str 'step'", where="the StepConfig shape", service="emr")


def test_the_names_the_service_supplies_inside_a_member_are_filled_in_a_copy():
    arguments = {"ClusterId": "j-1", "StepConfig": {"HadoopJarStep": _HADOOP}, "ClusterConfig": {"Instances": {}}}
    before = copy.deepcopy(arguments)
    _check({"Name": "Spark", "Type": "EMR", "Arguments": arguments})
    assert arguments == before
    error = _refusal({"Name": "Spark", "Type": "EMR", "Arguments": {"ClusterId": "j-1", "StepConfig": {"Name": 5, "HadoopJarStep": _HADOOP}}})
    _says(error, "Spark", "Arguments.StepConfig.Name", "expects str, got int 5", where="the StepConfig shape", service="emr")


_START = {"executionRoleArn": ROLE, "jobDriver": {"sparkSubmit": {"entryPoint": "s3://b/e.py"}}}


def test_an_emr_serverless_step_runs_on_an_application_the_service_names():
    _check({"Name": "Spark", "Type": "EMRServerless", "Arguments": {"ApplicationId": "app1", "JobConfig": _START}})
    _check({"Name": "Spark", "Type": "EMRServerless", "Arguments": {"ApplicationConfig": {"releaseLabel": "emr-7.0.0", "type": "SPARK"}, "JobConfig": _START}})
    error = _refusal({"Name": "Spark", "Type": "EMRServerless", "Arguments": {"ApplicationConfig": {"type": "SPARK"}}})
    _says(error, "Spark", "Arguments.ApplicationConfig.releaseLabel", "is required", where="the CreateApplicationRequest shape", service="emr-serverless")
    error = _refusal({"Name": "Spark", "Type": "EMRServerless", "Arguments": {"JobConfig": {"jobDriver": _START["jobDriver"]}}})
    _says(error, "Spark", "Arguments.JobConfig.executionRoleArn", "is required", where="the StartJobRunRequest shape", service="emr-serverless")
    error = _refusal({"Name": "Spark", "Type": "EMRServerless", "Arguments": {"ApplicationId": "", "JobConfig": _START}})
    _says(error, "Spark", "Arguments.ApplicationId", "is too short: length 0 is below the minimum 1", where="the StartJobRunRequest.applicationId shape", service="emr-serverless")
    error = _refusal({"Name": "Spark", "Type": "EMRServerless", "Arguments": {"ExecutionRoleArn": 5}})
    _says(error, "Spark", "Arguments.ExecutionRoleArn", "expects str, got int 5", where="the StartJobRunRequest.executionRoleArn shape", service="emr-serverless")


def test_what_botocore_reports_in_other_words_is_passed_on_as_it_says():
    job = _START | {"jobDriver": {"sparkSubmit": {"entryPoint": "s3://b/e.py"}, "hive": {"query": "q"}}}
    error = _refusal({"Name": "Spark", "Type": "EMRServerless", "Arguments": {"JobConfig": job}})
    _says(error, "Spark", "Arguments.JobConfig.jobDriver", "more than one input", where="the StartJobRunRequest shape", service="emr-serverless")


# The request shapes


def test_no_structure_of_the_pinned_models_has_a_member_named_like_a_pipeline_expression():
    """So a one-key object {"Get": ...} where a structure is expected is always an expression."""
    for service in sorted({request.service for request in STEP_REQUESTS.values()}):
        model = service_model(service)
        for name in model.shape_names:
            shape = model.shape_for(name)
            if shape.type_name == "structure":
                assert not set(shape.members) & set(PIPELINE_EXPRESSIONS), (service, name)


def test_a_request_shape_says_which_request_or_shapes_it_is():
    assert STEP_REQUESTS["Training"] == RequestShape(service="sagemaker", operation="CreateTrainingJob", supplied=("TrainingJobName",))
    assert STEP_REQUESTS["RegisterModel"] == RequestShape(service="sagemaker", operation="CreateModelPackage")
    assert STEP_REQUESTS["Training"].describe() == "the CreateTrainingJob request"
    assert STEP_REQUESTS["Lineage"].describe() == LINEAGE
    assert STEP_REQUESTS["EMR"].describe() == "the emr shapes of ClusterConfig, ClusterId, ExecutionRoleArn, StepConfig"
    assert STEP_REQUESTS["Training"].covers_all_arguments and STEP_REQUESTS["EMR"].covers_all_arguments
    assert not STEP_REQUESTS["Lineage"].covers_all_arguments


def test_a_member_left_out_supplies_nothing_in_its_place():
    _check({"Name": "Spark", "Type": "EMR", "Arguments": {"ClusterId": "j-1"}})
    _check({"Name": "Spark", "Type": "EMRServerless", "Arguments": {"ApplicationId": "app1"}})


def test_every_member_is_checked_after_one_no_api_defines():
    error = _refusal({"Name": "Record", "Type": "Lineage", "Arguments": {"Associations": [], "Actions": [{"ActionName": "smp-sandbox-a"}]}})
    assert error.field == "Arguments.Actions[0].Source"


def test_a_list_where_a_member_expects_one_value_fails():
    error = _refusal({"Name": "Spark", "Type": "EMR", "Arguments": {"ClusterId": ["j-1"]}})
    _says(error, "Spark", "Arguments.ClusterId", "expects str, got list ['j-1']", where="the AddJobFlowStepsInput.JobFlowId shape", service="emr")


def test_a_parameter_is_found_by_its_whole_name():
    step = _training(ResourceConfig={"InstanceCount": {"Get": "Parameters.Count.Float"}})
    _check(step, parameters=[_parameter("Count", "Integer")])
    error = _refusal(step, parameters=[_parameter("Count", "Integer"), _parameter("Count.Float", "Float")])
    assert error.reason.startswith("expects integer; Parameters.Count.Float is a Float parameter")


def test_a_definition_without_steps_or_parameters_has_no_request_to_check():
    check_service_requests({"Version": "2020-12-01"}, FAIL)
