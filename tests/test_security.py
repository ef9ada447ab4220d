"""Nothing the workbench loads can run code: no unpickling anywhere in the package."""
import ast
import os
import pickle
from pathlib import Path

import pytest
import torch

import workbench
from workbench.errors import CheckpointError

PACKAGE = Path(workbench.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))


def calls(name_attr):
    """(file, line) of every call to ``module.attr`` in the package, e.g. ('torch', 'load')."""
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name_attr[1]:
                value = node.func.value
                if isinstance(value, ast.Name) and value.id == name_attr[0]:
                    yield path, node


def test_the_scan_sees_the_whole_package():
    assert len(SOURCES) > 20 and PACKAGE / "train" / "checkpoints.py" in SOURCES


def test_every_torch_load_passes_weights_only_true():
    bad = []
    for path, node in calls(("torch", "load")):
        kw = {k.arg: k.value for k in node.keywords}
        if not (isinstance(kw.get("weights_only"), ast.Constant) and kw["weights_only"].value is True):
            bad.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not bad, f"torch.load without weights_only=True: {bad}"


#: modules that pickle only to hand their own objects to their own worker processes (a private temporary
#: folder the parent creates and deletes), never to load a file a user or a download supplies
IPC_ONLY = {"experiments/sweep.py", "experiments/sweep_dask.py"}


def test_no_pickle_based_loader_is_used():
    bad = []
    for path in SOURCES:
        if str(path.relative_to(PACKAGE)) in IPC_ONLY:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
                if any(n.split(".")[0] in ("pickle", "cPickle", "dill", "joblib", "shelve", "marshal") for n in names):
                    bad.append(f"{path.relative_to(PACKAGE)}:{node.lineno} imports a pickle-based module")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("read_pickle", "load_pickle"):
                bad.append(f"{path.relative_to(PACKAGE)}:{node.lineno} calls {node.func.attr}")
            if isinstance(node, ast.keyword) and node.arg == "allow_pickle" and not (isinstance(node.value, ast.Constant) and node.value.value is False):
                bad.append(f"{path.relative_to(PACKAGE)}:{node.lineno} allows pickles")
    assert not bad, bad


class _Evil:
    marker = None

    def __reduce__(self):
        return (os.system, (f"touch {_Evil.marker}",))


def test_a_malicious_pickle_posing_as_resumable_state_runs_nothing(tmp_path):
    from workbench.models.cnn import CNNConfig, SmallCNN
    from workbench.train.loop import fit
    from workbench.train.recipe import get_recipe
    from workbench.train.resume import Checkpointing

    def batches():
        while True:
            yield torch.randn(8, 1, 28, 28), torch.arange(8)

    recipe = get_recipe("finetune", steps=10)
    model = SmallCNN(CNNConfig(widths=(4, 8, 8, 16), num_classes=10))
    fit(model, recipe, batches(), callbacks=[Checkpointing(tmp_path / "ck", every=5)], progress=False)
    _Evil.marker = tmp_path / "pwned"
    (tmp_path / "ck" / "training.safetensors").write_bytes(pickle.dumps({"model.head.weight": _Evil()}))
    with pytest.raises(CheckpointError, match="unreadable or truncated"):
        fit(model, recipe, batches(), resume_from=tmp_path / "ck", progress=False)
    torch_file = tmp_path / "evil.pt"  # and torch's own loader, as the workbench would call it, refuses it too
    torch_file.write_bytes(pickle.dumps(_Evil(), protocol=2))
    with pytest.raises(pickle.UnpicklingError):
        torch.load(torch_file, weights_only=True)
    assert not _Evil.marker.exists()


def test_a_malicious_pickle_posing_as_a_cache_file_is_rebuilt_not_run(tmp_path):
    from workbench.data.store import load_tensors

    _Evil.marker = tmp_path / "pwned"
    cache = tmp_path / "glyphs-v1.safetensors"
    cache.write_bytes(pickle.dumps(_Evil()))
    with pytest.warns(UserWarning, match="unreadable .* rebuilding it"):
        assert load_tensors(cache) is None
    assert not cache.exists() and not _Evil.marker.exists()


def test_no_server_is_started_without_a_token_or_on_all_interfaces_by_default():
    """Nothing the project ships disables Jupyter's token/password, and the app binds to loopback unless asked."""
    import re

    root = PACKAGE.parent
    files = [*SOURCES, *root.glob(".ci/*"), *root.glob("benchmarks/*.py"), *root.glob("notebooks/*.ipynb"), root / "pyproject.toml"]
    no_auth = re.compile(r"""(token|password)\s*=\s*(''|""|\\'\\'|\\"\\")|--no-?token|disable_check_xsrf\s*=\s*True|--ip=0\.0\.0\.0""", re.I)
    bad = [f"{p.relative_to(root)}: {m.group(0)}" for p in files if p.is_file() for m in no_auth.finditer(p.read_text(errors="replace"))]
    assert not bad, bad
    from workbench.cli.main import build_parser

    assert build_parser().parse_args(["app"]).ip == "127.0.0.1"
