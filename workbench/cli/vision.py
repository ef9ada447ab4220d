"""The vision commands: ``workbench demo``, ``workbench pretrain vision`` and ``workbench compare vision``."""
from __future__ import annotations

import os
import sys
import time

DEMO_BUDGETS = (10, 20, 50, 100)
DEMO_SEEDS = {10: 5, 20: 5, "default": 2}
DEMO_RECIPES = ("scratch", "probe", "discriminative")
# The defaults of ``workbench compare vision`` (the parser reads them from here)
VISION_BUDGETS = (10, 20, 50, 100, 500)
VISION_SEEDS = 5
VISION_RECIPES = ("scratch", "probe", "finetune", "discriminative")


def _print_table(results, out_paths) -> None:
    from ..experiments.compare import markdown_table

    print(markdown_table(results))
    print("\nwrote " + ", ".join(str(p) for p in out_paths.values()))


def _interrupted(pre, steps: int) -> bool:
    """True (after saying how to resume) when pretraining stopped before ``steps``."""
    done = pre.metrics.get("steps", steps)
    if done < steps:
        print(f"workbench: pretraining interrupted at step {done} of {steps}; run the same command again to resume it", file=sys.stderr)
    return done < steps


def cmd_demo(args) -> int:
    from ..experiments.compare import compare
    from ..pretrain.vision import PRETRAIN_VISION, pretrained_cnn
    from ..report.writing import write_comparison, writable_dir
    from ..tasks.vision import VisionTask

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
    results = compare(task, DEMO_RECIPES, DEMO_BUDGETS, DEMO_SEEDS, progress=not args.quiet)
    paths = write_comparison(results, args.out, "workbench demo: pretrained vs scratch on real handwritten digits")
    print()
    _print_table(results, paths)
    print(f"\ndemo finished in {time.perf_counter() - start:.0f} s")
    return 0


def cmd_pretrain_vision(args) -> int:
    from ..pretrain.vision import PRETRAIN_VISION, pretrained_cnn
    from ..train.checkpoints import save_checkpoint

    steps = args.steps or PRETRAIN_VISION.steps
    if args.out:  # fail before training, not after
        from ..report.writing import writable_dir

        writable_dir(os.path.dirname(os.path.abspath(args.out)))
    pre = pretrained_cnn(classes=args.classes, steps=steps, seed=args.seed, device=args.device, progress=not args.quiet, rebuild=args.rebuild)
    if _interrupted(pre, steps):
        return 130
    print(f"pretrained CNN ({args.classes} classes, {steps} steps): " + ", ".join(f"{k}={v:.3f}" for k, v in pre.metrics.items() if isinstance(v, float)))
    print(f"cached at {pre.path}")
    from ..train.distributed import is_main_process

    if args.out and is_main_process():  # under torchrun, rank 0 writes; every rank holds the same weights
        save_checkpoint(args.out, pre.model, recipe=pre.recipe, seed=pre.seed, metrics=pre.metrics, history=pre.history)
        print(f"saved to {args.out}")
    return 0


def cmd_compare_vision(args) -> int:
    from ..experiments.compare import compare
    from ..report.writing import write_comparison, writable_dir
    from ..tasks.vision import VisionTask

    writable_dir(args.out)
    task = VisionTask(args.target, device=args.device)
    changes = {"steps": args.steps} if args.steps else {}
    recipes = task.check([task.get_recipe(r, **changes) for r in args.recipes], args.budgets)  # before any training
    if any(r.init == "pretrained" for r in recipes):
        task.load_pretrained(args.pretrained, progress=not args.quiet)
    results = compare(task, recipes, args.budgets, args.seeds, progress=not args.quiet)
    paths = write_comparison(results, args.out, f"compare vision on {task.name}")
    _print_table(results, paths)
    return 0
