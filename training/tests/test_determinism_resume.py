"""Fixed seeds give the same model twice on CPU; a resumed job equals an uninterrupted one."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import TRAINING


def _artifacts(job):
    m = job.json("manifest.json")
    return (
        (job.model / "model.onnx").read_bytes(),
        job.json("parity.json"),
        job.json("evaluation.json"),
        m["metrics"],
        m["normalisation"],
    )


@pytest.mark.parametrize("model", ["mlp", "seq"])
def test_same_seed_same_model_twice_on_cpu(make_job, model):
    a, b, c = make_job(), make_job(), make_job()
    hp = {"model": model, "window": 6}
    # two separate processes, as two training jobs would be
    assert a.run_child(a.env(**hp)).returncode == 0
    assert b.run_child(b.env(**hp)).returncode == 0
    assert c.run_inproc(c.env(seed=8, **hp)) == 0
    assert _artifacts(a) == _artifacts(b)
    # another seed gives another model: the equality above is not vacuous
    assert a.json("parity.json")["outputs"] != c.json("parity.json")["outputs"]


def test_resume_continues_from_the_newest_checkpoint(make_job, capsys):
    full, interrupted = make_job(), make_job()
    assert full.run_inproc(full.env(epochs=4)) == 0
    # a job that stopped after epoch 2 (its checkpoints stay), then restarts for the full 4
    assert interrupted.run_inproc(interrupted.env(epochs=2)) == 0
    assert sorted(p.name for p in interrupted.checkpoints.iterdir()) == ["ckpt-epoch-00001.pt", "ckpt-epoch-00002.pt"]
    capsys.readouterr()
    assert interrupted.run_inproc(interrupted.env(epochs=4)) == 0
    out = capsys.readouterr().out
    assert "resumed from checkpoint at epoch 2" in out
    assert [ln for ln in out.splitlines() if ln.startswith("metric epoch=")] == ["metric epoch=3", "metric epoch=4"]
    assert _artifacts(full) == _artifacts(interrupted)
    # only the newest two checkpoints are kept
    assert sorted(p.name for p in interrupted.checkpoints.iterdir()) == ["ckpt-epoch-00003.pt", "ckpt-epoch-00004.pt"]


def test_a_torn_newest_checkpoint_falls_back_to_the_previous_one(make_job, capsys):
    job = make_job()
    assert job.run_inproc(job.env(epochs=2)) == 0
    (job.checkpoints / "ckpt-epoch-00002.pt").write_bytes(b"\x00torn write")
    capsys.readouterr()
    assert job.run_inproc(job.env(epochs=3)) == 0
    out = capsys.readouterr().out
    assert "ckpt-epoch-00002.pt unreadable" in out and "resumed from checkpoint at epoch 1" in out


def test_a_checkpoint_of_another_configuration_is_not_resumed(make_job, capsys):
    job = make_job()
    assert job.run_inproc(job.env(epochs=2, hidden=16)) == 0
    capsys.readouterr()
    assert job.run_inproc(job.env(epochs=2, hidden=8)) == 0
    out = capsys.readouterr().out
    assert "resumed" not in out and "another data set or configuration" in out
    assert json.loads((job.model / "manifest.json").read_text())["hyperparameters"]["hidden"] == 8


def test_a_checkpoint_past_the_epochs_asked_for_is_not_resumed(make_job, capsys):
    job, fresh = make_job(), make_job()
    assert job.run_inproc(job.env(epochs=3)) == 0
    capsys.readouterr()
    assert job.run_inproc(job.env(epochs=2)) == 0
    out = capsys.readouterr().out
    # epoch 3 is skipped; the epoch-2 checkpoint is the finished 2-epoch job
    assert "ckpt-epoch-00003.pt is past the 2 epochs asked for" in out
    assert "resumed from checkpoint at epoch 2" in out and "metric epoch=" not in out
    assert fresh.run_inproc(fresh.env(epochs=2)) == 0
    assert _artifacts(job) == _artifacts(fresh)


def test_sigterm_mid_training_keeps_checkpoints_and_the_next_run_resumes(make_job, capsys):
    """What a spot interruption does: SIGTERM, then the job restarts on the same checkpoints."""
    job = make_job()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    env.update(job.env(epochs=100000))
    p = subprocess.Popen([sys.executable, str(TRAINING / "train.py")], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    for line in p.stdout:
        if line.startswith("metric epoch=2"):
            break
    p.terminate()
    _, err = p.communicate(timeout=120)
    assert p.returncode == 143
    assert err.strip().splitlines()[-1] == "error: terminated by SIGTERM (checkpoints kept for a resumed run)"
    assert (job.output / "failure").read_text() == "terminated by SIGTERM\n"
    assert not job.model.exists() or list(job.model.iterdir()) == []
    done = sorted(int(c.stem.rsplit("-", 1)[1]) for c in job.checkpoints.glob("ckpt-epoch-*.pt"))
    assert done and done[-1] >= 1  # epoch 2 may have been cut before its checkpoint
    capsys.readouterr()
    assert job.run_inproc(job.env(epochs=done[-1] + 1)) == 0
    assert f"resumed from checkpoint at epoch {done[-1]}" in capsys.readouterr().out
