"""Notebook 07, pitfalls and best practices: L2-SP by hand, an LR from the range test, the break-even count.

* ``07.l2sp``: the student writes the L2-SP penalty ``alpha/2 * sum ||w - w0||^2`` over the backbone's
  parameters as a function ``l2sp(model, pretrained, alpha)``. Checked against
  :func:`workbench.experiments.lab.l2sp_penalty` on a fixed pair of tiny CNNs (a "pretrained" one with a
  62-class head and a "fine-tuned" one whose backbone has moved and whose head has 10 classes): its value at
  two strengths and its gradient. The mistakes worth naming: the 1/2, alpha, a norm instead of its square, a
  mean instead of a sum, pulling toward zero (weight decay), BatchNorm's running statistics, the head, and a
  value that carries no gradient.
* ``07.pick_lr``: a rule ``pick_lr(curve)`` that reads an LR range test's curve (``lab.lr_find``'s
  ``curve``: columns ``lr``, ``loss``, ``smoothed``) and returns the LR to train with. Checked on the
  notebook's own curves: it must land well below the LR where the smoothed loss is lowest (a factor 3 to 30).
* ``07.break_even``: from the notebook's cost table (``lab.cost``'s output), the number of tasks after which
  pretraining has paid for itself in FLOPs.
* the ``07.review`` quiz.
"""
from __future__ import annotations

import copy
import math

from ...errors import WorkbenchError
from ..exercises import Feedback, exercise, failed, passed
from ..quiz import MultipleChoice, Numeric, Quiz, register_quiz

# ----------------------------------------------------------------------------------------------------------
# 07.l2sp
# ----------------------------------------------------------------------------------------------------------


def l2sp_pair():
    """(fine-tuned, pretrained): two tiny CNNs; the backbone moved by a fixed random step, the head is new (10 vs 62)."""
    import torch

    from ...models.cnn import CNNConfig, SmallCNN

    torch.manual_seed(0)
    pretrained = SmallCNN(CNNConfig(widths=(4, 8, 8, 16), num_classes=62))
    with torch.no_grad():  # BatchNorm statistics that differ between the two, so counting buffers shows
        for m in pretrained.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    model = copy.deepcopy(pretrained)
    model.head = torch.nn.Linear(16, 10)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not name.startswith("head."):
                p.add_(0.1 * torch.randn(p.shape, generator=gen))
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.add_(0.3)
    return model, pretrained


def _l2sp_fixture():
    model, pretrained = l2sp_pair()
    return {"model": model, "pretrained": pretrained}


def _l2sp_solution(results=None):
    from ...experiments.lab import backbone_reference, l2sp_penalty

    def l2sp(model, pretrained, alpha):
        return alpha * l2sp_penalty(model, backbone_reference(pretrained))

    return l2sp


def _unanswered(name: str) -> Feedback:
    """A function whose body is still the placeholder: not answered yet (recorded as blank, not as an attempt)."""
    return Feedback(False, f"not answered yet: your {name} still returns None or ...; write its body", answered=False)


def _l2sp_variants(model, pretrained, alpha: float) -> list[tuple[float, str]]:
    """Values the usual mistakes produce on this pair, each with what went wrong."""
    pre = dict(pretrained.named_parameters())
    back = [(n, p.detach(), pre[n].detach()) for n, p in model.named_parameters() if not n.startswith("head.")]
    sq = sum(float((p - w0).pow(2).sum()) for _, p, w0 in back)
    n_el = sum(p.numel() for _, p, _ in back)
    out = [
        (alpha * sq, "that is alpha * sum ||w - w0||^2: the penalty has a factor 1/2 (so its gradient is alpha * (w - w0))"),
        (sq / 2, "that is the penalty without alpha: multiply by the strength alpha the function receives"),
        (sq, "that is sum ||w - w0||^2 without alpha and without the 1/2"),
        (alpha / 2 * sum(float((p - w0).norm()) for _, p, w0 in back),
         "that is a sum of norms ||w - w0||: L2-SP squares the distance (no square root)"),
        (alpha / 2 * math.sqrt(sq), "that is the norm of all the differences: L2-SP squares the distance (no square root)"),
        (alpha / 2 * sq / n_el, "that is a mean over the weights: L2-SP sums the squared differences"),
        (alpha / 2 * sum(float((p - w0).pow(2).mean()) for _, p, w0 in back),
         "that sums each tensor's mean squared difference: L2-SP sums over every weight, not per-tensor means"),
        (alpha / 2 * sum(float(p.pow(2).sum()) for _, p, _ in back),
         "that is alpha/2 * ||w||^2, plain weight decay: it pulls the weights toward zero. L2-SP pulls them toward the "
         "pretrained weights w0 (the 'SP' is 'starting point')"),
    ]
    pre_buffers = dict(pretrained.named_buffers())
    buf = sum(float((b.float() - pre_buffers[n].float()).pow(2).sum()) for n, b in model.named_buffers()
              if n in pre_buffers and b.dtype.is_floating_point)
    out.append((alpha / 2 * (sq + buf),
                "your sum includes BatchNorm's running mean and variance: those are buffers (statistics), not parameters; "
                "nothing trains them, so a penalty on them has no gradient to give. Loop over named_parameters()"))
    return out


def _check_one(fn, model, pretrained, alpha):
    """None if ``fn`` is right at ``alpha`` on this pair, else the failure."""
    import torch

    from ...experiments.lab import backbone_reference, l2sp_penalty

    model, pretrained = copy.deepcopy(model), copy.deepcopy(pretrained)
    truth = alpha * float(l2sp_penalty(model, backbone_reference(pretrained)).detach())
    try:
        out = fn(model, pretrained, alpha)
    except RuntimeError as err:
        if "size of tensor" in str(err) or "must match" in str(err):
            return failed(f"your function raised a shape mismatch ({str(err).splitlines()[0]}): the head has 10 outputs in "
                          "the fine-tuned model and 62 in the pretrained one",
                          "the head is new for the target task, so it has no pretrained value: leave out the parameters "
                          "whose names start with 'head.'")
        raise
    if out is None or out is Ellipsis:
        return _unanswered("l2sp")
    if torch.is_tensor(out) and out.numel() != 1:
        return failed(f"your l2sp returns a tensor of shape {tuple(out.shape)}; a penalty is one number (a 0-d tensor)",
                      "add .sum() so every squared difference counts once")
    try:
        value = float(out.detach()) if torch.is_tensor(out) else float(out)
    except (TypeError, ValueError):
        return failed(f"your l2sp returns a {type(out).__name__}, not a number")
    if not math.isclose(value, truth, rel_tol=1e-4, abs_tol=1e-9):
        for guess, why in _l2sp_variants(model, pretrained, alpha):
            if math.isclose(value, guess, rel_tol=1e-4, abs_tol=1e-9):
                return failed(f"at alpha={alpha} your penalty is {value:.6g}, the right one {truth:.6g}: {why}")
        return failed(f"at alpha={alpha} your penalty is {value:.6g} on this pair of models; L2-SP gives {truth:.6g} "
                      f"({'too large' if value > truth else 'too small'})")
    if not (torch.is_tensor(out) and out.requires_grad):
        return failed(f"the value is right ({value:.6g}), but it carries no gradient, so adding it to the loss would "
                      "change nothing in training",
                      "fit backpropagates through the loss: return the tensor itself (no .item(), float() or "
                      "torch.no_grad()), computed from model.named_parameters()")
    model.zero_grad()
    out.backward()
    pre = dict(pretrained.named_parameters())
    for name, p in model.named_parameters():
        expect = None if name.startswith("head.") else alpha * (p.detach() - pre[name].detach())
        if expect is None:
            if p.grad is not None and float(p.grad.abs().max()) > 0:
                return failed("the penalty pushes on the head's weights: the head has no pretrained value to keep",
                              "leave out the parameters whose names start with 'head.'")
        elif p.grad is None or not torch.allclose(p.grad, expect, rtol=1e-4, atol=1e-8):
            return failed(f"the value is right but the gradient on {name} is not alpha * (w - w0)",
                          "compute the penalty from the model's own parameters (model.named_parameters()), not from copies")
    return None


@exercise(
    "07.l2sp",
    task="Write l2sp(model, pretrained, alpha): alpha/2 times the sum of squared differences between each backbone "
         "parameter of model and the same parameter of the pretrained model (the head left out).",
    hint="pre = dict(pretrained.named_parameters()); loop over model.named_parameters(), skip names starting with "
         "'head.', add (p - pre[name].detach()).pow(2).sum(); return alpha / 2 * total (a tensor, so it has a gradient)",
    fixture=_l2sp_fixture,
    solution=_l2sp_solution,
)
def check_l2sp(answer, results=None):
    if not callable(answer):
        return failed(f"give your function itself (l2sp, without brackets); got a {type(answer).__name__}",
                      "def l2sp(model, pretrained, alpha): ... then check('07.l2sp', l2sp)")
    if results is None or not isinstance(results, dict) or "model" not in results:
        results = _l2sp_fixture()
    model, pretrained = results["model"], results["pretrained"]
    for alpha in (0.1, 0.5):
        bad = _check_one(answer, model, pretrained, alpha)
        if bad is not None:
            return bad
    from ...experiments.lab import backbone_reference, l2sp_penalty

    value = 0.1 * float(l2sp_penalty(model, backbone_reference(pretrained)).detach())
    n = sum(p.numel() for name, p in model.named_parameters() if not name.startswith("head."))
    return passed(f"your penalty equals lab.l2sp_penalty on this pair ({value:.5g} at alpha=0.1, over {n:,} backbone "
                  "weights), and its gradient alpha * (w - w0) pulls every backbone weight back toward its pretrained value")


# ----------------------------------------------------------------------------------------------------------
# 07.pick_lr
# ----------------------------------------------------------------------------------------------------------


def _fake_curve(centre: float, seed: int):
    """An LR range test curve shaped like the real ones: flat, falling, lowest near ``centre``, then blowing up."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    lr = np.geomspace(1e-5, 1.0, 70)
    x = np.log10(lr / centre)
    loss = 2.3 - 1.6 / (1 + np.exp(-2.2 * (x + 1.2))) + 0.6 * np.exp(3.0 * x)
    loss = loss * (1 + 0.06 * rng.standard_normal(len(lr)))
    loss[np.argmin(np.abs(x - 0.9))] = 0.2  # one lucky batch: the raw loss's minimum sits far right of the smoothed one
    curve = pd.DataFrame({"lr": lr, "loss": loss})
    ema, smoothed = None, []
    for v in curve.loss:
        ema = v if ema is None else 0.9 * ema + 0.1 * v
        smoothed.append(ema)
    curve["smoothed"] = smoothed
    keep = curve.smoothed <= 4 * curve.smoothed.min()  # lr_find stops once the loss is 4x its best
    curve = curve[keep.cummin()].reset_index(drop=True)
    i = int(curve.smoothed.values.argmin())
    return curve, float(curve.lr[i])


def _finder_fixture():
    out = []
    for recipe, centre, seed in (("scratch", 0.1, 0), ("finetune", 0.03, 1)):
        curve, m = _fake_curve(centre, seed)
        out.append({"recipe": recipe, "curve": curve, "min_loss_lr": m, "suggested_lr": m / 10})
    return {"finder": out, "grid_best": {"scratch": 0.03, "finetune": 0.01}}


def _finder_parts(results):
    if isinstance(results, dict) and "finder" in results:
        return list(results["finder"]), dict(results.get("grid_best") or {})
    if isinstance(results, (list, tuple)):
        return list(results), {}
    raise WorkbenchError("pass the LR range tests: {'finder': [lab.lr_find_vision(...), ...], 'grid_best': {recipe: lr}}")


def _pick_solution(results=None):
    def pick_lr(curve):
        return float(curve.lr[curve.smoothed.idxmin()]) / 10

    return pick_lr


@exercise(
    "07.pick_lr",
    task="Write pick_lr(curve): from an LR range test's curve (columns lr, loss, smoothed), the LR you would train with.",
    hint="find the LR where the smoothed loss is lowest (curve.lr[curve.smoothed.idxmin()]) and go about ten times "
         "lower: the range test raises the LR every step, so where its loss bottoms out training is already close to "
         "diverging",
    fixture=_finder_fixture,
    solution=_pick_solution,
    blank=lambda results: (lambda curve: ...),
)
def check_pick_lr(answer, results):
    if not callable(answer):
        return failed(f"give your function itself (pick_lr, without brackets); got a {type(answer).__name__}",
                      "def pick_lr(curve): return ... then check('07.pick_lr', pick_lr, ...)")
    finder, grid_best = _finder_parts(results)
    said = []
    for f in finder:
        curve = f["curve"]
        out = answer(curve.copy())
        if out is None or out is Ellipsis:
            return _unanswered("pick_lr")
        try:
            lr = float(out)
        except (TypeError, ValueError):
            return failed(f"pick_lr should return one learning rate (a number); for {f['recipe']} it returned a {type(out).__name__}")
        lo, hi = float(curve.lr.min()), float(curve.lr.max())
        i_min = int(curve.smoothed.values.argmin())
        m = float(curve.lr.iloc[i_min])
        raw = float(curve.lr.iloc[int(curve.loss.values.argmin())])
        name = f["recipe"]
        if not (math.isfinite(lr) and lr > 0):
            return failed(f"for {name} pick_lr returned {lr!r}; a learning rate is a positive number")
        if lr > hi * 1.001 or lr < lo * 0.999:
            return failed(f"for {name} pick_lr returned {lr:.3g}, outside the LRs the test tried ({lo:.2g} to {hi:.2g})")
        if raw != m and math.isclose(lr, raw / 10, rel_tol=0.02) and not (m / 30 <= lr <= m / 3):
            return failed(f"for {name} your rule reads the raw loss, whose lowest point ({raw:.2g}) is one lucky batch",
                          "use the smoothed column: a single batch's loss is noisy, the running average is not")
        if lr >= m * 0.98:
            where = "where the smoothed loss is lowest" if lr <= m * 1.02 else "past the lowest point, where the loss is already rising"
            return failed(f"for {name} pick_lr gives {lr:.3g}, {where} (lowest at {m:.3g}): a run at that LR sits at the edge of divergence",
                          "the range test's LR grows every step, so its minimum is where training stops being stable: go about 10x lower")
        if lr > m / 3:
            return failed(f"for {name} pick_lr gives {lr:.3g}, only {m / lr:.1f}x below where the loss is lowest ({m:.3g}): too close to the edge",
                          "back off further, about 10x below the lowest point")
        if lr < m / 30:
            return failed(f"for {name} pick_lr gives {lr:.3g}, {m / lr:.0f}x below where the loss is lowest ({m:.3g}): on the curve the loss "
                          "is barely falling there, so training would crawl",
                          "about 10x below the lowest point is where the curve still falls steeply")
        line = f"{name}: {lr:.2g} ({m / lr:.0f}x below the lowest loss at {m:.2g})"
        if name in grid_best and grid_best[name]:
            g = float(grid_best[name])
            line += f"; the LR grid's best was {g:g}, a factor {max(lr, g) / min(lr, g):.1f} away"
        said.append(line)
    if not said:
        return failed("there are no range-test curves to try your rule on", "pass the notebook's finder results")
    return passed("your rule backs off from the minimum as it should: " + "; ".join(said))


# ----------------------------------------------------------------------------------------------------------
# 07.break_even
# ----------------------------------------------------------------------------------------------------------


def _cost_fixture():
    import pandas as pd

    costs = pd.DataFrame([
        {"phase": "pretraining", "recipe": "pretrain-vision", "steps": 1000, "batch_size": 128, "seconds_per_step": 0.05,
         "flops_per_step": 2.0e9, "seconds": 60.0, "flops": 2.0e12},
        {"phase": "scratch", "recipe": "scratch", "steps": 100, "batch_size": 64, "seconds_per_step": 0.03,
         "flops_per_step": 1.0e9, "seconds": 3.0, "flops": 1.0e11},
        {"phase": "fine-tuning", "recipe": "discriminative", "steps": 100, "batch_size": 64, "seconds_per_step": 0.025,
         "flops_per_step": 1.0e9, "seconds": 2.5, "flops": 1.0e11},
    ])
    steps = {"scratch": 90, "discriminative": 20}
    rows = []
    for _, c in costs.iloc[1:].iterrows():
        k = steps[c.recipe]
        rows.append({"recipe": c.recipe, "final_accuracy": 0.80 if c.recipe == "scratch" else 0.86, "target": 0.80,
                     "steps_to_target": k, "seconds_to_target": c.seconds_per_step * k, "flops_to_target": c.flops_per_step * k})
    be = pd.DataFrame(rows)
    s = be[be.recipe == "scratch"].iloc[0]
    for col, pre in (("seconds", costs.seconds[0]), ("flops", costs.flops[0])):
        saved = s[f"{col}_to_target"] - be[f"{col}_to_target"]
        be[f"{col}_saved_per_task"] = saved
        be[f"break_even_tasks_{col}"] = [pre / v if v > 0 else float("inf") for v in saved]
    return {"costs": costs, "break_even": be}


def _cost_parts(results):
    if not (isinstance(results, dict) and "costs" in results and "break_even" in results):
        raise WorkbenchError("pass the cost measurement itself: check('07.break_even', answer, c) with c = lab.cost(...)")
    costs, be = results["costs"], results["break_even"].set_index("recipe")
    pre = costs[costs.phase == "pretraining"].iloc[0]
    tuned = [r for r in be.index if r != "scratch"]
    name = "discriminative" if "discriminative" in tuned else tuned[0]
    return pre, be.loc["scratch"], be.loc[name], costs.set_index("recipe"), name


def break_even_tasks(results) -> float:
    """Pretraining FLOPs / FLOPs one pretrained model saves per task (scratch's to the target minus fine-tuning's)."""
    pre, s, d, _, _ = _cost_parts(results)
    saved = s.flops_to_target - d.flops_to_target
    return float(pre.flops / saved) if saved > 0 else math.inf


def _as_number(answer) -> float:
    if hasattr(answer, "item") and getattr(answer, "ndim", 0) == 0:
        answer = answer.item()
    if isinstance(answer, str):
        text = answer.strip().lower()
        if text in ("inf", "never", "infinity"):
            return math.inf
        answer = text
    if isinstance(answer, bool) or hasattr(answer, "shape") or isinstance(answer, (list, tuple, dict, set)):
        raise WorkbenchError("give one number: the break-even count of tasks (math.inf if pretraining never pays back)")
    try:
        return float(answer)
    except (TypeError, ValueError):
        raise WorkbenchError(f"give one number (a count of tasks), got {answer!r}") from None


@exercise(
    "07.break_even",
    task="From the cost table, the number of tasks after which pretraining has paid for itself in FLOPs "
         "(math.inf if fine-tuning saves nothing).",
    hint="a pretrained model saves, per task, scratch's FLOPs to reach the target minus fine-tuning's (the "
         "flops_to_target column); pretraining's FLOPs divided by that saving is the break-even count",
    fixture=_cost_fixture,
    solution=break_even_tasks,
)
def check_break_even(answer, results):
    value = _as_number(answer)
    truth = break_even_tasks(results)
    pre, s, d, costs, name = _cost_parts(results)
    saved = s.flops_to_target - d.flops_to_target
    if not math.isfinite(truth):
        if not math.isfinite(value):
            return passed(f"{name} never got to scratch's final score faster here, so nothing is saved per task and "
                          "pretraining never pays for itself in compute (it may still pay in labels)")
        return failed(f"in this run {name} saves no FLOPs on the way to scratch's score ({saved:.3g}), so there is no "
                      "finite break-even", "the answer is math.inf: nothing saved per task means it never pays back")
    if math.isclose(value, truth, rel_tol=0.01) or value == math.ceil(truth):
        return passed(f"{pre.flops:.3g} FLOPs of pretraining / {saved:.3g} FLOPs saved per task = {truth:.1f} tasks: "
                      f"pretraining has paid for itself once {math.ceil(truth)} tasks share the pretrained model")
    guesses = [
        (pre.flops / costs.loc[name].flops, f"that is pretraining's FLOPs divided by one whole {name} run: how many "
         "fine-tuning runs pretraining costs, not the tasks after which it pays back. The saving per task is what "
         "fine-tuning spares you compared with scratch"),
        (pre.flops / s.flops_to_target, "you divided by scratch's whole cost to the target; the saving is scratch's cost "
         f"minus {name}'s cost to the same score"),
        (pre.flops / d.flops_to_target, f"you divided by {name}'s cost to the target; the saving is scratch's cost minus {name}'s"),
        (saved / pre.flops, "upside down: pretraining's cost goes on top, the saving per task below"),
        (pre.seconds / (s.seconds_to_target - d.seconds_to_target) if s.seconds_to_target > d.seconds_to_target else math.nan,
         "that is the break-even in measured seconds, which depend on this machine's load; the question asks FLOPs"),
        (pre.flops / (s.steps_to_target - d.steps_to_target) if s.steps_to_target > d.steps_to_target else math.nan,
         "you divided FLOPs by a number of steps: turn the steps saved into FLOPs (flops_to_target does)"),
    ]
    for guess, why in guesses:
        if math.isfinite(guess) and math.isclose(value, guess, rel_tol=0.01):
            return failed(why)
    return failed(f"{value:g} tasks is {'too many' if value > truth else 'too few'}")


# ----------------------------------------------------------------------------------------------------------
# The questionnaire
# ----------------------------------------------------------------------------------------------------------

REVIEW = register_quiz(Quiz("07.review", [
    MultipleChoice(
        "07.review.probe_keeps",
        "Why does the linear probe (frozen backbone, BatchNorm frozen) forget exactly nothing of the glyph task?",
        {"Its backbone, BN statistics included, is bit-for-bit the pretrained one, and the glyph head is put back to read it":
             "Right: with nothing in the backbone changed, the pretrained head sees the same features as before.",
         "Because 50 digits are too few to change anything": "Full fine-tuning on the same 50 digits does change the glyph accuracy; "
                                                               "the probe keeps it because it changes no backbone weight or statistic.",
         "Because the probe trains with a lower learning rate": "The probe's LR is in fact higher (1e-2); it keeps the source task "
                                                                "because its backbone does not train at all."},
        answer="Its backbone, BN statistics included, is bit-for-bit the pretrained one, and the glyph head is put back to read it"),
    MultipleChoice(
        "07.review.bn_stats",
        "The probe with bn='train' changes no weight at all, yet its glyph accuracy moves. What changed?",
        {"BatchNorm's running mean and variance, which now describe digits instead of glyphs":
             "Right: the statistics are buffers that batches update in train mode; the glyph task then reads normalised "
             "features with the wrong centre and scale.",
         "The head's weights": "The glyph head is the pretrained one, put back unchanged; the digit head is not used for the glyph score.",
         "Nothing: the difference is noise between seeds": "The change is there at every seed; BN statistics are part of what the "
                                                           "backbone computes, even though requires_grad does not touch them."},
        answer="BatchNorm's running mean and variance, which now describe digits instead of glyphs"),
    MultipleChoice(
        "07.review.l2sp_vs_wd",
        "How does L2-SP differ from ordinary weight decay?",
        {"It pulls the backbone toward its pretrained weights instead of toward zero":
             "Right: the penalty is alpha/2 * ||w - w0||^2, so the gradient alpha * (w - w0) points back at the starting point.",
         "It is the same penalty with a larger alpha": "Weight decay pulls toward 0, which would erase the pretrained features; "
                                                      "L2-SP's target is w0.",
         "It freezes the backbone": "Nothing is frozen: every weight still trains, but moving away from w0 costs loss."},
        answer="It pulls the backbone toward its pretrained weights instead of toward zero"),
    Numeric(
        "07.review.l2sp_value",
        "Three backbone weights moved by 1, 2 and 2 from their pretrained values. What is the L2-SP penalty at alpha = 0.1?",
        answer=0.45, tolerance=0.005,
        low="Square each difference and sum them (1 + 4 + 4 = 9), then multiply by alpha/2.",
        high="Remember the factor 1/2: alpha/2 * (1 + 4 + 4).",
        explain="0.1 / 2 * (1 + 4 + 4) = 0.45."),
    MultipleChoice(
        "07.review.es_cost",
        "At N = 50, what does early stopping cost that fixed-step training does not?",
        {"The labels it holds out for validation: the model trains on 40 images instead of 50":
             "Right: at small N the validation split comes out of the budget, so early stopping has to earn back those labels.",
         "Nothing: it only ever saves steps": "It does save steps, but the 10 held-out images are not trained on.",
         "It needs a second test set": "It needs a validation split, carved from the labeled budget; the test set stays untouched."},
        answer="The labels it holds out for validation: the model trains on 40 images instead of 50"),
    MultipleChoice(
        "07.review.range_test",
        "An LR range test's smoothed loss is lowest at LR 0.1. Which LR do you try first?",
        {"0.01": "Right: about ten times below the minimum, where the loss still falls steeply; the range test's LR grows "
                 "every step, so at its minimum training is already close to diverging.",
         "0.1": "At the minimum the loss has stopped falling: a whole run at that LR sits at the edge of divergence.",
         "1.0": "Past the minimum the loss rises: that LR diverges.",
         "0.0001": "A thousand times below the minimum the loss barely moves on the curve: training would crawl."},
        answer="0.01"),
    Numeric(
        "07.review.break_even",
        "Pretraining costs 1.2e12 FLOPs. Scratch needs 3e10 FLOPs to reach its score on a task, fine-tuning 1e10. "
        "After how many tasks has pretraining paid for itself?",
        answer=60, tolerance=0.5,
        low="Divide pretraining's cost by what it saves per task: 3e10 - 1e10.",
        high="The saving per task is the difference, 3e10 - 1e10 = 2e10, not fine-tuning's cost alone.",
        explain="1.2e12 / (3e10 - 1e10) = 60 tasks."),
    MultipleChoice(
        "07.review.layernorm",
        "Why does the tiny GPT's forgetting have no 'BN statistics' part?",
        {"A transformer uses LayerNorm, which normalises each token on the fly and keeps no running statistics":
             "Right: there is nothing but weights to drift, so all its forgetting is weight drift.",
         "Because text has no batches": "Text is trained in batches too; LayerNorm simply does not average over them.",
         "Because its body is frozen": "Full fine-tuning trains the body; forgetting shows as a higher held-out LM loss."},
        answer="A transformer uses LayerNorm, which normalises each token on the fly and keeps no running statistics"),
]))
