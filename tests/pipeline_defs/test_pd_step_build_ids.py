"""Each ``@step`` step's S3 paths carry a digest of that step alone: changing one function changes one step."""

from __future__ import annotations

import json
import shutil

from conftest import REPO_ROOT, _compile_offline
from test_pd_pipelines import step_build_id, steps_by_name

from pipeline_defs.compiler.finishing import BUILD_ID_SENTINEL, finish_definition
from pipeline_defs.compiler.sdk_session import StagedFiles

MODULE = REPO_ROOT / "pipeline_defs" / "pipelines" / "batch_inference.py"
SCORING_LINE = "                predictions.append(intercept + sum(w * v for w, v in zip(weights, values)))\n"


def _compile(path, sandbox_context):
    (result,) = _compile_offline(sandbox_context, [path]).values()
    return result, steps_by_name(json.loads(result.definition))


def test_changing_one_step_function_changes_that_steps_arguments_and_files_only(tmp_path, sandbox_context):
    module = tmp_path / "batch_inference.py"
    shutil.copy(MODULE, module)
    before, old_steps = _compile(module, sandbox_context)
    text = module.read_text()
    assert SCORING_LINE in text
    module.write_text(text.replace(SCORING_LINE, SCORING_LINE.replace("intercept + ", "2 * intercept + ")))
    after, new_steps = _compile(module, sandbox_context)

    assert sorted(old_steps) == sorted(new_steps) == ["ListBatches", "ScoreBatches", "Summarise"]
    assert [name for name in old_steps if old_steps[name] != new_steps[name]] == ["ScoreBatches"]
    old_id, new_id = step_build_id(old_steps["ScoreBatches"]), step_build_id(new_steps["ScoreBatches"])
    assert old_id != new_id
    # Only the id in the step's own paths moved: the rest of its request is as it was.
    assert json.dumps(old_steps["ScoreBatches"]).replace(old_id, new_id) == json.dumps(new_steps["ScoreBatches"])

    prefix = f"{before.pipeline_name}/ScoreBatches/"
    removed = [k for k, v in before.staged_files.items() if after.staged_files.get(k) != v]
    added = [k for k, v in after.staged_files.items() if before.staged_files.get(k) != v]
    assert sorted(k.removeprefix(f"{prefix}{old_id}/") for k in removed) == sorted(k.removeprefix(f"{prefix}{new_id}/") for k in added)
    assert all(k.startswith(f"{prefix}{old_id}/") for k in removed) and all(k.startswith(f"{prefix}{new_id}/") for k in added)
    assert f"{prefix}{new_id}/function/payload.pkl" in added
    for name in ("ListBatches", "Summarise"):
        own = {k: v for k, v in before.staged_files.items() if k.startswith(f"{before.pipeline_name}/{name}/")}
        assert own and all(after.staged_files.get(k) == v for k, v in own.items())
    # The whole build's id (the manifest's) still tells the two builds apart.
    assert before.build_id != after.build_id


def _function_step(name: str, *, workspace: bool) -> dict:
    arguments = ["--func_step_s3_dir", BUILD_ID_SENTINEL]
    channels = [{"ChannelName": BUILD_ID_SENTINEL, "S3Uri": f"s3://b/p/sm_rf_user_ws/{BUILD_ID_SENTINEL}"}] if workspace else []
    return {"Name": name, "Type": "Training", "Arguments": {"AlgorithmSpecification": {"ContainerArguments": arguments}, "InputDataConfig": channels}}


def _finish(*, workspace: bool):
    staged = StagedFiles(bucket="b")
    for name in ("A", "B"):
        staged.put(bucket="b", key=f"p/{name}/{BUILD_ID_SENTINEL}/function/payload.pkl", body=name.encode())
    if workspace:
        staged.put(bucket="b", key=f"p/sm_rf_user_ws/{BUILD_ID_SENTINEL}/workspace.zip", body=b"zip")
    gate = {"Name": "Gate", "Type": "Condition", "Arguments": {"IfSteps": [_function_step("B", workspace=workspace)], "ElseSteps": []}}
    raw = json.dumps({"Version": "2020-12-01", "Steps": [_function_step("A", workspace=workspace), gate]})
    built = finish_definition(raw=raw, staged=staged, root=REPO_ROOT)
    return built, {name: step_build_id(step) for name, step in steps_by_name(built.definition).items() if name != "Gate"}


def test_steps_inside_a_condition_get_their_own_ids_and_a_shared_workspace_keeps_one_id():
    built, ids = _finish(workspace=False)
    assert len(set(ids.values())) == 2 and built.build_id not in ids.values()
    assert sorted(built.staged_files) == sorted(f"p/{name}/{ids[name]}/function/payload.pkl" for name in ("A", "B"))
    # The SDK's include_local_workdir workspace is uploaded once for every step under one id: they keep sharing it.
    shared, ids = _finish(workspace=True)
    assert set(ids.values()) == {shared.build_id}
    assert f"p/sm_rf_user_ws/{shared.build_id}/workspace.zip" in shared.staged_files
    assert BUILD_ID_SENTINEL not in json.dumps(shared.definition) + "".join(shared.staged_files)
