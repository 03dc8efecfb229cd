"""``python -m fastplate`` runs the ``fastplate`` command."""
import sys

from .cli import main

sys.exit(main())
