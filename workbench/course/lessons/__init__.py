"""The exercises and quizzes of each notebook, registered by id when this package is imported.

One module per notebook (``nbNN.py``); ids start with the notebook's number (``"02.freeze_backbone"``),
so a notebook cell only names the id: ``check("02.freeze_backbone", model)``. Each exercise carries a
cheap fixture, its blank placeholder and a solution, which ``tests/test_exercises.py`` runs.
"""
from . import nb00, nb01, nb02, nb03, nb04, nb05, nb06, nb07, nb08  # noqa: F401 - registering is the import's job
