"""Layer groups of any model the workbench trains.

A layer group is a named part of a model that recipes freeze and give a learning rate to. Groups come
as an ordered dict name -> module, input to output; the last one is always ``head`` (it gets the
recipe's ``lr``, the others ``backbone_lr``; freezing counts groups from the first), and every
parameter of the model is in exactly one group. ``layer_groups(model, groups=None)`` takes the first
of these that applies:

1. A grouping you give: ``groups=``, or the attribute ``model.workbench_groups``, which every caller
   (``fit``, the freeze panel, ``param_groups``, ``trainable_summary``...) honours, so set it once::

       model.workbench_groups = {"stem": ["conv1", "bn1"], "body": ["layer1", "layer2", "layer3", "layer4"],
                                 "head": ["fc"]}

   Each name maps to a module, or to one or more names from ``model.named_modules()`` (all of that
   module's parameters) or ``model.named_parameters()``. Every parameter must be in exactly one
   group (a tied weight counts once) and the last group must be called ``head``.
2. The model's own ``layer_groups()`` method (the workbench CNN, the tiny transformers, MiniLM).
3. A known family, read off its modules; "head" is everything after the last body group, and a bare
   backbone with nothing after its last block uses that block as the head:

   - BERT / RoBERTa (``embeddings``, ``encoder.layer``), DistilBERT (``embeddings``,
     ``transformer.layer``) and GPT-2 (``wte`` + ``wpe``, ``h``), bare or with any task head:
     ``embeddings``, ``block1`` .. ``blockN``, ``head`` (pooler / final norm + task head);
   - torchvision ResNet: ``stem`` (conv1, bn1, relu, maxpool), ``layer1`` .. ``layer4``, ``head``
     (avgpool, fc);
   - torchvision MobileNet V2/V3, and any model with a ``features`` Sequential and a ``classifier``:
     ``stem``, ``stage1`` .. ``stageN`` (a new stage at each block that lowers the resolution), ``head``.
4. Any other module, by the generic rule: one group per top-level child, in order, named after it; a
   child without parameters of its own (ReLU, pooling, dropout, a tied copy) joins the next group, or
   the last one if none follows; parameters set directly on the model join the first group; the last
   group is renamed ``head``. If that gives fewer than two groups, pass ``groups=``.

Tied weights (GPT-2's ``lm_head`` is ``wte``) stay in the first group that holds them; later groups
keep only the parts of a module that are not taken yet.
"""
from __future__ import annotations

from collections.abc import Iterable

from torch import nn

from ..errors import WorkbenchError

Part = nn.Module | nn.Parameter


class Group(nn.Module):
    """A layer group made of several modules and loose parameters (set directly on a module, or the
    untied part of a partly tied module). Holds references only: the model still owns them."""

    def __init__(self, parts: Iterable[Part]):
        super().__init__()
        parts = list(parts)
        self.parts = nn.ModuleList(p for p in parts if isinstance(p, nn.Module))
        self.loose = nn.ParameterList(p for p in parts if isinstance(p, nn.Parameter))


def layer_groups(model: nn.Module, groups: dict | None = None) -> dict[str, nn.Module]:
    """The model's layer groups, input to output, the last one ``head`` (see the module docstring)."""
    if groups is None:
        groups = getattr(model, "workbench_groups", None)
    if groups is not None:
        return _user_groups(model, groups)
    if hasattr(model, "layer_groups"):
        return model.layer_groups()
    for body in (_bert_body, _distilbert_body, _gpt2_body, _resnet_body, _features_body):
        parts = body(model)
        if parts is not None:
            return _body_then_head(model, parts)
    return _generic_groups(model)


# Known families: each returns the groups before the head as [(name, [modules])], or None if the model is not one.
# ----------------------------------------------------------------------------------------------------------
def _blocks(blocks) -> list[tuple[str, list[nn.Module]]]:
    return [(f"block{i + 1}", [b]) for i, b in enumerate(blocks)]


def _bert_body(model: nn.Module):
    """BERT, RoBERTa (and ELECTRA, MiniLM): the embeddings, then each encoder block, the unit a
    transformer is stacked from; the pooler and any task head come after the last block."""
    base = getattr(model, "base_model", model)
    embeddings, blocks = getattr(base, "embeddings", None), getattr(getattr(base, "encoder", None), "layer", None)
    if embeddings is None or not isinstance(blocks, nn.ModuleList):
        return None
    return [("embeddings", [embeddings]), *_blocks(blocks)]


def _distilbert_body(model: nn.Module):
    """DistilBERT: BERT with its blocks under ``transformer.layer``, no pooler; the classifier (or the
    vocabulary projection) is the head."""
    base = getattr(model, "base_model", model)
    embeddings, blocks = getattr(base, "embeddings", None), getattr(getattr(base, "transformer", None), "layer", None)
    if embeddings is None or not isinstance(blocks, nn.ModuleList):
        return None
    return [("embeddings", [embeddings]), *_blocks(blocks)]


def _gpt2_body(model: nn.Module):
    """GPT-2: token and position embeddings (wte, wpe and the dropout after them), then each block of
    ``h``; the final LayerNorm ``ln_f`` and the LM or score head come after. The LM head's weight *is*
    ``wte`` (tied), so it stays with the embeddings: freezing one freezes the other."""
    base = getattr(model, "base_model", model)
    wte, blocks = getattr(base, "wte", None), getattr(base, "h", None)
    if wte is None or not isinstance(blocks, nn.ModuleList):
        return None
    embeddings = [m for m in (wte, getattr(base, "wpe", None), getattr(base, "drop", None)) if m is not None]
    return [("embeddings", embeddings), *_blocks(blocks)]


def _resnet_body(model: nn.Module):
    """torchvision ResNet: the stem (conv1, bn1, relu, maxpool) cuts the resolution 4x before any
    residual block, so it is one unit; layer1..layer4 are the four resolution stages the network is
    drawn in; avgpool + fc, the part a fine-tune replaces, is the head."""
    stages = ("layer1", "layer2", "layer3", "layer4")
    if not all(hasattr(model, n) for n in ("conv1", "bn1", *stages, "fc")):
        return None
    stem = [getattr(model, n) for n in ("conv1", "bn1", "relu", "maxpool") if hasattr(model, n)]
    return [("stem", stem), *((n, [getattr(model, n)]) for n in stages)]


def _features_body(model: nn.Module):
    """torchvision MobileNet V2/V3 (also VGG, EfficientNet...): ``features`` is a long run of small
    blocks, too many to freeze one by one, so it is cut into stages where the resolution drops (a block
    with a stride-2 conv or pool starts a new stage), the usual unit of a CNN; the first is the ``stem``.
    avgpool + ``classifier`` is the head."""
    features = getattr(model, "features", None)
    if not isinstance(features, nn.Sequential) or not hasattr(model, "classifier"):
        return None
    stages: list[list[nn.Module]] = []
    for block in features:
        if not stages or _downsamples(block):
            stages.append([])
        stages[-1].append(block)
    return [("stem" if i == 0 else f"stage{i}", blocks) for i, blocks in enumerate(stages)]


def _downsamples(block: nn.Module) -> bool:
    def stride(m):
        s = m.stride
        return max(s) if isinstance(s, tuple) else s

    pools = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)
    return any(stride(m) > 1 for m in block.modules() if isinstance(m, pools))


# Building groups
# ----------------------------------------------------------------------------------------------------------
def _body_then_head(model: nn.Module, body: list[tuple[str, list[nn.Module]]]) -> dict[str, nn.Module]:
    """Groups from ``body`` in order, then everything not taken yet as ``head``; a model with nothing
    after its last body group (a bare encoder) uses that group as the head."""
    taken: set[int] = set()
    named = [(name, _take(modules, taken)) for name, modules in body]
    named, trailing = _merge_parameter_free(named)
    head = trailing + _fresh_parts(model, taken)
    if not _has_parameters(head):
        head = named.pop()[1] + head
    return {name: _group(parts) for name, parts in [*named, ("head", head)]}


def _generic_groups(model: nn.Module) -> dict[str, nn.Module]:
    """The generic rule (module docstring, 4): ordered top-level children, parameter-free ones merged into
    the next, parameters set on the model itself in the first group, the last group the head."""
    own = list(model.parameters(recurse=False))
    taken = {id(p) for p in own}
    named = [(name, _fresh_parts(child, taken)) for name, child in model.named_children()]
    named, trailing = _merge_parameter_free(named)
    kind = type(model).__name__
    if len(named) < 2:
        raise WorkbenchError(f"{kind} splits into {len(named)} layer group(s) by its top-level children, too few to freeze "
                             "or give different LRs; pass groups={name: module or parameter-name prefixes, ..., 'head': ...}")
    named[0] = (named[0][0], own + named[0][1])
    *body, (_, last) = named
    if any(name == "head" for name, _ in body):
        raise WorkbenchError(f"{kind} has a child called 'head' that is not its last; pass groups= to say which part is the head")
    return {name: _group(parts) for name, parts in [*body, ("head", last + trailing)]}


def _user_groups(model: nn.Module, groups: dict) -> dict[str, nn.Module]:
    """A grouping given by the user (name -> module, or name -> module/parameter names), checked to
    cover every parameter exactly once and to end with ``head``."""
    if not isinstance(groups, dict) or not groups:
        raise WorkbenchError("groups must be a non-empty dict name -> module or list of parameter-name prefixes, "
                             "ending with 'head'")
    last = list(groups)[-1]
    if last != "head":
        raise WorkbenchError(f"the last layer group must be called 'head' (it gets the recipe's lr), not {last!r}; rename it")
    out = {}
    for name, spec in groups.items():
        specs = spec if isinstance(spec, (list, tuple)) else [spec]
        out[name] = _group([_resolve(model, name, s) for s in specs])
    _check_partition(model, out)
    return out


def _resolve(model: nn.Module, group: str, spec) -> Part:
    if isinstance(spec, (nn.Module, nn.Parameter)):
        return spec
    if isinstance(spec, str):
        try:
            return model.get_submodule(spec)
        except AttributeError:
            pass
        try:
            return model.get_parameter(spec)
        except AttributeError:
            pass
    raise WorkbenchError(f"group {group!r}: {spec!r} is no module or parameter of {type(model).__name__}; "
                         "use a name from model.named_modules() or model.named_parameters()")


def _check_partition(model: nn.Module, groups: dict[str, nn.Module]) -> None:
    """Raise a one-line error unless every parameter of ``model`` is in exactly one group."""
    names = {id(p): n for n, p in model.named_parameters()}
    owner: dict[int, str] = {}
    twice, foreign = [], []
    for group, module in groups.items():
        for p in module.parameters():
            if id(p) not in names:
                foreign.append(group)
            elif id(p) in owner:
                twice.append(f"{names[id(p)]} (in {owner[id(p)]!r} and {group!r})")
            else:
                owner[id(p)] = group
    missing = [n for i, n in names.items() if i not in owner]
    if foreign:
        raise WorkbenchError(f"group {foreign[0]!r} holds parameters that are not the model's; give modules of this model")
    if twice:
        raise WorkbenchError(f"{len(twice)} parameter(s) in two groups: {', '.join(twice[:3])}; put each in exactly one "
                             "(a tied weight counts once: leave the tied module out of one group)")
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise WorkbenchError(f"{len(missing)} parameter(s) in no layer group: {', '.join(missing[:3])}{more}; "
                             "add them (or their module) to a group")


def _ids(module: nn.Module) -> set[int]:
    return {id(x) for x in (*module.modules(), *module.parameters())}


def _fresh_parts(module: nn.Module, taken: set[int]) -> list[Part]:
    """The parts of ``module`` no earlier group holds: the module itself if none of it is taken, else its
    untaken children and own parameters (recursively). Adds what it returns to ``taken``."""
    ids = _ids(module)
    if not ids & taken:
        taken |= ids
        return [module]
    parts: list[Part] = []
    for child in module.children():
        parts += _fresh_parts(child, taken)
    for p in module.parameters(recurse=False):
        if id(p) not in taken:
            taken.add(id(p))
            parts.append(p)
    return parts


def _take(modules: list[nn.Module], taken: set[int]) -> list[Part]:
    return [part for m in modules for part in _fresh_parts(m, taken)]


def _has_parameters(parts: list[Part]) -> bool:
    return any(isinstance(p, nn.Parameter) or any(True for _ in p.parameters()) for p in parts)


def _merge_parameter_free(named: list[tuple[str, list[Part]]]):
    """Each run of parameter-free entries joins the next entry; returns (merged, parts left after the last)."""
    merged, pending = [], []
    for name, parts in named:
        if _has_parameters(parts):
            merged.append((name, pending + parts))
            pending = []
        else:
            pending += parts
    return merged, pending


def _group(parts: list[Part]) -> nn.Module:
    """One module stands for itself; anything else is wrapped in a :class:`Group`."""
    if len(parts) == 1 and isinstance(parts[0], nn.Module):
        return parts[0]
    return Group(parts)


def group_parameter_counts(model: nn.Module) -> list[dict]:
    """One row per group: name, total parameters, trainable parameters."""
    rows = []
    for name, module in layer_groups(model).items():
        params = list(module.parameters())
        rows.append({
            "group": name,
            "parameters": sum(p.numel() for p in params),
            "trainable": sum(p.numel() for p in params if p.requires_grad),
        })
    return rows
