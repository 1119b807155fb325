"""One training job: read the channel, split, train with per-epoch checkpoints, evaluate on the
held-out window, export. Everything the job writes to SM_MODEL_DIR is first written to a hidden
temporary directory inside it and renamed into place at the end (manifest.json last), so a failed
or interrupted job leaves the model directory as it was."""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import random
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import data, device, evaluate, export
from .errors import InputError
from .hparams import HyperParameters, parse_hyperparameters
from .models import Scored, build_net
from .split import Split, walk_forward_split

N_QUANTILE_EDGES = 10
PARITY_ROWS = 256
EVAL_CHUNK = 65536
CHECKPOINT_FORMAT = 1
KEEP_CHECKPOINTS = 2


def metric(name: str, value: float) -> None:
    # MetricDefinitions regex: <name>=([-+0-9.eE]+)
    print(f"metric {name}={float(value):.10g}", flush=True)


def log(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------------------- statistics


def feature_stats(bar_x: np.ndarray, names: list[str]) -> dict[str, Any]:
    """Per feature: 10 quantile edges (at k/11) of the training values and the share of training
    values in each of the 11 bins. x is in bin i when edges[i-1] < x <= edges[i] (searchsorted
    'left'), the convention of the drift check (src/ml/drift.ts), which bins live values the same
    way: with ties at an edge (discrete features such as cross-sectional ranks) any other
    convention would read as drift."""
    out = {}
    qs = np.arange(1, N_QUANTILE_EDGES + 1) / (N_QUANTILE_EDGES + 1)
    for j, name in enumerate(names):
        v = bar_x[:, j]
        edges = np.quantile(v, qs)
        counts = np.bincount(np.searchsorted(edges, v, side="left"), minlength=N_QUANTILE_EDGES + 1)
        out[name] = {
            "edges": [float(e) for e in edges],
            "proportions": [float(c) / len(v) for c in counts],
        }
    return out


# ---------------------------------------------------------------------------- checkpoints


def _to_cpu(obj: Any) -> Any:
    if torch.is_tensor(obj):
        return obj.detach().cpu().clone()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _checkpoints(ckpt_dir: Path) -> list[Path]:
    found = []
    for p in ckpt_dir.glob("ckpt-epoch-*.pt"):
        try:
            found.append((int(p.stem.rsplit("-", 1)[1]), p))
        except ValueError:
            continue
    return [p for _, p in sorted(found, reverse=True)]


def load_checkpoint(ckpt_dir: Path, key: str, epochs: int) -> dict[str, Any] | None:
    """The newest readable checkpoint of this job's configuration (spot resume)."""
    for p in _checkpoints(ckpt_dir):
        try:
            ck = torch.load(p, map_location="cpu")
        except Exception as e:  # noqa: BLE001 (a torn or foreign file: try the previous one)
            log(f"checkpoint {p.name} unreadable ({type(e).__name__}); trying an older one")
            continue
        if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT or ck.get("key") != key:
            log(f"checkpoint {p.name} belongs to another data set or configuration; not resuming from it")
            continue
        if ck["epoch"] > epochs:
            log(f"checkpoint {p.name} is past the {epochs} epochs asked for; not resuming from it")
            continue
        return ck
    return None


def save_checkpoint(ckpt_dir: Path, state: dict[str, Any]) -> None:
    path = ckpt_dir / f"ckpt-epoch-{state['epoch']:05d}.pt"
    tmp = ckpt_dir / f".{path.name}.{os.getpid()}.tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)
    for old in _checkpoints(ckpt_dir)[KEEP_CHECKPOINTS:]:
        old.unlink(missing_ok=True)


def config_key(hp: HyperParameters, digest: str) -> str:
    cfg = hp.to_json()
    for k in ("epochs", "device"):  # a resumed job may ask for more epochs, or run elsewhere
        cfg.pop(k)
    blob = json.dumps({"data": digest, "hp": cfg, "format": CHECKPOINT_FORMAT}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


# ---------------------------------------------------------------------------- training


def _deterministic(rt: device.Runtime, seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if rt.kind == "cpu":
        # one thread: float sums in a fixed order, the same result twice
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True)
    elif rt.kind == "cuda":
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)


def _loss_fn(target: str) -> nn.Module:
    return nn.BCEWithLogitsLoss() if target == "sign" else nn.MSELoss()


def _label(y: np.ndarray, target: str, y_mean: float, y_std: float) -> np.ndarray:
    if target == "sign":
        return (y > 0).astype(np.float32)
    return ((y - y_mean) / y_std).astype(np.float32)


def _predict_raw(scored: Scored, x: torch.Tensor, batch: int, rt: device.Runtime) -> torch.Tensor:
    """Raw outputs in fixed-size batches (the last one padded: XLA compiles one graph per shape)."""
    outs = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = x[i : i + batch]
            n = len(xb)
            if n < batch and rt.kind == "neuron":
                xb = torch.cat([xb, xb.new_zeros(batch - n, xb.shape[1])])
            outs.append(scored.raw(xb)[:n].reshape(-1).cpu())
    return torch.cat(outs)


def train(hp: HyperParameters, rt: device.Runtime, scored: Scored, ds: data.Dataset, sp: Split,
          y_mean: float, y_std: float, ckpt_dir: Path | None, key: str) -> dict[str, Any]:
    dev = rt.device
    loss_fn = _loss_fn(hp.target)
    bars = torch.from_numpy(ds.bars).to(dev)
    rows_tr = torch.from_numpy(ds.rows[sp.train]).to(dev)
    lags = torch.arange(-hp.window + 1, 1, device=dev).reshape(1, -1)
    t_tr = torch.from_numpy(_label(ds.y[sp.train], hp.target, y_mean, y_std)).reshape(-1, 1).to(dev)
    x_va = torch.from_numpy(ds.windows(sp.validation)).to(dev)
    y_va = ds.y[sp.validation]
    t_va = torch.from_numpy(_label(y_va, hp.target, y_mean, y_std)).reshape(-1, 1)

    scored.to(dev)
    net = device.wrap_for_training(scored.net, rt)
    opt = torch.optim.Adam(scored.net.parameters(), lr=hp.lr)
    history: list[dict[str, float]] = []
    best: dict[str, Any] | None = None
    start = 0

    if ckpt_dir is not None:
        ck = load_checkpoint(ckpt_dir, key, hp.epochs)
        if ck is not None:
            scored.net.load_state_dict(ck["model"])
            opt.load_state_dict(ck["optimizer"])
            history, best, start = ck["history"], ck["best"], ck["epoch"]
            log(f"resumed from checkpoint at epoch {start}")
        device.barrier(rt)  # every rank has read before rank 0 writes (and prunes) the next one

    n = len(rows_tr)
    for epoch in range(start, hp.epochs):
        # every epoch's randomness derives from (seed, epoch): a resumed run repeats an
        # uninterrupted one exactly
        torch.manual_seed(hp.seed + 1000 * (epoch + 1))
        gen = torch.Generator().manual_seed(hp.seed * 100003 + epoch)
        perm = torch.randperm(n, generator=gen)
        if rt.world_size > 1:
            # equal shards: every rank must run the same number of steps (each one all-reduces)
            perm = perm[: (n // rt.world_size) * rt.world_size][rt.rank :: rt.world_size]
        scored.train()
        total = torch.zeros((), device=dev)  # summed on the device: no host sync per step (XLA)
        count = 0
        drop_last = rt.kind == "neuron" and len(perm) >= hp.batch_size  # static shapes on XLA
        for i in range(0, len(perm), hp.batch_size):
            idx = perm[i : i + hp.batch_size]
            if drop_last and len(idx) < hp.batch_size:
                break
            idx = idx.to(dev)
            xb = bars[rows_tr.index_select(0, idx).reshape(-1, 1) + lags].reshape(len(idx), -1)
            z = net((xb - scored.mean) * scored.inv_std)
            loss = loss_fn(z, t_tr.index_select(0, idx))
            opt.zero_grad()
            loss.backward()
            device.optimizer_step(opt, rt)
            total = total + loss.detach() * len(idx)
            count += len(idx)
        train_loss = float(total.cpu()) / max(count, 1)

        scored.eval()
        z_va = _predict_raw(scored, x_va, max(hp.batch_size, 1024), rt).reshape(-1, 1)
        val_loss = float(loss_fn(z_va, t_va))
        if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
            raise InputError(
                f"training diverged at epoch {epoch + 1} (train_loss {train_loss}, val_loss {val_loss}); "
                f"try a lower lr than {hp.lr}"
            )
        val_ic = evaluate.information_coefficient(z_va.numpy().reshape(-1), y_va)
        history.append({"epoch": epoch + 1, "train_loss": train_loss, "val_loss": val_loss, "val_ic": val_ic})
        if rt.is_main:
            metric("epoch", epoch + 1)
            metric("train_loss", train_loss)
            metric("val_loss", val_loss)
            metric("val_ic", val_ic)
        if best is None or val_loss < best["val_loss"]:
            best = {"epoch": epoch + 1, "train_loss": train_loss, "val_loss": val_loss, "val_ic": val_ic,
                    "state": _to_cpu(scored.net.state_dict())}
        if ckpt_dir is not None and rt.is_main:
            save_checkpoint(ckpt_dir, {
                "format": CHECKPOINT_FORMAT, "key": key, "epoch": epoch + 1,
                "model": _to_cpu(scored.net.state_dict()), "optimizer": _to_cpu(opt.state_dict()),
                "history": history, "best": best,
            })
        device.barrier(rt)
    assert best is not None
    return {"best": best, "history": history}


# ---------------------------------------------------------------------------- the job


def _window(ts: np.ndarray, date_only: bool) -> dict[str, str]:
    return {"from": data.format_ts(ts.min(), date_only), "to": data.format_ts(ts.max(), date_only)}


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n")


def _versions(onnx_version: str | None) -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnx": onnx_version,
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }


def run(env: dict[str, str]) -> None:
    t_start = time.monotonic()
    if not env.get("SM_CHANNEL_TRAIN"):
        raise InputError("SM_CHANNEL_TRAIN is not set (the directory of the features file)")
    hp = parse_hyperparameters(env.get("SM_HPS"))
    model_dir = Path(env.get("SM_MODEL_DIR") or "/opt/ml/model")
    ckpt_dir = Path(env.get("QUANT_CHECKPOINT_DIR") or "/opt/ml/checkpoints")
    output_data_dir = env.get("SM_OUTPUT_DATA_DIR")

    if env.get("SM_NUM_GPUS", "0") not in ("", "0", "1") and int(env.get("WORLD_SIZE", "1")) == 1:
        log(f"note: {env['SM_NUM_GPUS']} GPUs but one process; launch with torchrun to use them all")
    rt = device.select(hp.device, str(ckpt_dir))
    _deterministic(rt, hp.seed)
    log(f"device {rt.kind} ({rt.device}), world size {rt.world_size}, rank {rt.rank}")

    ds, digest = data.load(
        env.get("SM_CHANNEL_TRAIN"), hp.features, hp.window, hp.horizon, hp.data_from, hp.data_to
    )
    log(f"read {ds.rows_read} rows ({ds.rows_incomplete} with empty features), {len(ds.y)} samples, {digest}")
    sp = walk_forward_split(ds.ts, ds.label_end, hp.test_fraction, hp.val_fraction, hp.embargo)
    log(f"split: train {len(sp.train)}, validation {len(sp.validation)}, test {len(sp.test)} rows")

    # normalisation and drift statistics from the training window's bars only
    train_bars = ds.bar_x[ds.bar_ts < sp.validation_start]
    mean = train_bars.mean(axis=0)
    std = train_bars.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # a constant feature is passed through centred, not divided by 0
    y_tr = ds.y[sp.train]
    y_mean = float(y_tr.mean()) if hp.target == "return" else 0.0
    y_std = float(y_tr.std()) if hp.target == "return" else 1.0
    if not y_std > 0:
        y_std = 1.0

    torch.manual_seed(hp.seed)
    net = build_net(hp.model, len(hp.features), hp.window, hp.hidden)
    scored = Scored(net, torch.from_numpy(mean), torch.from_numpy(std), hp.window, hp.target, y_mean, y_std)

    try:
        ckpt_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"checkpoint directory {ckpt_dir} cannot be created ({e.strerror}); set QUANT_CHECKPOINT_DIR") from None
    key = config_key(hp, digest)
    t_train = time.monotonic()
    result = train(hp, rt, scored, ds, sp, y_mean, y_std, ckpt_dir, key)
    train_seconds = time.monotonic() - t_train
    if not rt.is_main:
        return
    best = result["best"]
    log(f"best epoch {best['epoch']} of {hp.epochs}; training took {train_seconds:.2f} s")
    # repeated for the kept epoch: a reader taking each metric's last value (a tuning job's
    # objective, the local workflow) gets the model that was written
    metric("train_loss", best["train_loss"])
    metric("val_loss", best["val_loss"])
    metric("val_ic", best["val_ic"])

    # evaluate and export the best epoch's weights, on CPU in float32 (what Node will run)
    scored = scored.cpu()
    scored.net.load_state_dict(best["state"])
    scored.eval()
    y_te = ds.y[sp.test]
    with torch.no_grad():
        score = np.concatenate([
            scored(torch.from_numpy(ds.windows(sp.test[i : i + EVAL_CHUNK]))).numpy().reshape(-1)
            for i in range(0, len(sp.test), EVAL_CHUNK)
        ])
    centre = 0.5 if hp.target == "sign" else 0.0
    test_ic = evaluate.information_coefficient(score, y_te)
    test_hit = evaluate.hit_rate(score, y_te, centre)
    test_sharpe = evaluate.strategy_sharpe(ds.ts[sp.test], score, y_te, centre, hp.horizon)
    metric("test_ic", test_ic)
    metric("test_hit_rate", test_hit)
    metric("test_sharpe", test_sharpe)
    metric("train_seconds", train_seconds)

    model_dir.mkdir(parents=True, exist_ok=True)
    tmp = model_dir / f".partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        n_inputs = hp.window * len(hp.features)
        export.export_onnx(scored, tmp / "model.onnx", n_inputs)
        onnx_version = export.check_onnx(tmp / "model.onnx", n_inputs)
        if onnx_version is None:
            log("note: the onnx package is not installed; onnx.checker skipped (the export does not need it)")

        test_window = _window(ds.ts[sp.test], ds.date_only)
        _write_json(tmp / "evaluation.json", {
            "window": test_window, "rows": int(len(y_te)), "ic": test_ic, "hitRate": test_hit,
            "sharpe": test_sharpe, "periodsPerYear": evaluate.PERIODS_PER_YEAR,
        })
        pick = np.unique(np.linspace(0, len(sp.test) - 1, min(PARITY_ROWS, len(sp.test))).round().astype(int))
        x_par = ds.windows(sp.test[pick])
        with torch.no_grad():
            out = scored(torch.from_numpy(x_par)).numpy()
        _write_json(tmp / "parity.json", {
            "input": export.INPUT_NAME,
            "rows": [[float(v) for v in row] for row in x_par],
            "outputs": [[float(v) for v in row] for row in out],
        })
        manifest = {
            "schemaVersion": 1,
            "modelName": hp.model_name,
            "architecture": hp.model,
            "target": hp.target,
            "horizon": hp.horizon,
            "window": hp.window,
            "features": hp.features,
            "featureSetVersion": hp.feature_set_version,
            "input": {"name": export.INPUT_NAME, "shape": [None, n_inputs]},
            "output": {"name": export.OUTPUT_NAME, "kind": "probability" if hp.target == "sign" else "return"},
            "normalisation": {"mean": [float(v) for v in mean], "std": [float(v) for v in std]},
            "featureStats": feature_stats(train_bars, hp.features),
            "trainingWindow": _window(ds.ts[sp.train], ds.date_only),
            "validationWindow": _window(ds.ts[sp.validation], ds.date_only),
            "testWindow": test_window,
            "embargo": hp.embargo,
            "dataHash": digest,
            "metrics": {
                "train_loss": best["train_loss"], "val_loss": best["val_loss"], "val_ic": best["val_ic"],
                "test_ic": test_ic, "test_hit_rate": test_hit, "test_sharpe": test_sharpe,
            },
            "hyperparameters": hp.to_json(),
            "seed": hp.seed,
            "device": rt.kind,
            "versions": _versions(onnx_version),
            "createdAt": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        }
        _write_json(tmp / "manifest.json", manifest)
        for name in ("model.onnx", "evaluation.json", "parity.json", "manifest.json"):
            os.replace(tmp / name, model_dir / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if output_data_dir:
        Path(output_data_dir).mkdir(parents=True, exist_ok=True)
        _write_json(Path(output_data_dir) / "history.json", result["history"])
    log(f"wrote {model_dir}/model.onnx, manifest.json, evaluation.json, parity.json "
        f"in {time.monotonic() - t_start:.2f} s")


def write_failure(env: dict[str, str], message: str) -> None:
    out = Path(env.get("SM_OUTPUT_DIR") or "/opt/ml/output")
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "failure").write_text(message + "\n")
    except OSError as e:
        print(f"could not write the failure file in {out}: {e.strerror}", file=sys.stderr)
