"""The multi-process path as torchrun starts it (WORLD_SIZE / RANK / LOCAL_RANK / MASTER_*), on
CPU with the gloo backend and DistributedDataParallel. The processes are started by hand: Debian's
torchrun 1.13 crashes on Python 3.11 before starting workers. The Neuron (XLA) variant of this
path cannot run here."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from conftest import TRAINING


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_train_one_model_and_only_rank_0_writes(job):
    base = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    base.update(job.env(model="seq", window=4, epochs=2, device="cpu"))
    base.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()), WORLD_SIZE="2")
    procs = [
        subprocess.Popen([sys.executable, str(TRAINING / "train.py")], env={**base, "RANK": str(r), "LOCAL_RANK": str(r)},
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for r in (0, 1)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert "world size 2, rank 0" in outs[0][0] and "world size 2, rank 1" in outs[1][0]
    assert "metric test_ic=" in outs[0][0] and "metric" not in outs[1][0]
    assert sorted(p.name for p in job.model.iterdir()) == ["evaluation.json", "manifest.json", "model.onnx", "parity.json"]
    assert sorted(p.name for p in job.checkpoints.iterdir()) == ["ckpt-epoch-00001.pt", "ckpt-epoch-00002.pt"]
