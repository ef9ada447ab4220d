"""The package's shape: layers import only downward, no cycles, no drawing or widgets below presentation."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "workbench"
#: the layers below presentation: they return tidy data, never figures or widgets
LOWER = ("data", "models", "train", "pretrain", "tasks", "experiments", "device.py", "errors.py", "paths.py", "choices.py")
DRAWING = ("matplotlib.pyplot", "ipywidgets", "IPython")


def test_import_linter_contracts_are_kept():
    """The contracts in pyproject.toml: the layers of DESIGN.md and no cycles between sibling modules."""
    run = subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "2 kept, 0 broken" in run.stdout


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_layers_below_presentation_never_draw_or_build_widgets():
    offenders = []
    for part in LOWER:
        for path in ([PACKAGE / part] if part.endswith(".py") else sorted((PACKAGE / part).rglob("*.py"))):
            bad = sorted(n for n in _imports(path) if n.startswith(DRAWING))
            if bad:
                offenders.append(f"{path.relative_to(ROOT)}: {', '.join(bad)}")
    assert not offenders, "drawing/widget imports below the presentation layer:\n" + "\n".join(offenders)


def test_every_public_name_resolves():
    import workbench

    missing = [n for n in workbench.__all__ if getattr(workbench, n, None) is None]
    assert not missing, missing


def test_each_name_a_user_types_has_one_home():
    """The registries are keyed by workbench.choices, and the parser offers exactly those names."""
    from workbench import choices
    from workbench.cli.main import build_parser
    from workbench.models import minilm, text as text_models
    from workbench.pretrain import text as pretrain_text
    from workbench.tasks.text import TEXT_TASKS
    from workbench.train.recipe import HEADS

    assert tuple(TEXT_TASKS) == tuple(choices.TEXT_TASKS)
    assert text_models.POOLINGS is choices.POOLINGS and HEADS is choices.HEADS
    assert set(minilm.ENCODER_POOLINGS) == set(choices.POOLINGS) - {"lm"}
    assert pretrain_text.OBJECTIVES is choices.OBJECTIVES and pretrain_text.TOKENIZERS is choices.TOKENIZERS
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    text_cmd = next(a for a in sub["compare"]._actions if a.dest == "domain").choices["text"]
    offered = {a.dest: tuple(a.choices) for a in text_cmd._actions if a.choices}
    assert offered == {"task": tuple(choices.TEXT_TASKS), "backbone": tuple(choices.BACKBONES), "backend": tuple(choices.BACKENDS)}
    lab = next(a for a in sub["lab"]._actions if a.dest == "domain").choices
    assert tuple(lab) == tuple(choices.LAB_EXPERIMENTS)
