"""Multi-process training (torchrun / DistributedDataParallel) with a no-op single-process default.

``torchrun --nproc_per_node 4 -m s2am3d_core.train.cli decoder ...`` sets RANK / WORLD_SIZE /
LOCAL_RANK / MASTER_ADDR / MASTER_PORT; we init NCCL on CUDA, gloo on CPU. Every rank draws its
own batches (per-rank seeds); DDP averages gradients so all ranks keep identical weights; only
rank 0 logs and saves.
"""
from __future__ import annotations

import os

import torch
import torch.distributed as tdist


def world() -> tuple[int, int, int]:
    """(rank, world_size, local_rank) from the environment (0, 1, 0 when not launched by torchrun)."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0))


def setup(device: torch.device) -> tuple[int, int, torch.device]:
    """Init the process group when WORLD_SIZE > 1; returns (rank, world_size, device of this rank)."""
    rank, size, local = world()
    if size > 1 and not tdist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(local)
            device = torch.device("cuda", local)
        tdist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=size)
    return rank, size, device


def wrap(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """DDP-wrap the trained module when distributed, else return it unchanged."""
    if not (tdist.is_available() and tdist.is_initialized() and tdist.get_world_size() > 1):
        return module
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(module, device_ids=ids)


def barrier() -> None:
    if tdist.is_available() and tdist.is_initialized():
        tdist.barrier()


def cleanup() -> None:
    if tdist.is_available() and tdist.is_initialized():
        tdist.destroy_process_group()
