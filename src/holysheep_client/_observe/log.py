"""
The package logger: ``logging.getLogger("holysheep_client")``.
"""

from __future__ import annotations

import logging

__all__ = ["logger"]

logger = logging.getLogger("holysheep_client")
