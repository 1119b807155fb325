"""The script as SageMaker runs it: a child process, the contract's env vars, four files out."""

from __future__ import annotations

import gzip
import json
import re

import numpy as np
import onnx
import onnx.numpy_helper
import onnx_numpy
import pandas as pd
import pytest
from synth import FEATURES

MANIFEST_KEYS = {
    "schemaVersion", "modelName", "architecture", "target", "horizon", "window", "features",
    "featureSetVersion", "input",
    "output", "normalisation", "featureStats", "trainingWindow", "validationWindow", "testWindow",
    "embargo", "dataHash", "metrics", "hyperparameters", "seed", "device", "versions", "createdAt",
}
METRIC_RE = re.compile(r"^metric (\w+)=([-+0-9.eE]+)$")


def _check_outputs(job, model: str, window: int, target: str) -> None:
    files = sorted(p.name for p in job.model.iterdir())
    assert files == ["evaluation.json", "manifest.json", "model.onnx", "parity.json"]  # no temp dir left
    m = job.json("manifest.json")
    assert set(m) == MANIFEST_KEYS
    n_in = window * len(FEATURES)
    assert m["schemaVersion"] == 1 and m["modelName"] == "ml-signal"
    assert (m["architecture"], m["target"], m["window"], m["horizon"], m["embargo"]) == (model, target, window, 5, 5)
    assert m["features"] == FEATURES
    assert m["featureSetVersion"] == 1 and m["hyperparameters"]["feature_set_version"] == 1
    assert m["input"] == {"name": "features", "shape": [None, n_in]}
    assert m["output"] == {"name": "score", "kind": "probability" if target == "sign" else "return"}
    assert len(m["normalisation"]["mean"]) == len(FEATURES) == len(m["normalisation"]["std"])
    for f in FEATURES:
        st = m["featureStats"][f]
        assert len(st["edges"]) == 10 and len(st["proportions"]) == 11
        assert st["edges"] == sorted(st["edges"]) and abs(sum(st["proportions"]) - 1) < 1e-9
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", m["dataHash"])
    assert m["trainingWindow"]["to"] < m["validationWindow"]["from"] <= m["validationWindow"]["to"] < m["testWindow"]["from"]
    assert set(m["metrics"]) == {"train_loss", "val_loss", "val_ic", "test_ic", "test_hit_rate", "test_sharpe"}
    assert m["seed"] == 7 and m["device"] == "cpu"
    assert set(m["versions"]) >= {"python", "torch", "onnx", "numpy"} and m["versions"]["onnx"] == onnx.__version__
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", m["createdAt"])

    ev = job.json("evaluation.json")
    assert set(ev) == {"window", "rows", "ic", "hitRate", "sharpe", "periodsPerYear"}
    assert ev["window"] == m["testWindow"] and ev["periodsPerYear"] == 252 and ev["rows"] > 0
    assert -1 <= ev["ic"] <= 1 and 0 <= ev["hitRate"] <= 1
    assert ev["ic"] == m["metrics"]["test_ic"]

    par = job.json("parity.json")
    assert par["input"] == "features" and 0 < len(par["rows"]) <= 256 and len(par["rows"]) == len(par["outputs"])
    assert all(len(r) == n_in for r in par["rows"]) and all(len(o) == 1 for o in par["outputs"])
    out = np.array(par["outputs"])
    if target == "sign":
        assert ((out > 0) & (out < 1)).all()

    # normalisation is inside the graph: the manifest's mean and 1/std, tiled over the window
    g = onnx.load(str(job.model / "model.onnx")).graph
    inits = [onnx.numpy_helper.to_array(i).reshape(-1) for i in g.initializer]
    tiled_mean = np.tile(np.array(m["normalisation"]["mean"], dtype=np.float32), window)
    tiled_inv = np.tile((1 / np.array(m["normalisation"]["std"])).astype(np.float32), window)
    assert any(v.shape == tiled_mean.shape and np.array_equal(v, tiled_mean) for v in inits)
    assert any(v.shape == tiled_inv.shape and np.allclose(v, tiled_inv, rtol=1e-6) for v in inits)

    # the ONNX file, run without PyTorch, gives PyTorch's outputs on raw (unnormalised) inputs
    onnx.checker.check_model(onnx.load(str(job.model / "model.onnx")))
    got = onnx_numpy.run(str(job.model / "model.onnx"), {"features": np.array(par["rows"], dtype=np.float32)})[0]
    assert got.shape == out.shape
    assert np.abs(got - out).max() < 1e-5


@pytest.mark.parametrize("model,window,target", [("mlp", 1, "return"), ("seq", 8, "sign")])
def test_training_writes_the_four_files(job, model, window, target):
    r = job.run_child(job.env(model=model, window=window, target=target))
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    _check_outputs(job, model, window, target)
    metrics = {}
    for line in r.stdout.splitlines():
        if line.startswith("metric "):
            mm = METRIC_RE.match(line)
            assert mm, line
            metrics.setdefault(mm.group(1), []).append(float(mm.group(2)))
    assert {"train_loss", "val_loss", "val_ic", "test_ic", "test_hit_rate", "test_sharpe"} <= set(metrics)
    assert len(metrics["train_loss"]) == 4  # one per epoch, then the kept epoch's again
    m = job.json("manifest.json")["metrics"]
    assert [metrics[k][-1] for k in ("train_loss", "val_loss", "val_ic")] == pytest.approx(
        [m["train_loss"], m["val_loss"], m["val_ic"]], rel=1e-9)
    assert m["val_loss"] == pytest.approx(min(metrics["val_loss"][:3]), rel=1e-9)
    assert not (job.output / "failure").exists()
    assert len(json.loads((job.output / "data" / "history.json").read_text())) == 3


def test_athena_unload_parts_gzip_json_lines_give_the_same_model(make_job):
    """The AWS channel: gzip JSON-lines parts without extension, nulls as JSON null."""
    csv_job = make_job()
    df = pd.read_csv(csv_job.channel / "features.csv")
    parts_job = make_job(csv=False)
    parts_job.channel.mkdir(parents=True)
    for i, (_, g) in enumerate(df.groupby("symbol")):
        lines = [json.dumps({k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in rec.items()})
                 for rec in g.to_dict(orient="records")]
        (parts_job.channel / f"20261207_000000_0000{i}_abc").write_bytes(gzip.compress("\n".join(lines).encode()))
    (parts_job.channel / "20261207_000000_00009_abc").write_bytes(gzip.compress(b""))  # an empty part
    assert csv_job.run_inproc(csv_job.env()) == 0
    assert parts_job.run_inproc(parts_job.env()) == 0
    assert csv_job.json("parity.json") == parts_job.json("parity.json")
    a, b = csv_job.json("manifest.json"), parts_job.json("manifest.json")
    assert a["trainingWindow"] == b["trainingWindow"] and a["normalisation"] == b["normalisation"]
    assert a["dataHash"] != b["dataHash"]  # the hash is of the bytes


def test_a_previous_model_is_replaced_only_when_the_new_one_is_complete(job):
    assert job.run_inproc(job.env()) == 0
    first = job.json("manifest.json")
    assert job.run_inproc(job.env(seed=8)) == 0
    assert job.json("manifest.json")["seed"] == 8 != first["seed"]
    assert sorted(p.name for p in job.model.iterdir()) == ["evaluation.json", "manifest.json", "model.onnx", "parity.json"]


def test_datetime_timestamps_give_utc_datetime_windows(job):
    df = pd.read_csv(job.channel / "features.csv")
    df["ts"] = df["ts"] + "T21:00:00+01:00"  # any offset: windows are written in UTC
    df.to_csv(job.channel / "features.csv", index=False)
    assert job.run_inproc(job.env()) == 0
    w = job.json("manifest.json")["trainingWindow"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT20:00:00Z", w["from"]) and w["from"].startswith("2001-")


def test_data_window_bounds_the_samples_not_the_history(job):
    """data_from / data_to (the request's training window): every window of the split lies inside."""
    df = pd.read_csv(job.channel / "features.csv")
    dates = sorted(df["ts"].unique())
    lo, hi = dates[60], dates[300]
    assert job.run_inproc(job.env(model="seq", window=10, data_from=lo, data_to=hi)) == 0
    m = job.json("manifest.json")
    assert m["hyperparameters"]["data_from"] == lo and m["hyperparameters"]["data_to"] == hi
    # The first sample is the first bar on or after data_from (its window reaches back before it).
    assert m["trainingWindow"]["from"] == lo
    assert lo <= m["trainingWindow"]["to"] < m["testWindow"]["from"] <= m["testWindow"]["to"] <= hi
    assert job.run_inproc(job.env(model="seq", window=10)) == 0
    assert job.json("manifest.json")["testWindow"]["to"] > m["testWindow"]["to"]
