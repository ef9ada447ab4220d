"""The ``workbench`` command: one module per command family (vision, text, lab), the parser in :mod:`.main`."""
from .main import build_parser, main

__all__ = ["build_parser", "main"]
