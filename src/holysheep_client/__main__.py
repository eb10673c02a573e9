"""
``python -m holysheep_client demo`` (or ``holysheep-client demo``): the offline
migration demo; ``--version`` and ``--help`` too.
"""

from __future__ import annotations

import sys

from ._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
