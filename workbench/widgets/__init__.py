"""ipywidgets panels that edit a Recipe and call the experiments layer (no training logic here).

``FreezePanel`` (what trains), ``SchedulePanel`` (how fast, with a preview), ``TrainPanel`` (Run/Stop,
live plot), ``ComparePanel`` (recipes x budgets x seeds), ``playground()`` (all four on one recipe),
and ``serve_app()`` (the playground as a Voila app).
"""
from .app import app_command, serve_app
from .compare import ComparePanel
from .freeze import FreezePanel
from .playground import Playground, playground
from .schedule import SchedulePanel
from .train import TrainPanel

__all__ = ["FreezePanel", "SchedulePanel", "TrainPanel", "ComparePanel", "Playground", "playground", "serve_app",
           "app_command"]
