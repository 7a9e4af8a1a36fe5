"""Job scripts of the Lambda data-passing and sharded processing pipelines, run locally."""

from __future__ import annotations

import json

import pytest

from test_pd_jobs_train_evaluate import load_script


def test_lambda_outputs_arrive_as_strings_and_are_parsed_back_to_types(tmp_path):
    consumer = load_script("lambda_outputs_consumer.py")
    resolved = consumer.main(
        [
            "--sample-count", "250",
            "--run-label", "nightly-7",
            "--use-gpu", "false",
            "--learning-rate", "0.05",
            "--settings-json", json.dumps({"features": ["a", "b"], "limits": {"max_depth": 4}}),
            "--output-dir", str(tmp_path),
        ]
    )
    written = json.loads((tmp_path / "resolved.json").read_text())
    assert written == resolved == {
        "sample_count": 250,
        "run_label": "nightly-7",
        "use_gpu": False,
        "learning_rate": 0.05,
        "settings": {"features": ["a", "b"], "limits": {"max_depth": 4}},
    }


@pytest.mark.parametrize("text,expected", [("true", True), ("True", True), ("FALSE", False), ("0", False)])
def test_booleans_in_json_or_python_spelling(text, expected):
    assert load_script("lambda_outputs_consumer.py").parse_bool(text) is expected


def test_settings_are_never_evaluated_as_python(tmp_path):
    consumer = load_script("lambda_outputs_consumer.py")
    marker = tmp_path / "evaluated"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    with pytest.raises(SystemExit):
        consumer.parse(["--sample-count", "1", "--run-label", "x", "--use-gpu", "true", "--learning-rate", "1", "--settings-json", payload])
    assert not marker.exists()
    with pytest.raises(SystemExit):
        consumer.parse(["--sample-count", "1", "--run-label", "x", "--use-gpu", "true", "--learning-rate", "1", "--settings-json", "[1, 2]"])


def test_each_instance_summarises_only_its_share_under_its_own_name(tmp_path):
    worker = load_script("shard_worker.py")
    hosts = ["algo-1", "algo-2", "algo-3"]
    all_files = {f"part-{i}.csv": [f"{i},{j}" for j in range(i + 1)] for i in range(7)}
    output = tmp_path / "s3-output"
    for index, host in enumerate(hosts):
        base = tmp_path / host
        (base / "input").mkdir(parents=True)
        for name in sorted(all_files)[index::3]:
            (base / "input" / name).write_text("\n".join(all_files[name]) + "\n")
        config = tmp_path / f"{host}-resourceconfig.json"
        config.write_text(json.dumps({"current_host": host, "hosts": hosts}))
        summary = worker.main(["--base-dir", str(base), "--resource-config", str(config)])
        assert summary["host_index"] == index and summary["host_count"] == 3
        output.mkdir(exist_ok=True)
        produced = list((base / "output").iterdir())
        assert [p.name for p in produced] == [f"summary-{host}.json"]
        (output / produced[0].name).write_bytes(produced[0].read_bytes())
    merged = [json.loads(p.read_text()) for p in sorted(output.iterdir())]
    assert len(merged) == 3
    covered = [name for summary in merged for name in summary["files"]]
    assert sorted(covered) == sorted(all_files) and len(covered) == len(set(covered))
    assert sum(s["rows"] for s in merged) == sum(len(v) for v in all_files.values())
    assert merged[0]["files"]["part-3.csv"] == {"rows": 4, "sum_last_column": 6.0}
