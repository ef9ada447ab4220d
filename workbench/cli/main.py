"""The ``workbench`` command: the notebooks' experiments without a notebook.

    workbench demo                       the headline experiment on offline defaults
    workbench pretrain vision            pretrain the CNN on printed glyphs (cached)
    workbench compare vision ...         recipes x budgets x seeds -> results.csv, plots, summary.md
    workbench pretrain text ...          pretrain the tiny GPT (or masked LM) on Shakespeare (cached)
    workbench compare text --task genre|shuffled ...   the same comparison on text tasks
    workbench recipes                    the shipped recipes and their settings
    workbench lab forgetting|overfitting|augmentation|sensitivity|cost   the pitfalls lab (CSV + plots)

User mistakes print one line on stderr and exit with status 2; Ctrl-C exits with 130.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from ..choices import BACKBONES, BACKENDS, LAB_EXPERIMENTS, OBJECTIVES, TEXT_TASKS, TOKENIZERS
from ..errors import WorkbenchError
from ..tasks.baselines import BASELINES
from .text import TEXT_BUDGETS, TEXT_COMPARE_DEFAULTS, TEXT_SEEDS
from .vision import VISION_BUDGETS, VISION_RECIPES, VISION_SEEDS, cmd_compare_vision, cmd_demo, cmd_pretrain_vision

def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas, like 10,20,50; got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive whole numbers separated by commas, like 10,20,50; got {text!r}")
    return values


def _name_list(text: str) -> list[str]:
    names = [v.strip() for v in text.split(",") if v.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected names separated by commas, like scratch,probe")
    return names


def _seeds(text: str):
    """``5`` (seeds 0-4 at every budget) or ``10=10,20=10,default=3`` (seed counts per budget)."""
    try:
        if "=" not in text:
            n = int(text)
            if n < 1:
                raise ValueError
            return n
        out = {}
        for part in text.split(","):
            k, v = part.split("=")
            out[k.strip() if k.strip() == "default" else int(k)] = int(v)
            if int(v) < 1:
                raise ValueError
        return out
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds takes a positive count like 5, or per budget like 10=10,20=10,default=3; got {text!r}") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"--seed takes a whole number >= 0, like 0 or 42; got {text!r}")
    return value


def _float_list(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(not (v > 0) for v in values):
        raise argparse.ArgumentTypeError(f"expected positive learning rates separated by commas, like 1e-3,1e-2; got {text!r}")
    return values


def _described(choices: dict[str, str]) -> str:
    """``name: what it is`` for each choice, for a flag's help."""
    return "; ".join(f"{k}: {v}" for k, v in choices.items())


def _jobs(text: str):
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"--jobs takes a positive whole number or auto, like 2; got {text!r}") from None


def _jobs_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", type=_jobs, default=None,
                   help="worker processes for the independent runs, one torch thread each (default: WORKBENCH_JOBS, "
                        "else the physical cores, less one above two cores; 1 on a GPU)")


def _cluster_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=BACKENDS, default=BACKENDS[0],
                   help="loky: worker processes on this machine (default); dask: a dask.distributed cluster (--scheduler)")
    p.add_argument("--scheduler", default=None, help="the dask scheduler's address, e.g. tcp://HOST:8786 (with --backend dask)")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default=None, help="cpu, cuda or mps (default: WORKBENCH_DEVICE or the best available)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _pretrain_options(p: argparse.ArgumentParser, *, saves: str) -> None:
    """The flags every ``workbench pretrain`` command shares (one checked seed type for all)."""
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--out", default=None, help=f"also save {saves} to this folder")
    p.add_argument("--rebuild", action="store_true", help="train again even if a cached model exists")
    _common(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description="Pretrain, fine-tune, and measure what pretraining buys.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="the headline experiment: pretrain (or reuse), then pretrained vs scratch over budgets")
    demo.add_argument("--out", default="runs/demo", help="folder for results.csv, summary.md and plots (default runs/demo)")
    _jobs_option(demo)
    _cluster_options(demo)
    _common(demo)

    pre = sub.add_parser("pretrain", help="pretrain a model (cached for later commands and notebooks)")
    pre_sub = pre.add_subparsers(dest="domain", required=True, metavar="DOMAIN")
    pv = pre_sub.add_parser("vision", help="the small CNN on printed glyphs")
    pv.add_argument("--classes", type=int, choices=(62, 10), default=62, help="62 characters or the 10 digits")
    pv.add_argument("--steps", type=_positive_int, default=None, help="optimizer steps (default 1000)")
    _pretrain_options(pv, saves="the checkpoint")

    pt = pre_sub.add_parser("text", help="the tiny transformer on Shakespeare's training plays")
    pt.add_argument("--objective", choices=tuple(OBJECTIVES), default="clm", help=_described(OBJECTIVES))
    pt.add_argument("--tokenizer", choices=tuple(TOKENIZERS), default="bpe", help=_described(TOKENIZERS))
    budget = pt.add_mutually_exclusive_group()
    budget.add_argument("--budget-seconds", type=float, default=None, help="train for about this many seconds (sets the steps)")
    budget.add_argument("--steps", type=_positive_int, default=None, help="optimizer steps (default 1600 bpe, 2000 char)")
    _pretrain_options(pt, saves="model, tokenizer and history")

    cmp_ = sub.add_parser("compare", help="compare recipes across labeled budgets and seeds")
    cmp_sub = cmp_.add_subparsers(dest="domain", required=True, metavar="DOMAIN")
    cv = cmp_sub.add_parser("vision", help="fine-tune the CNN on real handwritten digits")
    cv.add_argument("--budgets", type=_int_list, default=list(VISION_BUDGETS), help="labeled images in total, e.g. 10,20,50")
    cv.add_argument("--seeds", type=_seeds, default=VISION_SEEDS, help="seed count, or per budget: 10=10,20=10,default=3")
    cv.add_argument("--recipes", type=_name_list, default=list(VISION_RECIPES), help=f"default {','.join(VISION_RECIPES)}")
    cv.add_argument("--target", default="mnist5k", help="mnist5k (default), sklearn-digits, an online dataset, or folder:PATH")
    cv.add_argument("--pretrained", default=None, help="checkpoint folder to fine-tune from (default: the cached model)")
    cv.add_argument("--steps", type=_positive_int, default=None, help="override every recipe's step count (quick runs)")
    cv.add_argument("--out", default="runs/compare-vision")
    _jobs_option(cv)
    _cluster_options(cv)
    _common(cv)

    ct = cmp_sub.add_parser("text", help="fine-tune the tiny transformer (or MiniLM) on a Shakespeare task")
    ct.add_argument("--task", choices=tuple(TEXT_TASKS), default="genre", help=_described(TEXT_TASKS))
    ct.add_argument("--budgets", type=_int_list, default=list(TEXT_BUDGETS), help="labeled passages in total, e.g. 30,100,300")
    ct.add_argument("--seeds", type=_seeds, default=TEXT_SEEDS, help="seed count, or per budget: 30=5,default=3")
    ct.add_argument("--recipes", type=_name_list, default=None,
                    help=f"recipes and baselines ({', '.join(BASELINES)}); default "
                         + "; ".join(f"{t}: {','.join(r)}" for t, r in TEXT_COMPARE_DEFAULTS.items()))
    ct.add_argument("--backbone", choices=tuple(BACKBONES), default="tiny", help=_described(BACKBONES))
    ct.add_argument("--pretrained", default=None, help="checkpoint folder of a pretrained tiny LM (default: the cached one)")
    ct.add_argument("--steps", type=_positive_int, default=None, help="override every recipe's step count (quick runs)")
    ct.add_argument("--out", default="runs/compare-text")
    _jobs_option(ct)
    _cluster_options(ct)
    _common(ct)

    sub.add_parser("recipes", help="list the shipped recipes and their settings")
    prewarm = sub.add_parser("prewarm", help="before class: build every pretrained model the notebooks use into the cache")
    _common(prewarm)

    lab = sub.add_parser("lab", help="the pitfalls lab: forgetting, overfitting, augmentation, LR sensitivity, cost")
    lab_sub = lab.add_subparsers(dest="domain", required=True, metavar="EXPERIMENT")
    for name, text in LAB_EXPERIMENTS.items():
        lp = lab_sub.add_parser(name, help=text)
        lp.add_argument("--out", default=f"runs/lab-{name}", help=f"folder for the CSV and plots (default runs/lab-{name})")
        lp.add_argument("--seeds", type=_positive_int, default=3, help="paired seeds 0..n-1 (default 3)")
        lp.add_argument("--budget", type=_positive_int, default=None, help="labeled images N (default depends on the experiment)")
        lp.add_argument("--steps", type=_positive_int, default=None, help="optimizer steps per run (default 200)")
        if name == "sensitivity":
            lp.add_argument("--lrs", type=_float_list, default=None, help="learning rates, e.g. 1e-4,1e-3,1e-2,1e-1")
            lp.add_argument("--batch-sizes", type=_int_list, default=None,
                            help="add a batch-size axis to the grid, e.g. 16,64 (default: each recipe's own)")
        if name == "forgetting":
            lp.add_argument("--text", action="store_true",
                            help="the text counterpart: fine-tune the tiny GPT on genre, watch its held-out LM loss")
        _jobs_option(lp)
        _common(lp)

    app = sub.add_parser("app", help="serve the playground notebook as a classroom app (Voila, no code shown)")
    app.add_argument("--port", type=_positive_int, default=8866, help="port (default 8866)")
    app.add_argument("--ip", default="127.0.0.1",
                     help="address to bind (default 127.0.0.1, this machine only); e.g. 0.0.0.0 exposes the app "
                          "and its Python kernel to the network")
    app.add_argument("--notebook", default=None, help="notebook to serve (default notebooks/08_playground.ipynb)")
    app.add_argument("--open", action="store_true", help="open a browser")
    return parser


def cmd_pretrain_text(args) -> int:
    from .text import pretrain_text_command

    pretrain_text_command(objective=args.objective, tokenizer=args.tokenizer, budget_seconds=args.budget_seconds, steps=args.steps,
                          out=args.out, seed=args.seed, device=args.device, quiet=args.quiet, rebuild=args.rebuild)
    return 0


def cmd_compare_text(args) -> int:
    from .text import compare_text_command

    compare_text_command(task=args.task, budgets=args.budgets, seeds=args.seeds, recipes=args.recipes, out=args.out,
                         pretrained=args.pretrained, backbone=args.backbone, steps=args.steps, device=args.device, quiet=args.quiet,
                         jobs=args.jobs, backend=args.backend, scheduler=args.scheduler)
    return 0


def cmd_recipes(args) -> int:
    from ..tasks.baselines import BASELINES
    from ..train.recipe import RECIPE_BOOKS

    for domain, book in RECIPE_BOOKS.items():
        print(f"[{domain}]")
        for name, recipe in book.items():
            print(f"  {name:15s} {recipe.describe()}")
    print("[baselines (no training)]")
    for name, baseline in BASELINES.items():
        print(f"  {name:15s} {baseline.description}")
    return 0


def cmd_prewarm(args) -> int:
    from ..course.prewarm import prewarm

    prewarm(progress=not args.quiet)
    return 0


def cmd_app(args) -> int:
    from ..widgets.app import serve_app

    return serve_app(args.notebook, port=args.port, ip=args.ip, open_browser=args.open) or 0


def cmd_lab(args) -> int:
    from .lab import DEFAULT_LRS, lab_command

    lab_command(args.domain, out=args.out, seeds=args.seeds, budget=args.budget, steps=args.steps,
                lrs=getattr(args, "lrs", None) or DEFAULT_LRS, batch_sizes=getattr(args, "batch_sizes", None),
                text=getattr(args, "text", False), device=args.device, quiet=args.quiet)
    return 0


COMMANDS = {
    ("app", None): cmd_app,
    ("demo", None): cmd_demo,
    ("pretrain", "vision"): cmd_pretrain_vision,
    ("compare", "vision"): cmd_compare_vision,
    ("pretrain", "text"): cmd_pretrain_text,
    ("compare", "text"): cmd_compare_text,
    ("recipes", None): cmd_recipes,
    ("prewarm", None): cmd_prewarm,
    **{("lab", name): cmd_lab for name in LAB_EXPERIMENTS},
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = COMMANDS[(args.command, getattr(args, "domain", None))]
    try:
        from ..train.distributed import init_distributed

        rank, _ = init_distributed()  # under torchrun: join the group; only rank 0 prints and writes
        if rank != 0:
            sys.stdout = open(os.devnull, "w")
        return handler(args)
    except WorkbenchError as err:
        print(f"workbench: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
