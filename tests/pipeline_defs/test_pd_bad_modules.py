"""Bad pipeline modules stop synth with a message naming the module file and what is wrong."""

from __future__ import annotations

import re
import textwrap

import pytest

from pipeline_defs.errors import PipelineDefinitionError

GOOD = '''
from pipeline_defs.building import new_pipeline, sklearn_image_uri

PIPELINE_NAME = "{name}"


def build_pipeline(ctx):
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow.steps import ProcessingStep

    processor = ScriptProcessor(
        image_uri=sklearn_image_uri(ctx),
        command=["python3"],
        instance_type={instance_type!r},
        instance_count=1,
        base_job_name=ctx.job_name("Work"),
        sagemaker_session=ctx.session,{processor_extra}
    )
    step = ProcessingStep(name={step_name!r}, step_args=processor.run(code=ctx.job_script("abalone_preprocess.py"){run_extra}))
    return {pipeline_call}
'''
DEFAULTS = {
    "name": "probe",
    "instance_type": "ml.m5.large",
    "processor_extra": "",
    "step_name": "Work",
    "run_extra": "",
    "pipeline_call": "new_pipeline(ctx, parameters=[], steps=[step])",
}


@pytest.fixture
def compile_source(tmp_path, offline_guard, sandbox_context):
    from pipeline_defs.compiler import compile_module
    from pipeline_defs.loader import load_pipeline_modules

    def run(*sources: str, names: tuple[str, ...] | None = None):
        paths = []
        for index, source in enumerate(sources):
            path = tmp_path / (names[index] if names else f"module_{index}.py")
            path.write_text(textwrap.dedent(source))
            paths.append(path)
        modules = load_pipeline_modules(paths)
        return [
            compile_module(m, ctx=sandbox_context, signing_seed=b"bad-input-tests", development_only_key=False)
            for m in modules
        ]

    return run


def good(**changes) -> str:
    return GOOD.format(**{**DEFAULTS, **changes})


def expect_error(compile_source, *sources, match: str, names=None) -> PipelineDefinitionError:
    with pytest.raises(PipelineDefinitionError, match=match) as raised:
        compile_source(*sources, names=names)
    return raised.value


def test_the_template_itself_compiles(compile_source):
    (result,) = compile_source(good())
    assert result.pipeline_name == "sandbox-probe"


def test_syntax_error_names_the_file(compile_source):
    error = expect_error(compile_source, "def broken(:\n", match="cannot import: SyntaxError", names=("broken.py",))
    assert error.module_file.endswith("broken.py")


def test_import_failure_names_the_file_and_cause(compile_source):
    error = expect_error(compile_source, "import not_a_real_module\n", match="ModuleNotFoundError: No module named 'not_a_real_module'", names=("imports.py",))
    assert error.module_file.endswith("imports.py")


def test_module_level_exception_names_the_file(compile_source):
    expect_error(compile_source, "raise RuntimeError('config missing')\n", match="cannot import: RuntimeError: config missing")


def test_missing_pipeline_name(compile_source):
    error = expect_error(compile_source, "def build_pipeline(ctx):\n    return None\n", match="PIPELINE_NAME is not defined")
    assert error.field == "PIPELINE_NAME"


def test_invalid_pipeline_name(compile_source):
    expect_error(compile_source, good(name="bad name!"), match=r"PIPELINE_NAME 'bad name!' may hold only letters, digits and hyphens")


def test_missing_builder(compile_source):
    error = expect_error(compile_source, 'PIPELINE_NAME = "lonely"\n', match="must define build_pipeline")
    assert error.pipeline == "lonely"


def test_builder_that_raises_names_module_and_pipeline(compile_source):
    source = 'PIPELINE_NAME = "raiser"\ndef build_pipeline(ctx):\n    raise ValueError("boom")\n'
    error = expect_error(compile_source, source, match="build_pipeline raised ValueError: boom", names=("raiser.py",))
    assert error.pipeline == "sandbox-raiser" and error.module_file.endswith("raiser.py")


def test_builder_returning_the_wrong_type(compile_source):
    source = 'PIPELINE_NAME = "wrong"\ndef build_pipeline(ctx):\n    return {"Steps": []}\n'
    expect_error(compile_source, source, match="build_pipeline returned dict, expected sagemaker.mlops.workflow.pipeline.Pipeline")


def test_two_modules_with_one_pipeline_name(compile_source):
    error = expect_error(compile_source, good(), good(), match="pipeline name 'probe' is already used by", names=("first.py", "second.py"))
    assert error.module_file.endswith("second.py") and "first.py" in str(error)


def test_pipeline_named_differently_from_the_context(compile_source):
    call = 'Pipeline(name="other", steps=[step], sagemaker_session=ctx.session)'
    source = good(pipeline_call=call).replace("from pipeline_defs.building", "from sagemaker.mlops.workflow.pipeline import Pipeline\nfrom pipeline_defs.building")
    expect_error(compile_source, source, match="use ctx.pipeline_name")


def test_pipeline_without_custom_job_prefix(compile_source):
    call = "Pipeline(name=ctx.pipeline_name, steps=[step], sagemaker_session=ctx.session)"
    source = good(pipeline_call=call).replace("from pipeline_defs.building", "from sagemaker.mlops.workflow.pipeline import Pipeline\nfrom pipeline_defs.building")
    error = expect_error(compile_source, source, match="use_custom_job_prefix=True")
    assert error.field == "pipeline_definition_config"


def test_pipeline_with_a_session_that_is_not_the_offline_one(compile_source):
    call = "Pipeline(name=ctx.pipeline_name, steps=[step], sagemaker_session=OfflinePipelineSession(region='us-east-1', bucket='b'))"
    source = good(pipeline_call=call).replace(
        "from pipeline_defs.building",
        "from sagemaker.mlops.workflow.pipeline import Pipeline\nfrom pipeline_defs.compiler.sdk_session import OfflinePipelineSession\nfrom pipeline_defs.building",
    )
    expect_error(compile_source, source, match="must use ctx.session")


def test_unknown_placeholder_names_the_pipeline_and_placeholder(compile_source):
    source = good(run_extra=', arguments=["--input", "s3://${SomeBucket}/x"]')
    error = expect_error(compile_source, source, match=r"placeholder \$\{SomeBucket\} is not one the stacks resolve")
    assert error.pipeline == "sandbox-probe" and error.step == "Work"


def test_network_isolation_off_without_exemption(compile_source):
    extra = "\n        network_config=__import__('sagemaker.core.network', fromlist=['NetworkConfig']).NetworkConfig(enable_network_isolation=False, encrypt_inter_container_traffic=True, subnets=['${SubnetId0}'], security_group_ids=['${JobSecurityGroupId}']),"
    error = expect_error(compile_source, good(processor_extra=extra), match="network isolation is off")
    assert error.step == "Work" and error.field == "NetworkConfig.EnableNetworkIsolation"


def test_network_isolation_off_with_explicit_exemption_compiles_and_is_recorded(compile_source):
    extra = "\n        network_config=__import__('sagemaker.core.network', fromlist=['NetworkConfig']).NetworkConfig(enable_network_isolation=False, encrypt_inter_container_traffic=True, subnets=['${SubnetId0}'], security_group_ids=['${JobSecurityGroupId}']),"
    source = good(processor_extra=extra) + textwrap.dedent(
        """
        from pipeline_defs.schedules import Guardrail, GuardrailExemption
        GUARDRAIL_EXEMPTIONS = (GuardrailExemption(guardrail=Guardrail.NETWORK_ISOLATION, reason="needs PyPI", owner="ml-platform", expires="2099-12-31", steps=("Work",)),)
        """
    )
    (result,) = compile_source(source)
    assert result.guardrail_exemptions[0].reason == "needs PyPI"


def test_exemption_without_reason_fails_at_import(compile_source):
    source = good() + "\nfrom pipeline_defs.schedules import Guardrail, GuardrailExemption\nGUARDRAIL_EXEMPTIONS = (GuardrailExemption(guardrail=Guardrail.VPC, reason=' ', owner='ml-platform', expires='2099-12-31'),)\n"
    expect_error(compile_source, source, match="exemption of vpc needs a reason")


EXEMPTION_IMPORT = "\nfrom pipeline_defs.schedules import Guardrail, GuardrailExemption\nGUARDRAIL_EXEMPTIONS = (GuardrailExemption(guardrail=Guardrail.VPC, reason='r'{fields}),)\n"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (", expires='2099-12-31'", "missing 1 required keyword-only argument: 'owner'"),
        (", owner='ml-platform'", "missing 1 required keyword-only argument: 'expires'"),
        (", owner='  ', expires='2099-12-31'", "exemption of vpc: owner is '  ': expected the team or contact that answers for the exemption"),
        (", owner='ml-platform', expires='31/12/2099'", "exemption of vpc: expires is '31/12/2099': expected an ISO date 'YYYY-MM-DD', the last day (UTC) the exemption holds"),
        (", owner='ml-platform', expires='2099-02-30'", "exemption of vpc: expires is '2099-02-30', not a date (day is out of range for month)"),
        (", owner='ml-platform', expires=date(2099, 12, 31)", "exemption of vpc: expires is datetime.date(2099, 12, 31): expected an ISO date"),
    ],
    ids=["no-owner", "no-expiry", "blank-owner", "not-iso", "no-such-day", "date-object"],
)
def test_an_exemption_without_owner_or_with_a_malformed_expiry_fails_at_import(compile_source, fields: str, message: str):
    source = good() + "\nfrom datetime import date" + EXEMPTION_IMPORT.format(fields=fields)
    error = expect_error(compile_source, source, match="cannot import")
    assert str(error).startswith("module 'module_0.py': cannot import: ") and message in str(error)


def test_instance_type_outside_the_allowlist(compile_source):
    error = expect_error(compile_source, good(instance_type="ml.p4d.24xlarge"), match="not in the environment's allowlist")
    assert error.field == "ProcessingResources.ClusterConfig.InstanceType"


def test_step_name_the_service_rejects(compile_source):
    error = expect_error(compile_source, good(step_name="has spaces"), match="contains ' ': only letters, digits, hyphens and underscores")
    assert error.step == "has spaces"


def test_schedules_of_the_wrong_type(compile_source):
    error = expect_error(compile_source, good() + '\nSCHEDULES = ("cron(0 1 * * ? *)",)\n', match="SCHEDULES must be a tuple of Schedule")
    assert error.field == "SCHEDULES"


def test_undeclared_parameter(compile_source):
    run_extra = ', arguments=["--seed", ParameterString(name="Seed", default_value="1")]'
    error = expect_error(compile_source, good(run_extra=run_extra), match="undeclared parameter 'Seed'")
    assert error.step == "Work"


def test_dependency_on_a_missing_step(compile_source):
    call = "new_pipeline(ctx, parameters=[], steps=[step])"
    source = good(pipeline_call=call).replace("    return new_pipeline", "    step.add_depends_on(['Ghost'])\n    return new_pipeline")
    expect_error(compile_source, source, match="The input steps do not contain the step of name: Ghost")


def test_function_step_without_an_explicit_name(compile_source):
    source = textwrap.dedent(
        '''
        from pipeline_defs.building import new_pipeline
        from pipeline_defs.schedules import Guardrail, GuardrailExemption

        PIPELINE_NAME = "unnamed"
        GUARDRAIL_EXEMPTIONS = (GuardrailExemption(guardrail=Guardrail.NETWORK_ISOLATION, reason="@step", owner="ml-platform", expires="2099-12-31"),)


        def add_one(x: int) -> int:
            """Adds one."""
            return x + 1


        def build_pipeline(ctx):
            from sagemaker.mlops.workflow.function_step import step

            return new_pipeline(ctx, parameters=[], steps=[step(add_one, display_name="AddOne")(1)])
        '''
    )
    error = expect_error(compile_source, source, match="need an explicit name=")
    assert error.step.startswith("add_one-")


def test_model_trainer_upload_outside_the_pipeline_prefix(compile_source):
    source = textwrap.dedent(
        '''
        from pipeline_defs.building import new_pipeline, sklearn_image_uri, cost_tag_shapes, training_output

        PIPELINE_NAME = "trainer"


        def build_pipeline(ctx):
            from sagemaker.mlops.workflow.steps import TrainingStep
            from sagemaker.train.configs import Compute, SourceCode
            from sagemaker.train.model_trainer import ModelTrainer

            trainer = ModelTrainer(
                training_image=sklearn_image_uri(ctx),
                source_code=SourceCode(source_dir="jobs/abalone_train", entry_script="train.py"),
                compute=Compute(instance_type="ml.m5.large", instance_count=1, volume_kms_key_id=ctx.kms_key),
                base_job_name="trainer",
                role=ctx.execution_role_arn,
                output_data_config=training_output(ctx),
                tags=cost_tag_shapes(ctx),
                sagemaker_session=ctx.session,
            )
            return new_pipeline(ctx, parameters=[], steps=[TrainingStep(name="Train", step_args=trainer.train())])
        '''
    )
    expect_error(compile_source, source, match="outside the pipeline's prefix .* input_s3_key_prefix")


def test_volume_key_on_an_nvme_instance_type_is_refused_before_sagemaker_does(offline_guard, sandbox_context, tmp_path):
    import dataclasses

    from pipeline_defs.compiler import compile_module
    from pipeline_defs.loader import load_pipeline_modules

    ctx = dataclasses.replace(sandbox_context, allowed_instance_types=("ml.g4dn.xlarge",))
    path = tmp_path / "gpu.py"
    path.write_text(textwrap.dedent(good(name="gpu", instance_type="ml.g4dn.xlarge")))
    (module,) = load_pipeline_modules([path])
    with pytest.raises(PipelineDefinitionError, match="refuses a volume KMS key on ml.g4dn.xlarge") as raised:
        compile_module(module, ctx=ctx, signing_seed=b"t", development_only_key=False)
    assert raised.value.field == "ProcessingResources.ClusterConfig.VolumeKmsKeyId"

    exempt = good(name="gpu", instance_type="ml.g4dn.xlarge") + (
        "\nfrom pipeline_defs.schedules import Guardrail, GuardrailExemption\n"
        "GUARDRAIL_EXEMPTIONS = (GuardrailExemption(guardrail=Guardrail.VOLUME_KMS_KEY, reason='NVMe volumes are hardware-encrypted', owner='ml-platform', expires='2099-12-31'),)\n"
    )
    path.write_text(textwrap.dedent(exempt))
    (module,) = load_pipeline_modules([path])
    result = compile_module(module, ctx=ctx, signing_seed=b"t", development_only_key=False)
    cluster = __import__("json").loads(result.definition)["Steps"][0]["Arguments"]["ProcessingResources"]["ClusterConfig"]
    assert "VolumeKmsKeyId" not in cluster and cluster["InstanceType"] == "ml.g4dn.xlarge"


def test_subnets_other_than_the_platforms_are_refused(compile_source):
    extra = "\n        network_config=__import__('sagemaker.core.network', fromlist=['NetworkConfig']).NetworkConfig(enable_network_isolation=True, encrypt_inter_container_traffic=True, subnets=['subnet-0123456789abcdef0'], security_group_ids=['${JobSecurityGroupId}']),"
    error = expect_error(compile_source, good(processor_extra=extra), match=r"Subnets \['subnet-0123456789abcdef0'\] are not the platform's own")
    assert error.step == "Work" and error.field == "Subnets"


def test_a_kms_key_other_than_the_platforms_is_refused(compile_source):
    extra = "\n        volume_kms_key='arn:aws:kms:us-east-1:111111111111:key/mine',"
    error = expect_error(compile_source, good(processor_extra=extra), match="is not the platform's key")
    assert error.field == "VolumeKmsKeyId"


def test_job_name_outside_the_environment_prefix(compile_source):
    source = good().replace('base_job_name=ctx.job_name("Work")', 'base_job_name="adhoc-work"')
    error = expect_error(compile_source, source, match="must start with 'sandbox-'")
    assert (error.step, error.field) == ("Work", "ProcessingJobName")
    assert "module_0.py" in str(error)


def test_step_functions_need_an_image_where_the_environment_deploys_for_real(offline_guard):
    """The stock image lacks SDK v3: a pinned environment must name its own, the sandbox is warned."""
    import warnings

    from pipeline_defs.compiler import compile_module
    from pipeline_defs.context import context_for_environment
    from pipeline_defs.loader import load_pipeline_modules

    (module,) = [m for m in load_pipeline_modules(None) if m.pipeline_name == "batch-inference"]
    pinned = context_for_environment(env_name="prod", region="eu-west-1", cost_tag_key="CostCenter", cost_tag_value="x", name_prefix="smp-prod")
    with pytest.raises(PipelineDefinitionError, match="context 'environments.prod.stepImageUri'") as raised:
        compile_module(module, ctx=pinned, signing_seed=b"s", development_only_key=False)
    assert raised.value.pipeline == "smp-prod-batch-inference"
    agnostic = context_for_environment(env_name="sandbox", region=None, cost_tag_key="CostCenter", cost_tag_value="x", name_prefix="smp-sandbox")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compile_module(module, ctx=agnostic, signing_seed=b"s", development_only_key=False)
    assert any("stepImageUri" in str(w.message) for w in caught)
    own = context_for_environment(env_name="prod", region="eu-west-1", cost_tag_key="CostCenter", cost_tag_value="x", name_prefix="smp-prod", step_image_uri="111111111111.dkr.ecr.eu-west-1.amazonaws.com/step@sha256:689e9dd50804826d04c324c720104e2fc7362bd1a54df6e4898a8b423f2cae15")
    (result,) = [compile_module(module, ctx=own, signing_seed=b"s", development_only_key=False)]
    assert "111111111111.dkr.ecr.eu-west-1.amazonaws.com/step@sha256:689e9dd50804826d04c324c720104e2fc7362bd1a54df6e4898a8b423f2cae15" in result.definition


# --- a slip of the author: named, with the nearest known name, never silently dropped -----------

SCHEDULE_DECLARATION = '\nfrom pipeline_defs.schedules import Schedule\n{name} = (Schedule(name="nightly", expression="cron(0 2 * * ? *)"),)\n'
EXEMPTION_DECLARATION = "\nfrom pipeline_defs.schedules import Guardrail, GuardrailExemption\n{name} = (GuardrailExemption(guardrail=Guardrail.VPC, reason='r', owner='ml-platform', expires='2099-12-31'),)\n"
MISSPELT_DECLARATIONS = [
    (good() + SCHEDULE_DECLARATION.format(name="SCHEDULE"), "SCHEDULE", "SCHEDULES"),
    (good() + SCHEDULE_DECLARATION.format(name="schedules"), "schedules", "SCHEDULES"),
    (good() + SCHEDULE_DECLARATION.format(name="SCHEDULES") + SCHEDULE_DECLARATION.format(name="SCHEDULE"), "SCHEDULE", "SCHEDULES"),
    (good() + EXEMPTION_DECLARATION.format(name="GUARDRAIL_EXEMPTION"), "GUARDRAIL_EXEMPTION", "GUARDRAIL_EXEMPTIONS"),
    (good().replace('PIPELINE_NAME = "probe"', 'PIPELINE = "probe"'), "PIPELINE", "PIPELINE_NAME"),
    (good().replace("def build_pipeline(ctx)", "def build_pipelines(ctx)"), "build_pipelines", "build_pipeline"),
    (good() + "\nMAX_PARALLEL_STEP = 4\n", "MAX_PARALLEL_STEP", "MAX_PARALLEL_STEPS"),
]


@pytest.mark.parametrize(("source", "name", "meant"), MISSPELT_DECLARATIONS, ids=[c[1] + f"-{i}" for i, c in enumerate(MISSPELT_DECLARATIONS)])
def test_a_misspelt_module_level_name_is_an_error_naming_the_nearest_one(compile_source, source: str, name: str, meant: str):
    error = expect_error(compile_source, source, match=f"module-level name '{name}' is not one the loader reads \\(did you mean '{meant}'\\?\\)", names=("probe.py",))
    assert error.field == name and error.module_file.endswith("probe.py")


def test_other_module_level_constants_are_left_alone(compile_source):
    source = good() + '\nPIPELINE_TAGS = ("a",)\nSCHEDULE_NAMES = ()\nDEFAULT_ITEMS = []\nschedules = []\nSCHEDULES = tuple(schedules)\n'
    (result,) = compile_source(source)
    assert result.schedules == ()


def test_a_helper_module_without_the_underscore_gets_the_hint(compile_source):
    error = expect_error(compile_source, "def shared_processor(ctx):\n    return None\n", match="defines neither PIPELINE_NAME nor build_pipeline", names=("helpers.py",))
    assert "rename a helper module to '_helpers.py'" in str(error)


def test_helper_modules_with_the_underscore_are_not_loaded(tmp_path):
    from pipeline_defs.loader import module_files

    for name in ("_helpers.py", "pipeline.py"):
        (tmp_path / name).write_text("")
    assert [p.name for p in module_files(tmp_path)] == ["pipeline.py"]


CASE_COLLISIONS = [
    ((good(name="probe"), good(name="Probe")), ("first.py", "second.py"), r"pipeline name 'Probe' differs from 'probe' \(first.py\) only in letter case or repeated hyphens"),
    ((good(name="pro-be"), good(name="pro--be")), ("first.py", "second.py"), "pipeline name 'pro--be' differs from 'pro-be'"),
    ((good(name="one"), good(name="two")), ("probe.py", "Probe.py"), "module file name 'Probe.py' differs from probe.py only in letter case"),
]


@pytest.mark.parametrize(("sources", "names", "match"), CASE_COLLISIONS, ids=["pipeline-case", "pipeline-hyphens", "file-case"])
def test_names_that_differ_only_in_case_are_refused_before_cdk_sees_them(compile_source, sources, names, match):
    expect_error(compile_source, *sources, match=match, names=names)


JOB_SCRIPT_PATHS = [
    ("/etc/hostname", "job script '/etc/hostname' must be a path relative to pipeline_defs/jobs/ without '..'"),
    ("../pipelines/__init__.py", "job script '../pipelines/__init__.py' must be a path relative to pipeline_defs/jobs/ without '..'"),
    ("abalone_train", "job script 'abalone_train' is a directory, not a file under pipeline_defs/jobs/"),
    ("abalone_preprocss.py", "job script 'abalone_preprocss.py' not found under pipeline_defs/jobs/ (did you mean 'abalone_preprocess.py'?)"),
]


@pytest.mark.parametrize(("script", "message"), JOB_SCRIPT_PATHS, ids=["absolute", "dot-dot", "directory", "typo"])
def test_a_job_script_outside_jobs_or_missing_is_named(compile_source, script: str, message: str):
    source = good().replace('ctx.job_script("abalone_preprocess.py")', f"ctx.job_script({script!r})")
    error = expect_error(compile_source, source, match=re.escape(message))
    assert error.pipeline == "sandbox-probe" and error.module_file.endswith("module_0.py")


@pytest.fixture
def latin1_job(request, tmp_path, monkeypatch):
    """A copy of ``jobs/`` holding one file saved as Latin-1, where the context and the compiler read job files."""
    import shutil

    from pipeline_defs import context
    from pipeline_defs.compiler import build

    shutil.copytree(context.PACKAGE_ROOT / context.JOBS_DIR, tmp_path / context.JOBS_DIR, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / context.JOBS_DIR / request.param).write_bytes("# Résumé of the run\nprint('ok')\n".encode("latin-1"))
    for module in (context, build):
        monkeypatch.setattr(module, "PACKAGE_ROOT", tmp_path)
    return request.param


@pytest.mark.parametrize("latin1_job", ["latin1_probe_job.py"], indirect=True)
def test_a_job_script_that_is_not_utf8_is_refused(compile_source, latin1_job):
    source = good().replace('ctx.job_script("abalone_preprocess.py")', 'ctx.job_script("latin1_probe_job.py")')
    expect_error(compile_source, source, match=re.escape("job script pipeline_defs/jobs/latin1_probe_job.py is not UTF-8 text (byte 0xe9 at line 1, column 4)"))


@pytest.mark.parametrize("latin1_job", ["abalone_train/latin1_helper.py"], indirect=True)
def test_a_staged_file_that_is_not_utf8_is_refused_whoever_staged_it(offline_guard, sandbox_context, latin1_job):
    """``ModelTrainer`` stages a whole source directory without ``ctx.job_script``: the staged files are checked too."""
    from pipeline_defs.compiler import compile_module
    from pipeline_defs.loader import load_pipeline_modules

    (module,) = [m for m in load_pipeline_modules(None) if m.pipeline_name == "train-evaluate-register"]
    with pytest.raises(PipelineDefinitionError, match=r"staged file '.*/code/latin1_helper.py' \(from pipeline_defs/jobs/\) is not UTF-8 text \(byte 0xe9 at line 1, column 4\)"):
        compile_module(module, ctx=sandbox_context, signing_seed=b"t", development_only_key=False)


def test_duplicate_step_names_name_the_step(compile_source):
    source = good().replace(
        "    return new_pipeline",
        '    twin = ProcessingStep(name="Work", step_args=processor.run(code=ctx.job_script("abalone_preprocess.py")))\n    return new_pipeline',
    ).replace("steps=[step]", "steps=[step, twin]")
    error = expect_error(compile_source, source, match="step name 'Work' is used twice")
    assert (error.step, error.field) == ("Work", "name")


TOO_LONG_NAMES = [
    ({"step_name": "W" * 70}, "step name 'WWWW.*' is too long: 70 characters, at most 64 are allowed", "Name"),
    ({"name": "p" * 250}, "pipeline name 'sandbox-pppp.*' is too long: 258 characters, at most 256 are allowed", "PIPELINE_NAME"),
    ({"name": "p" * 257}, "PIPELINE_NAME 'pppp.*' is too long: 257 characters, at most 256 are allowed", "PIPELINE_NAME"),
]


@pytest.mark.parametrize(("changes", "match", "field"), TOO_LONG_NAMES, ids=["step", "pipeline-with-prefix", "pipeline"])
def test_a_too_long_name_says_too_long_and_the_limit(compile_source, changes: dict, match: str, field: str):
    error = expect_error(compile_source, good(**changes), match=match)
    assert error.field == field


SESSIONLESS = [
    ("sagemaker_session=ctx.session,", "", "ScriptProcessor"),
    (
        "    step = ProcessingStep(",
        "    from sagemaker.core.lambda_helper import Lambda\n    Lambda(function_arn=ctx.lambda_function_arn('DataPassing'))\n    step = ProcessingStep(",
        "Lambda",
    ),
]


@pytest.mark.parametrize(("old", "new", "owner"), SESSIONLESS, ids=["processor", "lambda"])
def test_an_sdk_object_without_the_offline_session_is_named_before_any_aws_call(compile_source, offline_guard, old: str, new: str, owner: str):
    attempts = len(offline_guard.ATTEMPTS)
    error = expect_error(compile_source, good().replace(old, new, 1), match=f"^.*: {owner} was given no sagemaker_session.*; at module_0.py:\\d+: ")
    assert "pass sagemaker_session=ctx.session" in str(error) and "Credentials" not in str(error)
    assert error.field == "sagemaker_session"
    assert offline_guard.ATTEMPTS[attempts:] == []


ISOLATION_OFF = "\n        network_config=__import__('sagemaker.core.network', fromlist=['NetworkConfig']).NetworkConfig(enable_network_isolation=False, encrypt_inter_container_traffic=True, subnets=['${SubnetId0}'], security_group_ids=['${JobSecurityGroupId}']),"
EXEMPTIONS = "\nfrom pipeline_defs.schedules import Guardrail, GuardrailExemption\nGUARDRAIL_EXEMPTIONS = ({},)\n"
UNNEEDED_EXEMPTIONS = [
    (good(), "GuardrailExemption(guardrail=Guardrail.NETWORK_ISOLATION, reason='r', owner='ml-platform', expires='2099-12-31')", "the network-isolation exemption for the whole pipeline turns network isolation off for every job, yet no step is a @step function"),
    (good(processor_extra=ISOLATION_OFF), "GuardrailExemption(guardrail=Guardrail.NETWORK_ISOLATION, reason='r', owner='ml-platform', expires='2099-12-31', steps=('Wrok',))", "names 'Wrok', which is not a step of this pipeline (did you mean 'Work'?)"),
    (good(), "GuardrailExemption(guardrail=Guardrail.NETWORK_ISOLATION, reason='r', owner='ml-platform', expires='2099-12-31', steps=('Work',))", "the network-isolation exemption for steps ['Work'] is needed by no step"),
    (good(), "GuardrailExemption(guardrail=Guardrail.OUTPUT_KMS_KEY, reason='r', owner='ml-platform', expires='2099-12-31', steps=('Work',))", "the output-kms-key exemption for steps ['Work'] is needed by no step"),
]


@pytest.mark.parametrize(("module", "exemption", "message"), UNNEEDED_EXEMPTIONS, ids=["pipeline-wide-isolation", "unknown-step", "isolated-step", "no-outputs"])
def test_an_exemption_no_step_needs_is_refused(compile_source, module: str, exemption: str, message: str):
    error = expect_error(compile_source, module + EXEMPTIONS.format(exemption), match=re.escape(message))
    assert error.field == "GUARDRAIL_EXEMPTIONS"


def test_the_function_steps_of_the_shipped_at_step_pipeline_are_recognised(definitions):
    """The pipeline-wide isolation exemption rests on spotting ``@step`` jobs in a definition."""
    from pipeline_defs.validation.guardrails import is_function_step

    steps = definitions["batch-inference"]["Steps"]
    assert steps and all(is_function_step(step) for step in steps)
    assert not any(is_function_step(step) for step in definitions["train-evaluate-register"]["Steps"])


# Job images: pinned by digest, or SageMaker's own from AWS's registry accounts ---------------------------

DIGEST = "sha256:" + "0123456789abcdef" * 4
OWN_REPOSITORY = "111111111111.dkr.ecr.us-east-1.amazonaws.com/team/trainer"
SKLEARN_TAGGED = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"


def with_image(image: str) -> str:
    return good().replace("image_uri=sklearn_image_uri(ctx)", f"image_uri={image!r}")


def test_a_job_image_named_by_tag_is_refused_naming_module_step_field_and_value(compile_source):
    error = expect_error(compile_source, with_image(f"{OWN_REPOSITORY}:v3"), match="named by tag 'v3'")
    assert (error.module_file, error.pipeline, error.step, error.field) == ("module_0.py", "sandbox-probe", "Work", "AppSpecification.ImageUri")
    assert error.reason == (
        f"image '{OWN_REPOSITORY}:v3' is named by tag 'v3', which can be moved to another image: expected it pinned by digest, "
        f"{OWN_REPOSITORY}@sha256:<64 hex digits>; only SageMaker's own images (image_uris.retrieve, from AWS's registry "
        "accounts for us-east-1) may keep their tags"
    )


@pytest.mark.parametrize("reference", [f"{OWN_REPOSITORY}@{DIGEST}", f"{OWN_REPOSITORY}:v3@{DIGEST}"], ids=["digest", "tag-and-digest"])
def test_a_job_image_pinned_by_digest_compiles_and_is_all_its_role_may_pull(compile_source, reference: str):
    from base.images import EcrRepository

    (result,) = compile_source(with_image(reference))
    assert result.image_repositories == (EcrRepository(account="111111111111", region="us-east-1", name="team/trainer"),)


def test_sagemakers_own_images_keep_their_tags_but_only_from_aws_registry_accounts(compile_source):
    from base.images import EcrRepository

    (result,) = compile_source(good())
    assert result.image_repositories == (EcrRepository(account="683313688378", region="us-east-1", name="sagemaker-scikit-learn"),)
    assert SKLEARN_TAGGED in result.definition
    lookalike = SKLEARN_TAGGED.replace("683313688378", "111111111111")
    expect_error(compile_source, with_image(lookalike), match=re.escape(f"image '{lookalike}' is named by tag '1.4-2-cpu-py3'"))


@pytest.mark.parametrize(
    ("source", "field", "message"),
    [
        (with_image(f"{OWN_REPOSITORY.replace('us-east-1', 'eu-west-1')}@{DIGEST}"), "AppSpecification.ImageUri", "is in eu-west-1: expected an image in the environment's region us-east-1"),
        (with_image(OWN_REPOSITORY), "AppSpecification.ImageUri", "is named by tag 'latest' (implied), which can be moved to another image"),
        (with_image("111111111111.dkr.ecr.us-east-1.amazonaws.com/Team:v1"), "AppSpecification.ImageUri", "is no ECR image reference: expected <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex digits>"),
        (with_image(f"{OWN_REPOSITORY}@sha256:abc"), "AppSpecification.ImageUri", "is no ECR image reference"),
        (
            good(pipeline_call=f"new_pipeline(ctx, parameters=[ParameterString(name='Image', default_value={OWN_REPOSITORY + ':latest'!r})], steps=[step])"),
            "Parameters.Image.DefaultValue",
            "is named by tag 'latest'",
        ),
    ],
    ids=["other-region", "no-tag-or-digest", "upper-case-repository", "short-digest", "parameter-default"],
)
def test_other_image_references_are_refused(compile_source, source: str, field: str, message: str):
    error = expect_error(compile_source, source, match=re.escape(message))
    assert error.field == field
