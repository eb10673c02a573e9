"""
``python -m bench``: see `bench._runner.main`.
"""

from __future__ import annotations

import sys

from ._runner import main

__all__: list[str] = []

if sys.argv[1:2] == ["otel"]:
    from .otel_overhead import main as otel_main

    sys.exit(otel_main(sys.argv[2:]))
sys.exit(main())
