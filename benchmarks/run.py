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


BENCHMARKS = {"fit_vs_plain_loop": bench_fit_vs_plain_loop, "data_vs_training": bench_data_vs_training, "demo_seconds": bench_demo}


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
