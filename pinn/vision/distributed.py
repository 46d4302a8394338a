"""Data-parallel training under ``torchrun``: process group, device choice and collective helpers.

``torchrun --nproc-per-node N pinn classify ...`` starts N copies of the same command with the
environment variables RANK, WORLD_SIZE and LOCAL_RANK set; :func:`setup` joins them into one process group
(gloo on the CPU, nccl on CUDA). Without those variables everything here degrades to a single process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from pinn.choices import Device
from pinn.errors import PinnError


@dataclass(frozen=True)
class Cluster:
    """This process's place among the data-parallel workers and the device it computes on."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that prints progress and writes files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup(device: Device) -> Cluster:
    """Pick the device and, when launched by torchrun with WORLD_SIZE > 1, join the process group."""
    device = Device(device)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device is Device.cuda or (device is Device.auto and torch.cuda.is_available())
    if use_cuda and not torch.cuda.is_available():
        raise PinnError("--device cuda was asked for but no CUDA device is visible; use --device cpu")
    if use_cuda:
        torch.cuda.set_device(local % torch.cuda.device_count())
        dev = torch.device("cuda", local % torch.cuda.device_count())
    else:
        dev = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo", rank=rank, world_size=world)
    return Cluster(rank, world, dev)


def teardown(cluster: Cluster) -> None:
    """Leave the process group (a no-op for a single process)."""
    if cluster.distributed and dist.is_initialized():
        dist.destroy_process_group()


def wait_for_all(cluster: Cluster) -> None:
    """Barrier at the end of a finished run: a rank that tears down its connections while rank 0 still
    writes the run folder can make gloo abort a process."""
    if cluster.distributed and dist.is_initialized():
        dist.barrier()


def all_sum(values: torch.Tensor, cluster: Cluster) -> torch.Tensor:
    """Sum a tensor over all processes (identity for one process)."""
    if cluster.distributed:
        moved = values.to(cluster.device, copy=True)
        dist.all_reduce(moved)
        values = moved.to(values.device)
    return values


def gather_rows(rows: torch.Tensor, n_total: int, cluster: Cluster) -> torch.Tensor:
    """Reassemble the rows of a strided split: rank r holds rows r, r + W, r + 2W, ... of ``n_total``.

    rows: (ceil-or-floor(n_total / W), ...) on this rank; returns (n_total, ...) on every rank.
    """
    if not cluster.distributed:
        return rows
    width = -(-n_total // cluster.world_size)
    padded = rows.new_zeros((width, *rows.shape[1:]))
    padded[: rows.shape[0]] = rows
    parts = [torch.empty_like(padded) for _ in range(cluster.world_size)]
    dist.all_gather(parts, padded)
    out = rows.new_empty((n_total, *rows.shape[1:]))
    for r, part in enumerate(parts):
        count = len(range(r, n_total, cluster.world_size))
        out[r::cluster.world_size] = part[:count]
    return out

