"""Device choice at run time, and the multi-device (torchrun) set-up.

auto: CUDA if available, else Neuron if torch_neuronx is importable (the pytorch-training-neuronx
container), else CPU. `device=cpu|cuda|neuron` forces one and fails if it is not there.

Multi-device: torchrun sets WORLD_SIZE / RANK / LOCAL_RANK. On Trainium each process drives one
NeuronCore through XLA ('xla' process group; xm.optimizer_step all-reduces the gradients); on
GPUs each process drives one GPU with DistributedDataParallel over NCCL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch

from .errors import InputError


@dataclass
class Runtime:
    kind: str  # cpu | cuda | neuron
    device: Any  # torch.device
    world_size: int = 1
    rank: int = 0
    local_rank: int = 0
    xm: Any = None  # torch_xla.core.xla_model when kind == neuron

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _import_xla() -> Any:
    import torch_xla.core.xla_model as xm  # noqa: PLC0415 (only in the Neuron container)

    return xm


def _neuron_available() -> bool:
    try:
        import torch_neuronx  # noqa: F401, PLC0415

        _import_xla()
        return True
    except Exception:  # noqa: BLE001 (any import failure means: not here)
        return False


def select(requested: str, checkpoint_dir: str) -> Runtime:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))

    if requested in ("auto", "neuron"):
        # The Neuron compiler caches compiled graphs; under the checkpoint path the cache
        # survives spot interruptions and is shared by the job's retries.
        os.environ.setdefault("NEURON_COMPILE_CACHE_URL", os.path.join(checkpoint_dir, "neuron-compile-cache"))

    kind: str
    if requested == "cpu":
        kind = "cpu"
    elif requested == "cuda" or (requested == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise InputError("device=cuda requested but CUDA is not available on this machine")
        kind = "cuda"
    elif requested == "neuron" or (requested == "auto" and _neuron_available()):
        if not _neuron_available():
            raise InputError("device=neuron requested but torch_neuronx / torch_xla are not importable")
        kind = "neuron"
    else:
        kind = "cpu"

    rt = Runtime(kind=kind, device=torch.device("cpu"), world_size=world, rank=rank, local_rank=local_rank)
    if kind == "cuda":
        torch.cuda.set_device(local_rank)
        rt.device = torch.device("cuda", local_rank)
    elif kind == "neuron":
        rt.xm = _import_xla()
        rt.device = rt.xm.xla_device()

    if world > 1:
        import torch.distributed as dist  # noqa: PLC0415

        if kind == "neuron":
            import torch_xla.distributed.xla_backend  # noqa: F401, PLC0415 (registers 'xla')

            dist.init_process_group("xla")
        else:
            dist.init_process_group("nccl" if kind == "cuda" else "gloo")
    return rt


def wrap_for_training(net: torch.nn.Module, rt: Runtime) -> torch.nn.Module:
    """DDP on CUDA/CPU multi-process; on XLA the all-reduce happens in xm.optimizer_step."""
    if rt.world_size > 1 and rt.kind != "neuron":
        from torch.nn.parallel import DistributedDataParallel  # noqa: PLC0415

        ids = [rt.local_rank] if rt.kind == "cuda" else None
        return DistributedDataParallel(net, device_ids=ids)
    return net


def optimizer_step(opt: torch.optim.Optimizer, rt: Runtime) -> None:
    if rt.kind == "neuron":
        rt.xm.optimizer_step(opt)  # all-reduces gradients across replicas, then steps
        rt.xm.mark_step()  # cut the graph: one compiled step per batch shape
    else:
        opt.step()


def barrier(rt: Runtime) -> None:
    if rt.world_size > 1:
        import torch.distributed as dist  # noqa: PLC0415

        dist.barrier()
