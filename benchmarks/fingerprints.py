"""Seeded fingerprints for refactors: run before and after a change that must not move any number.

    python benchmarks/fingerprints.py before.json   # on the old commit
    python benchmarks/fingerprints.py after.json    # on the new one; then: cmp before.json after.json

A 30-step vision pretraining, a 4-recipe x 2-budget x 2-seed vision comparison, a 6-step text pretraining and
a 3-recipe text comparison: weight hashes and the repr of every score. The fallbacks keep it runnable on the
commits before the restructure (old module paths). Run with OMP_NUM_THREADS=1 and a throwaway WORKBENCH_CACHE.
"""
import hashlib, json, sys, warnings
warnings.filterwarnings("ignore")
import torch

def h(model):
    m = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        m.update(k.encode()); m.update(v.detach().cpu().contiguous().numpy().tobytes())
    return m.hexdigest()[:16]

out = {}
try:
    from workbench.experiments.pretrain import pretrain_vision
except ImportError:
    from workbench import pretrain_vision
p = pretrain_vision(steps=30, seed=1, progress=False)
out["pretrain_vision"] = [h(p.model), repr(p.metrics.get("val_accuracy"))]
try:
    from workbench.experiments.tasks import VisionTask
    from workbench.experiments.compare import compare
except ImportError:
    from workbench import VisionTask, compare
task = VisionTask("mnist5k", pretrained=p.model)
import workbench
r = compare(task, [workbench.get_recipe(n, "vision", steps=20) if hasattr(workbench, "get_recipe") else n for n in ["scratch", "probe", "discriminative", "gradual"]], budgets=[10, 20], seeds=2, progress=False)
out["compare_vision"] = [repr(x) for x in r.score.tolist()]
try:
    from workbench.experiments.pretrain_text import pretrain_text
except ImportError:
    from workbench import pretrain_text
t = pretrain_text(steps=6, seed=2, progress=False, samples=False, print_fn=lambda *a, **k: None)
out["pretrain_text"] = [h(t.model)]
try:
    from workbench.experiments.text_tasks import text_task
except ImportError:
    from workbench import text_task
tt = text_task("genre", pretrained=t) if True else None
r2 = compare(tt, [workbench.get_recipe(n, "text", steps=8) for n in ["scratch", "probe", "finetune"]], budgets=[30], seeds=2, progress=False, **({"domain": "text"} if "domain" in compare.__code__.co_varnames else {}))
out["compare_text"] = [repr(x) for x in r2.score.tolist()]
json.dump(out, open(sys.argv[1], "w"), indent=1)
print(json.dumps(out, indent=1))
