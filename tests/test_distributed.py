"""DDP on CPU (gloo) with 2 real processes under torchrun: same weights on every rank, and the same
weights as one process trained on the global batch (the documented semantics)."""
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file

SCRIPT = textwrap.dedent('''
    import sys, torch
    from torch import nn
    from safetensors.torch import save_file
    from workbench.train.distributed import init_distributed
    from workbench.train.loop import fit
    from workbench.train.recipe import Recipe

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU())
            self.head = nn.Linear(32, 4)
        def forward(self, x):
            return self.head(self.body(x))
        def layer_groups(self):
            return {"body": self.body, "head": self.head}

    def batches():
        g = torch.Generator().manual_seed(0)
        while True:
            x = torch.randn(16, 8, 8, generator=g)
            yield x, (x.sum((1, 2)) > 0).long() + 2 * (x[:, 0, 0] > 0).long()

    rank, world = init_distributed()
    torch.manual_seed(0)
    model = MLP()
    recipe = Recipe(name="ddp", init="scratch", lr=1e-2, steps=int(sys.argv[2]), schedule="onecycle", label_smoothing=0.0,
                    backbone_lr=3e-3, weight_decay=1e-2)
    fit(model, recipe, batches(), device="cpu", progress=False)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, f"{sys.argv[1]}/rank{rank}-of{world}.safetensors")
''')


@pytest.mark.slow
def test_two_processes_match_each_other_and_one_process_with_the_global_batch(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    steps = "30"
    one = subprocess.run([sys.executable, str(script), str(tmp_path), steps], capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
                          str(script), str(tmp_path), steps], capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    single = load_file(str(tmp_path / "rank0-of1.safetensors"))
    r0 = load_file(str(tmp_path / "rank0-of2.safetensors"))
    r1 = load_file(str(tmp_path / "rank1-of2.safetensors"))
    for k in single:
        assert torch.equal(r0[k], r1[k]), k  # DDP keeps ranks identical
        assert torch.allclose(r0[k], single[k], atol=1e-5, rtol=1e-4), k  # = one process, global batch
        assert not torch.equal(single[k], torch.zeros_like(single[k]))


@pytest.mark.slow
def test_torchrun_pretrain_cli_writes_one_checkpoint(tmp_path):
    env_cache = tmp_path / "cache"
    res = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29519",
                          "-m", "workbench", "pretrain", "vision", "--steps", "6", "--quiet", "--out", str(tmp_path / "ck")],
                         capture_output=True, text=True, timeout=600, env={**__import__("os").environ, "WORKBENCH_CACHE": str(env_cache)})
    assert res.returncode == 0, res.stderr[-3000:]
    from workbench.train.checkpoints import load_checkpoint

    model, meta = load_checkpoint(tmp_path / "ck")
    assert meta["recipe"]["steps"] == 6
    assert res.stdout.count("saved to") == 1  # rank 0 only


RESUME_SCRIPT = textwrap.dedent('''
    import json, sys, threading, torch
    from safetensors.torch import save_file
    from workbench.data.batches import image_batches
    from workbench.models.cnn import CNNConfig, SmallCNN
    from workbench.train.distributed import init_distributed
    from workbench.train.loop import cross_entropy_loss, fit
    from workbench.train.recipe import Recipe
    from workbench.train.resume import Checkpointing

    out, mode = sys.argv[1], sys.argv[2]
    rank, world = init_distributed()
    g = torch.Generator().manual_seed(1)
    images = torch.randn(48, 1, 28, 28, generator=g)
    labels = (images.sum((1, 2, 3)) > 0).long() + 2 * (images[:, 0, 0, 0] > 0).long()
    torch.manual_seed(0)
    model = SmallCNN(CNNConfig(widths=(4, 8, 8, 16), num_classes=4))  # a real model: checkpoints need its config
    batches = image_batches(images, labels, 16, torch.Generator().manual_seed(2))  # resumable: epochs of 3 batches
    recipe = Recipe(name="ddp", init="scratch", lr=1e-2, steps=30, schedule="onecycle", label_smoothing=0.0,
                    backbone_lr=3e-3, weight_decay=1e-2, augment="none")
    stop = threading.Event()
    base_loss = cross_entropy_loss()
    calls = {"n": 0}
    def loss_fn(m, batch):  # only rank 0 is asked to stop, in the middle of step 13
        calls["n"] += 1
        if mode == "part" and rank == 0 and calls["n"] == 13:
            stop.set()
        return base_loss(m, batch)
    callbacks = [Checkpointing(f"{out}/ck", every=100)] if mode == "part" else []
    result = fit(model, recipe, batches, loss_fn=loss_fn, callbacks=callbacks, stop_event=stop, progress=False, device="cpu",
                 resume_from=f"{out}/ck" if mode == "resume" else None)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, f"{out}/{mode}-rank{rank}.safetensors")
    with open(f"{out}/{mode}-rank{rank}.json", "w") as f:
        json.dump({"steps": result.steps_done, "stop_reason": result.stop_reason}, f)
''')


@pytest.mark.slow
def test_a_stop_on_one_rank_stops_all_and_the_run_resumes_bitwise_under_torchrun(tmp_path):
    """Rank 0 alone is stopped mid-run: both ranks stop at the same step (no hang), rank 0's resumable checkpoint
    resumes both ranks, and the resumed run ends bitwise equal to an uninterrupted 2-process run."""
    import json

    script = tmp_path / "train.py"
    script.write_text(RESUME_SCRIPT)
    for port, mode in ((29521, "full"), (29523, "part"), (29525, "resume")):
        res = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(port),
                              str(script), str(tmp_path), mode], capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, (mode, res.stderr[-3000:])
    part = [json.loads((tmp_path / f"part-rank{r}.json").read_text()) for r in (0, 1)]
    assert [p["steps"] for p in part] == [20, 20]  # the stop asked for at step 13 lands at the next log step, on both ranks
    assert part[0]["stop_reason"] == "stopped" and part[1]["stop_reason"] == "stopped on another process"
    for r in (0, 1):  # BatchNorm statistics are per process (documented), so rank r is compared with rank r
        full = load_file(str(tmp_path / f"full-rank{r}.safetensors"))
        assert json.loads((tmp_path / f"resume-rank{r}.json").read_text()) == {"steps": 30, "stop_reason": None}
        resumed = load_file(str(tmp_path / f"resume-rank{r}.safetensors"))
        for k in full:
            assert torch.equal(resumed[k], full[k]), (r, k)
    stopped = load_file(str(tmp_path / "part-rank1.safetensors"))
    assert any(not torch.equal(stopped[k], full[k]) for k in full)  # the resumed 10 steps did real work
