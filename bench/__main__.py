"""
``python -m bench``: see `bench._runner.main`.
"""

from __future__ import annotations

import sys

from ._runner import main

__all__: list[str] = []

sys.exit(main())
