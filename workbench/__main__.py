"""``python -m workbench`` (also what ``torchrun -m workbench`` runs) is the ``workbench`` command."""
from .cli import main

raise SystemExit(main())
