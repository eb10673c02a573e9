"""
The ``holysheep-client`` command (also ``python -m holysheep_client``): the demo.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from . import __version__

__all__ = ["main", "program_name", "wants_colour"]

MODULE_PROG = "python -m holysheep_client"


def program_name(argv0: str | None = None) -> str:
    """
    What the running command is called: the console script's own name, or
    ``python -m holysheep_client`` when run as a module.

    Args:
        argv0: ``sys.argv[0]`` by default.
    """
    path = Path(sys.argv[0] if argv0 is None else argv0)
    if not path.name or path.name in {"__main__.py", "-c", "-m"}:
        return MODULE_PROG
    return path.name


def wants_colour(out: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """
    Colour only for a terminal, and never when ``NO_COLOR`` is set (no-color.org).

    Args:
        out: Where the output goes.
        environ: Where ``NO_COLOR`` is read (the process environment by default).
    """
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="holysheep-client: resilient, multi-provider LLM calls.",
    )
    parser.add_argument("--version", action="version", version=f"{prog} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="run the offline migration demo (two fake providers on loopback)",
        description="A compressed migration from legacy to holysheep, judged by the"
        " migration gate on shadow traffic (the canary holds on a wrong JSON answer"
        " until holysheep is fixed), with an outage in the middle, on two fake"
        " providers on loopback: no network, no keys.",
    )
    demo.add_argument(
        "--phase-seconds",
        type=float,
        default=1.5,
        help="length of each of 4 phases (a held phase lasts longer)",
    )
    demo.add_argument("--concurrency", type=int, default=16, help="callers at once")
    demo.add_argument(
        "--no-outage", action="store_true", help="skip the mid-run holysheep outage"
    )
    demo.add_argument(
        "--error-rate", type=float, default=0.05, help="share of 503s from holysheep"
    )
    demo.add_argument(
        "--tail-rate",
        type=float,
        default=0.05,
        help="share of legacy answers 0.6 s slower",
    )
    demo.add_argument("--seed", type=int, default=7, help="seed for faults and routing")
    return parser


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """
    Run the command line; returns the exit status.

    ``demo`` exits 0 when no caller saw an error, else 1; ``--help`` and
    ``--version`` exit 0, a usage error 2.

    Args:
        argv: The arguments (``sys.argv[1:]`` when ``None``).
        prog: The name to report (`program_name` by default).
    """
    name = program_name() if prog is None else prog
    parser = _parser(name)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else 2
    if (
        not 0 < args.phase_seconds <= 60
        or args.concurrency < 1
        or not 0 <= args.error_rate <= 1
        or not 0 <= args.tail_rate <= 1
    ):
        try:
            parser.error(
                "expected 0 < --phase-seconds <= 60, --concurrency >= 1,"
                " and rates between 0 and 1"
            )
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 2
    from ._demo import run_demo

    stats = asyncio.run(
        run_demo(
            phase_seconds=args.phase_seconds,
            concurrency=args.concurrency,
            outage=not args.no_outage,
            error_rate=args.error_rate,
            tail_rate=args.tail_rate,
            seed=args.seed,
            out=sys.stdout,
            colour=wants_colour(sys.stdout),
        )
    )
    return 0 if sum(s.errors for s in stats.values()) == 0 else 1
