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

from .errors import WorkbenchError

DEMO_BUDGETS = (10, 20, 50, 100)
DEMO_SEEDS = {10: 5, 20: 5, "default": 2}
DEMO_RECIPES = ("scratch", "probe", "discriminative")


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
    p.add_argument("--backend", choices=("loky", "dask"), default="loky",
                   help="loky: worker processes on this machine (default); dask: a dask.distributed cluster (--scheduler)")
    p.add_argument("--scheduler", default=None, help="the dask scheduler's address, e.g. tcp://HOST:8786 (with --backend dask)")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default=None, help="cpu, cuda or mps (default: WORKBENCH_DEVICE or the best available)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


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
    pv.add_argument("--seed", type=_seed, default=0)
    pv.add_argument("--out", default=None, help="also save the checkpoint to this folder")
    pv.add_argument("--rebuild", action="store_true", help="train again even if a cached model exists")
    _common(pv)

    pt = pre_sub.add_parser("text", help="the tiny transformer on Shakespeare's training plays")
    pt.add_argument("--objective", choices=("clm", "mlm"), default="clm", help="clm: next token (GPT); mlm: masked tokens (BERT)")
    pt.add_argument("--tokenizer", choices=("char", "bpe"), default="bpe", help="characters or byte-level BPE (vocab 2048)")
    budget = pt.add_mutually_exclusive_group()
    budget.add_argument("--budget-seconds", type=float, default=None, help="train for about this many seconds (sets the steps)")
    budget.add_argument("--steps", type=_positive_int, default=None, help="optimizer steps (default 1600 bpe, 2000 char)")
    pt.add_argument("--seed", type=int, default=0)
    pt.add_argument("--out", default=None, help="also save model, tokenizer and history to this folder")
    pt.add_argument("--rebuild", action="store_true", help="train again even if a cached model exists")
    _common(pt)

    cmp_ = sub.add_parser("compare", help="compare recipes across labeled budgets and seeds")
    cmp_sub = cmp_.add_subparsers(dest="domain", required=True, metavar="DOMAIN")
    cv = cmp_sub.add_parser("vision", help="fine-tune the CNN on real handwritten digits")
    cv.add_argument("--budgets", type=_int_list, default=[10, 20, 50, 100, 500], help="labeled examples in total, e.g. 10,20,50")
    cv.add_argument("--seeds", type=_seeds, default=5, help="seed count, or per budget: 10=10,20=10,default=3")
    cv.add_argument("--recipes", type=_name_list, default=["scratch", "probe", "finetune", "discriminative"])
    cv.add_argument("--target", default="mnist5k", help="mnist5k (default), sklearn-digits, an online dataset, or folder:PATH")
    cv.add_argument("--pretrained", default=None, help="checkpoint folder to fine-tune from (default: the cached model)")
    cv.add_argument("--steps", type=_positive_int, default=None, help="override every recipe's step count (quick runs)")
    cv.add_argument("--out", default="runs/compare-vision")
    _jobs_option(cv)
    _cluster_options(cv)
    _common(cv)

    ct = cmp_sub.add_parser("text", help="fine-tune the tiny transformer (or MiniLM) on a Shakespeare task")
    ct.add_argument("--task", choices=("genre", "shuffled"), default="genre", help="genre (macro-F1) or real vs shuffled (accuracy)")
    ct.add_argument("--budgets", type=_int_list, default=[30, 100, 300, 1000], help="labeled passages in total, e.g. 30,100,300")
    ct.add_argument("--seeds", type=_seeds, default=3, help="seed count, or per budget: 30=5,default=3")
    ct.add_argument("--recipes", type=_name_list, default=None,
                    help="recipes and baselines (tfidf, bow, zeroshot); default genre: scratch,probe,finetune,tfidf")
    ct.add_argument("--backbone", choices=("tiny", "minilm"), default="tiny", help="the tiny GPT or the optional MiniLM")
    ct.add_argument("--pretrained", default=None, help="checkpoint folder of a pretrained tiny LM (default: the cached one)")
    ct.add_argument("--steps", type=_positive_int, default=None, help="override every recipe's step count (quick runs)")
    ct.add_argument("--out", default="runs/compare-text")
    _jobs_option(ct)
    _cluster_options(ct)
    _common(ct)

    sub.add_parser("recipes", help="list the shipped recipes and their settings")

    lab = sub.add_parser("lab", help="the pitfalls lab: forgetting, overfitting, augmentation, LR sensitivity, cost")
    lab_sub = lab.add_subparsers(dest="domain", required=True, metavar="EXPERIMENT")
    lab_help = {"forgetting": "glyph accuracy lost by fine-tuning, BN-statistics vs weight drift, what limits it (--text: tiny GPT)",
                "overfitting": "train/test curves at tiny N; early stopping on a carved validation split vs fixed steps",
                "augmentation": "none vs light augmentation for fine-tuning and scratch at small N",
                "sensitivity": "LR x recipe grid over seeds (heatmap) and the LR range test",
                "cost": "seconds and FLOPs of pretraining vs fine-tuning vs scratch, and the break-even task count"}
    for name, text in lab_help.items():
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


def _print_table(results, out_paths) -> None:
    from .experiments.compare import markdown_table

    print(markdown_table(results))
    print("\nwrote " + ", ".join(str(p) for p in out_paths.values()))


def _interrupted(pre, steps: int) -> bool:
    """True (after saying how to resume) when pretraining stopped before ``steps``."""
    done = pre.metrics.get("steps", steps)
    if done < steps:
        print(f"workbench: pretraining interrupted at step {done} of {steps}; run the same command again to resume it", file=sys.stderr)
    return done < steps


def cmd_demo(args) -> int:
    from .experiments.compare import compare
    from .experiments.pretrain import PRETRAIN_VISION, pretrained_cnn
    from .experiments.report import write_comparison, writable_dir
    from .experiments.tasks import VisionTask

    writable_dir(args.out)
    start = time.perf_counter()
    print("1/2 pretraining the CNN on printed glyphs (or reusing the cached model) ...", flush=True)
    pre = pretrained_cnn(device=args.device, progress=not args.quiet)
    if _interrupted(pre, PRETRAIN_VISION.steps):
        return 130
    m = pre.metrics
    print(f"    held-out fonts accuracy {m.get('val_accuracy', float('nan')):.3f}, "
          f"zero-shot on real digits {m.get('zero_shot_digits', float('nan')):.3f}  [{pre.path}]")
    print(f"2/2 fine-tuning vs scratch on real handwritten digits: recipes {', '.join(DEMO_RECIPES)}, budgets "
          f"{', '.join(map(str, DEMO_BUDGETS))}, 5 paired seeds at N<=20 and 2 above ...", flush=True)
    task = VisionTask("mnist5k", pretrained=pre.model, device=args.device)
    results = compare(task, DEMO_RECIPES, DEMO_BUDGETS, DEMO_SEEDS, progress=not args.quiet, jobs=args.jobs,
                      backend=args.backend, scheduler=args.scheduler)
    paths = write_comparison(results, args.out, "workbench demo: pretrained vs scratch on real handwritten digits")
    print()
    _print_table(results, paths)
    print(f"\ndemo finished in {time.perf_counter() - start:.0f} s")
    return 0


def cmd_pretrain_vision(args) -> int:
    from .experiments.pretrain import PRETRAIN_VISION, pretrained_cnn
    from .train.checkpoints import save_checkpoint

    steps = args.steps or PRETRAIN_VISION.steps
    if args.out:  # fail before training, not after
        from .experiments.report import writable_dir

        writable_dir(os.path.dirname(os.path.abspath(args.out)))
    pre = pretrained_cnn(classes=args.classes, steps=steps, seed=args.seed, device=args.device, progress=not args.quiet, rebuild=args.rebuild)
    if _interrupted(pre, steps):
        return 130
    print(f"pretrained CNN ({args.classes} classes, {steps} steps): " + ", ".join(f"{k}={v:.3f}" for k, v in pre.metrics.items() if isinstance(v, float)))
    print(f"cached at {pre.path}")
    from .train.distributed import is_main_process

    if args.out and is_main_process():  # under torchrun, rank 0 writes; every rank holds the same weights
        save_checkpoint(args.out, pre.model, recipe=PRETRAIN_VISION.replace(steps=steps, seed=args.seed), metrics=pre.metrics, history=pre.history)
        print(f"saved to {args.out}")
    return 0


def cmd_compare_vision(args) -> int:
    from .experiments.compare import compare
    from .experiments.pretrain import resolve_pretrained
    from .experiments.report import write_comparison, writable_dir
    from .experiments.tasks import VisionTask
    from .train.recipe import get_recipe

    writable_dir(args.out)
    changes = {"steps": args.steps} if args.steps else {}
    recipes = [get_recipe(r, "vision", **changes) for r in args.recipes]  # validate names before any training
    task = VisionTask(args.target, device=args.device)
    for b in args.budgets:  # validate budgets against the pool before any training
        from .data.subsets import balanced_subset

        balanced_subset(task.pool_labels, b, 0)
    if any(r.init == "pretrained" for r in recipes):
        task.pretrained = resolve_pretrained(args.pretrained, device=args.device, progress=not args.quiet)
        if task.pretrained.config.in_channels != task.data.pool.images.shape[1]:
            raise WorkbenchError("the pretrained model and the target have different channel counts; use a grey-scale target")
    results = compare(task, recipes, args.budgets, args.seeds, progress=not args.quiet, jobs=args.jobs, backend=args.backend,
                      scheduler=args.scheduler)
    paths = write_comparison(results, args.out, f"compare vision on {task.name}")
    _print_table(results, paths)
    return 0


def cmd_pretrain_text(args) -> int:
    from .experiments.text_cli import pretrain_text_command

    pretrain_text_command(objective=args.objective, tokenizer=args.tokenizer, budget_seconds=args.budget_seconds, steps=args.steps,
                          out=args.out, seed=args.seed, device=args.device, quiet=args.quiet, rebuild=args.rebuild)
    return 0


def cmd_compare_text(args) -> int:
    from .experiments.text_cli import compare_text_command

    compare_text_command(task=args.task, budgets=args.budgets, seeds=args.seeds, recipes=args.recipes, out=args.out,
                         pretrained=args.pretrained, backbone=args.backbone, steps=args.steps, device=args.device, quiet=args.quiet,
                         jobs=args.jobs, backend=args.backend, scheduler=args.scheduler)
    return 0


def cmd_recipes(args) -> int:
    from .train.recipe import RECIPE_BOOKS

    for domain, book in RECIPE_BOOKS.items():
        print(f"[{domain}]")
        for name, recipe in book.items():
            print(f"  {name:15s} {recipe.describe()}")
    return 0


def cmd_app(args) -> int:
    from .widgets.app import serve_app

    return serve_app(args.notebook, port=args.port, ip=args.ip, open_browser=args.open) or 0


def cmd_lab(args) -> int:
    from .experiments.lab_cli import DEFAULT_LRS, lab_command

    lab_command(args.domain, out=args.out, seeds=args.seeds, budget=args.budget, steps=args.steps,
                lrs=getattr(args, "lrs", None) or DEFAULT_LRS, batch_sizes=getattr(args, "batch_sizes", None),
                text=getattr(args, "text", False), device=args.device, quiet=args.quiet, jobs=args.jobs)
    return 0


COMMANDS = {
    ("app", None): cmd_app,
    ("demo", None): cmd_demo,
    ("pretrain", "vision"): cmd_pretrain_vision,
    ("compare", "vision"): cmd_compare_vision,
    ("pretrain", "text"): cmd_pretrain_text,
    ("compare", "text"): cmd_compare_text,
    ("recipes", None): cmd_recipes,
    **{("lab", name): cmd_lab for name in ("forgetting", "overfitting", "augmentation", "sensitivity", "cost")},
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = COMMANDS[(args.command, getattr(args, "domain", None))]
    try:
        from .train.distributed import init_distributed

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
