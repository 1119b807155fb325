"""Bad input: one clear line on stderr, the failure file, exit 2, the model directory untouched."""

from __future__ import annotations

import json

import pandas as pd
import pytest


def _prefill(job):
    job.model.mkdir(parents=True, exist_ok=True)
    (job.model / "manifest.json").write_text('{"old": true}\n')
    return {p.name: p.read_bytes() for p in job.model.iterdir()}


def _fails(job, env, capsys, *needles):
    before = _prefill(job)
    capsys.readouterr()
    assert job.run_inproc(env) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    assert (job.output / "failure").read_text().strip() == lines[0][len("error: "):]
    assert {p.name: p.read_bytes() for p in job.model.iterdir()} == before  # nothing half-written
    return lines[0]


def test_child_process_exit_code_and_single_stderr_line(job):
    env = job.env()
    env["SM_HPS"] = json.dumps({"features": "ret_1,nope_9", "feature_set_version": 1})
    r = job.run_child(env)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["error: features.csv: missing column(s) nope_9"]
    assert "Traceback" not in r.stdout + r.stderr
    assert (job.output / "failure").read_text() == "features.csv: missing column(s) nope_9\n"


def test_channel_not_set(job, capsys):
    env = job.env()
    del env["SM_CHANNEL_TRAIN"]
    _fails(job, env, capsys, "SM_CHANNEL_TRAIN is not set")


def test_channel_missing(job, capsys):
    env = job.env()
    env["SM_CHANNEL_TRAIN"] = str(job.root / "nowhere")
    _fails(job, env, capsys, "does not exist")


def test_channel_without_files(job, capsys):
    (job.channel / "features.csv").unlink()
    (job.channel / "subdir").mkdir()
    _fails(job, job.env(), capsys, "has no files")


def test_missing_feature_columns(job, capsys):
    df = pd.read_csv(job.channel / "features.csv").drop(columns=["vol_20", "ret_5"])
    df.to_csv(job.channel / "features.csv", index=False)
    _fails(job, job.env(), capsys, "missing column(s) ret_5, vol_20")


def test_nan_in_a_feature_after_the_warm_up_names_the_column_and_count(job, capsys):
    df = pd.read_csv(job.channel / "features.csv")
    df.loc[df.index[100:130], "zscore_20"] = float("nan")
    df.to_csv(job.channel / "features.csv", index=False)
    _fails(job, job.env(), capsys, "feature zscore_20", "30 of", "rows after the warm-up")


def test_a_rare_empty_feature_is_dropped_not_fatal(job, capsys):
    """A zero denominator leaves a feature empty now and then (src/contract/ml.ts): those rows,
    and the sequence windows containing them, are not used."""
    df = pd.read_csv(job.channel / "features.csv")
    df.loc[df.index[200], "zscore_20"] = float("nan")
    df.to_csv(job.channel / "features.csv", index=False)
    assert job.run_inproc(job.env(model="seq", window=4)) == 0
    assert "41 with empty features" in capsys.readouterr().out  # 40 warm-up rows + this one


def test_text_in_a_number_column(job, capsys):
    text = (job.channel / "features.csv").read_text().splitlines()
    cells = text[60].split(",")
    cells[2] = "abc"
    text[60] = ",".join(cells)
    (job.channel / "features.csv").write_text("\n".join(text) + "\n")
    _fails(job, job.env(), capsys, "column ret_1", "'abc'", "features.csv line 61")


def test_too_few_rows_for_the_split(make_job, capsys):
    job = make_job(n_bars=60, symbols=("AAA",))
    _fails(job, job.env(), capsys, "too few rows for the split")


@pytest.mark.parametrize("hps,needle", [
    ({"epoch": 5}, "unknown hyperparameter(s): epoch"),
    ({"model": "transformer"}, "hyperparameter model: must be one of mlp|seq"),
    ({"lr": "fast"}, "hyperparameter lr: expected a number"),
    ({"features": ""}, "hyperparameter features is required"),
    ({"feature_set_version": ""}, "hyperparameter feature_set_version is required"),
    ({"feature_set_version": "0"}, "hyperparameter feature_set_version: must be between 1 and"),
    ({"data_from": "2020-02-30"}, "hyperparameter data_from: expected a date yyyy-mm-dd"),
    ({"data_to": "yesterday"}, "hyperparameter data_to: expected a date yyyy-mm-dd"),
    ({"data_from": "2021-01-01", "data_to": "2020-01-01"}, "data_from 2021-01-01 is after data_to 2020-01-01"),
    ({"data_from": "2099-01-01"}, "none between 2099-01-01 and the end with all"),
    ({"test_fraction": 0.5, "val_fraction": 0.45}, "at least 10% for training"),
    ({"device": "tpu"}, "hyperparameter device: must be one of"),
])
def test_bad_hyperparameters(job, capsys, hps, needle):
    _fails(job, job.env(**hps), capsys, needle)


def test_sagemaker_own_hyperparameters_are_ignored(job):
    env = job.env()
    hp = json.loads(env["SM_HPS"])
    hp.update({"sagemaker_program": "train.py", "_tuning_objective_metric": "val_ic", "model": '"mlp"'})
    env["SM_HPS"] = json.dumps(hp)
    assert job.run_inproc(env) == 0


def test_duplicate_rows(job, capsys):
    df = pd.read_csv(job.channel / "features.csv")
    pd.concat([df, df.iloc[[50]]]).to_csv(job.channel / "features.csv", index=False)
    _fails(job, job.env(), capsys, "duplicate row for symbol AAA")
