"""Speed and memory benchmarks: each prints `<name> ratio=<x.xx> (<what was compared>)`.

Every ratio compares against a baseline measured in the same process, interleaved round by round,
because these machines are noisy: absolute times mean little, ratios travel. Details go to a JSON
file (default benchmarks/results/latest.json). Not part of the test suite.

    python benchmarks/run.py            # all benchmarks
    python benchmarks/run.py --quick    # under 3 minutes on 2 cores
    python benchmarks/run.py --only fit_vs_plain_loop,data_vs_training
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.data.batches import glyph_batches  # noqa: E402
from workbench.data.glyphs import glyph_bank  # noqa: E402
from workbench.models.cnn import CNNConfig, SmallCNN  # noqa: E402
from workbench.train.loop import fit  # noqa: E402
from workbench.train.recipe import Recipe  # noqa: E402


def _batches(n: int, batch: int = 128):
    gen = torch.Generator().manual_seed(0)
    it = glyph_batches(glyph_bank(62), batch, gen)
    return [next(it) for _ in range(n)]


def _cycle(items):
    while True:
        yield from items


def bench_fit_vs_plain_loop(quick: bool) -> dict:
    """images/s of workbench.fit against a minimal hand-written loop: same model, data, batch, optimizer."""
    steps, rounds = (40, 3) if quick else (100, 5)
    data = _batches(20)
    recipe = Recipe(name="bench", init="scratch", lr=3e-3, schedule="onecycle", steps=steps, batch_size=128, label_smoothing=0.1)

    def plain() -> float:
        torch.manual_seed(0)
        model = SmallCNN(CNNConfig(num_classes=62))
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4, fused=True)
        model.train()
        it = _cycle(data)
        start = time.perf_counter()
        for _ in range(steps):
            x, y = next(it)
            loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return steps * 128 / (time.perf_counter() - start)

    def workbench_fit() -> float:
        torch.manual_seed(0)
        model = SmallCNN(CNNConfig(num_classes=62))
        start = time.perf_counter()
        fit(model, recipe, _cycle(data), device="cpu", progress=False)
        return steps * 128 / (time.perf_counter() - start)

    plain(), workbench_fit()  # warm-up
    a, b = [], []
    for _ in range(rounds):
        a.append(plain())
        b.append(workbench_fit())
    ratio = statistics.median(b) / statistics.median(a)
    return {"ratio": ratio, "what": "workbench fit images/s / plain PyTorch loop images/s, small CNN, batch 128, CPU",
            "fit_images_per_s": statistics.median(b), "plain_images_per_s": statistics.median(a), "goal": ">= 1.00"}


def bench_data_vs_training(quick: bool) -> dict:
    """Batches/s the glyph pipeline produces over the rate training consumes them (1 = data-bound)."""
    n = 20 if quick else 60
    gen = torch.Generator().manual_seed(0)
    it = glyph_batches(glyph_bank(62), 128, gen)
    next(it)
    start = time.perf_counter()
    for _ in range(n):
        next(it)
    produce = n / (time.perf_counter() - start)
    data = _batches(10)
    recipe = Recipe(name="bench", init="scratch", steps=n, batch_size=128)
    model = SmallCNN(CNNConfig(num_classes=62))
    start = time.perf_counter()
    fit(model, recipe, _cycle(data), device="cpu", progress=False)
    consume = n / (time.perf_counter() - start)
    return {"ratio": produce / consume, "what": "glyph batches/s produced / batches/s the CNN trains on (batch 128)",
            "produced_per_s": produce, "consumed_per_s": consume, "goal": ">= 3"}


class MinimalGPT(torch.nn.Module):
    """The baseline: a plain nn.Module GPT with scaled_dot_product_attention, nothing else."""

    def __init__(self, vocab: int, n_layer: int, n_head: int, n_embd: int, block: int):
        super().__init__()
        nn = torch.nn
        self.n_head = n_head
        self.tok, self.pos = nn.Embedding(vocab, n_embd), nn.Embedding(block, n_embd)
        self.blocks = nn.ModuleList(
            nn.ModuleDict({"ln1": nn.LayerNorm(n_embd), "qkv": nn.Linear(n_embd, 3 * n_embd), "proj": nn.Linear(n_embd, n_embd),
                           "ln2": nn.LayerNorm(n_embd), "mlp": nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd))})
            for _ in range(n_layer))
        self.ln_f, self.head = nn.LayerNorm(n_embd), nn.Linear(n_embd, vocab, bias=False)

    def forward(self, ids):
        B, T = ids.shape
        x = self.tok(ids) + self.pos(torch.arange(T))
        for b in self.blocks:
            q, k, v = b["qkv"](b["ln1"](x)).split(x.shape[-1], dim=2)
            q, k, v = (t.view(B, T, self.n_head, -1).transpose(1, 2) for t in (q, k, v))
            x = x + b["proj"](F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, -1))
            x = x + b["mlp"](b["ln2"](x))
        return self.head(self.ln_f(x))


def bench_gpt_vs_minimal_gpt(quick: bool) -> dict:
    """Training tokens/s of the workbench's TinyLM against a minimal GPT of the same size and optimizer."""
    from workbench.models.text import TinyConfig, TinyLM

    vocab, layers, heads, dim, block, batch = 2048, 4, 4, 128, 128, 16
    steps, rounds = (8, 4) if quick else (20, 8)
    g = torch.Generator().manual_seed(0)
    data = [torch.randint(0, vocab, (batch, block + 1), generator=g) for _ in range(4)]

    def timed(model) -> float:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=True)
        model.train()
        start = time.perf_counter()
        for i in range(steps):
            ids = data[i % len(data)]
            loss = F.cross_entropy(model(ids[:, :-1]).reshape(-1, vocab), ids[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return steps * batch * block / (time.perf_counter() - start)

    torch.manual_seed(0)
    ours = TinyLM(TinyConfig(vocab_size=vocab, n_layer=layers, n_head=heads, n_embd=dim, block_size=block))
    base = MinimalGPT(vocab, layers, heads, dim, block)
    n_ours, n_base = (sum(p.numel() for p in m.parameters()) for m in (ours, base))
    timed(ours), timed(base)  # warm-up
    a, b = [], []
    for r in range(rounds):  # ABBA order: a machine that speeds up or slows down during the run favours neither
        if r % 2:
            b.append(timed(ours))
            a.append(timed(base))
        else:
            a.append(timed(base))
            b.append(timed(ours))
    paired = [y / x for x, y in zip(a, b)]  # each round's two runs are back to back: their ratio cancels slow drift
    return {"ratio": statistics.median(paired), "round_ratios": paired,
            "what": f"workbench TinyLM tokens/s / minimal hand-written GPT tokens/s, {layers}x{dim}, context {block}, batch {batch} (median of paired rounds)",
            "ours_tokens_per_s": statistics.median(b), "minimal_tokens_per_s": statistics.median(a),
            "parameters": {"ours": n_ours, "minimal": n_base}, "goal": ">= 1.00"}


def bench_demo(quick: bool) -> dict:
    """Wall seconds and peak resident memory of `workbench demo` in a fresh process (cached model reused)."""
    out = ROOT / "benchmarks" / "results" / "demo"
    cmd = [sys.executable, "-m", "workbench", "demo", "--quiet", "--out", str(out)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])
    return {"ratio": seconds / 300.0, "what": "workbench demo wall seconds / the 300 s goal (<= 1.00 meets it)",
            "seconds": seconds, "peak_rss_mb": peak_mb, "peak_rss_ratio_to_2GB": peak_mb / 2048}


DDP_SCRIPT = """
import json, sys, time, torch
from workbench.data.batches import glyph_batches
from workbench.data.glyphs import glyph_bank
from workbench.models.cnn import CNNConfig, SmallCNN
from workbench.train.distributed import init_distributed
from workbench.train.loop import fit
from workbench.train.recipe import Recipe

rank, world = init_distributed()
steps, batch = int(sys.argv[2]), int(sys.argv[3])
gen = torch.Generator().manual_seed(0)
it = glyph_batches(glyph_bank(62), batch, gen)
data = [next(it) for _ in range(8)]  # pre-made global batches: the benchmark times training, not augmentation
def cycle():
    while True:
        yield from data
torch.manual_seed(0)
recipe = Recipe(name="ddp-bench", init="scratch", steps=steps, batch_size=batch)
fit(SmallCNN(CNNConfig(num_classes=62)), recipe, cycle(), device="cpu", progress=False, log_every=5)  # warm-up
torch.manual_seed(0)
result = fit(SmallCNN(CNNConfig(num_classes=62)), recipe, cycle(), device="cpu", progress=False)
if rank == 0:
    json.dump({"images_per_s": steps * batch / result.seconds, "world": world}, open(sys.argv[1], "w"))
"""


def bench_ddp_scaling(quick: bool) -> dict:
    """Training images/s of the CNN under torchrun with 2 CPU processes (gloo) over 1 process, same global batch."""
    import tempfile

    steps, batch = (20, 128) if quick else (60, 128)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "ddp_bench.py"
        script.write_text(DDP_SCRIPT)
        rates = {}
        runs = {"1 process, 1 thread": (1, "1"), "2 processes, 1 thread each": (2, "1"), "1 process, 2 threads": (1, "2")}
        for label, (n, threads) in runs.items():
            out = Path(tmp) / "rate.json"
            cmd = ([sys.executable, str(script)] if n == 1 else
                   [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(n), "--master_port", "29611", str(script)])
            env = {**os.environ, "WORKBENCH_THREADS": threads, "OMP_NUM_THREADS": threads}
            proc = subprocess.run(cmd + [str(out), str(steps), str(batch)], capture_output=True, text=True, cwd=ROOT, env=env)
            if proc.returncode:
                raise RuntimeError(proc.stderr[-2000:])
            rates[label] = json.loads(out.read_text())["images_per_s"]
    two, one = rates["2 processes, 1 thread each"], rates["1 process, 1 thread"]
    return {"ratio": two / one, "what": f"CNN training images/s, torchrun 2 CPU processes (gloo) / 1 process, 1 thread each, global batch {batch}",
            "images_per_s": rates, "cpus": os.cpu_count(), "ideal": 2.0,
            "vs_one_process_two_threads": two / rates["1 process, 2 threads"]}


def bench_sweep_parallel(quick: bool) -> dict:
    """Runs/s of a small comparison with 2 worker processes over 1 (and with one per core where there are more).

    The ratio is the throughput of a warm pool (the workers already started: a notebook's second comparison,
    or any long one); ``cold`` times a fresh pool, start included, as one short CLI command sees it.
    """
    from joblib import cpu_count

    from workbench.experiments.compare import compare
    from workbench.pretrain.vision import pretrained_cnn
    from workbench.experiments.sweep import shutdown_workers
    from workbench.tasks.vision import VisionTask
    from workbench.train.recipe import get_recipe

    steps, seeds = (60, 2) if quick else (200, 3)
    task = VisionTask("mnist5k", pretrained=pretrained_cnn(steps=80, progress=False).model, device="cpu")
    recipes = [get_recipe(n, steps=steps) for n in ("scratch", "probe", "discriminative")]
    budgets = [10, 20, 50]
    runs = len(recipes) * len(budgets) * seeds

    def rate(jobs: int, cold: bool = False) -> float:
        if cold:
            shutdown_workers()
        start = time.perf_counter()
        compare(task, recipes, budgets, seeds, progress=False, jobs=jobs)
        return runs / (time.perf_counter() - start)

    compare(task, recipes, budgets[:1], 1, progress=False, jobs=1)  # warm-up: torch's first calls, outside the timings
    cold = rate(2, cold=True)
    one, two = rate(1), rate(2)
    cores = cpu_count(only_physical_cores=True)
    many = {cores: rate(cores, cold=True) and rate(cores)} if cores > 2 else {}
    shutdown_workers()
    what = (f"runs/s of a {runs}-run comparison ({steps} steps each), 2 warm worker processes / 1 job; "
            f"a cold pool, start included: {cold / one:.2f}" + (f"; {cores} jobs: {many[cores] / one:.2f}" if many else ""))
    return {"ratio": two / one, "what": what, "runs": runs, "steps": steps, "cold_ratio": cold / one,
            "pool_start_seconds": runs / cold - runs / two,
            "runs_per_s": {"1 job": one, "2 jobs": two, "2 jobs, cold pool": cold, **{f"{k} jobs": v for k, v in many.items()}},
            "physical_cores": cores, "goal": ">= 1.7 on 2 cores"}


BENCHMARKS = {"fit_vs_plain_loop": bench_fit_vs_plain_loop, "gpt_vs_minimal_gpt": bench_gpt_vs_minimal_gpt,
              "data_vs_training": bench_data_vs_training, "ddp_scaling": bench_ddp_scaling, "demo_seconds": bench_demo,
              "sweep_parallel": bench_sweep_parallel}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer steps and rounds; skips the demo")
    p.add_argument("--only", default=None, help="comma-separated benchmark names: " + ", ".join(BENCHMARKS))
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "latest.json"))
    args = p.parse_args(argv)
    names = args.only.split(",") if args.only else [n for n in BENCHMARKS if not (args.quick and n == "demo_seconds")]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        p.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHMARKS)}")
    from workbench.device import configure_cpu_threads

    configure_cpu_threads()  # every benchmark under the thread count the workbench itself trains with
    results = {"machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
                           "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M")}}
    for name in names:
        r = BENCHMARKS[name](args.quick)
        results[name] = r
        print(f"{name} ratio={r['ratio']:.2f} ({r['what']})", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"details: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
