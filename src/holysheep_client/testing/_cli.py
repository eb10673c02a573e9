"""
``python -m holysheep_client.testing serve``: the fake provider on a loopback port.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from ._faults import Fault
from ._provider import DEFAULT_API_KEY, DEFAULT_MODELS, DEFAULT_REPLY, FakeProvider
from ._ready_scripts import script_from_spec
from ._server import serve

__all__ = ["API_KEY_ENV", "PROG", "main"]

PROG = "python -m holysheep_client.testing"

#: The environment variable `FakeServer` passes the key in (never on the command line).
API_KEY_ENV = "HOLYSHEEP_FAKE_API_KEY"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A fake LLM provider speaking the Anthropic and OpenAI formats.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    s = sub.add_parser("serve", help="serve the fake provider on a loopback port")
    s.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)"
    )
    s.add_argument(
        "--port", type=int, default=0, help="port to bind; 0 picks a free one"
    )
    s.add_argument(
        "--api-key",
        default=None,
        help=f"the key requests must carry (default: ${API_KEY_ENV}, else"
        f" {DEFAULT_API_KEY!r})",
    )
    s.add_argument("--any-key", action="store_true", help="accept any non-empty key")
    s.add_argument("--reply", default=DEFAULT_REPLY, help="the reply text")
    s.add_argument(
        "--script",
        default=None,
        metavar="JSON",
        help='a script spec, e.g. \'{"tool_loop": {"tool": "t", "input": {}}}\''
        ' or \'{"json_answer": {...}}\' or \'{"reply": {"text": ..., "thinking": ...}}\'',
    )
    s.add_argument(
        "--no-images",
        action="store_true",
        help="refuse images as a text-only model does",
    )
    s.add_argument(
        "--latency", type=float, default=0.0, help="seconds before every response"
    )
    s.add_argument("--seed", type=int, default=0, help="seed for probabilistic faults")
    s.add_argument(
        "--model",
        action="append",
        dest="models",
        metavar="ID",
        help="a model id for /models (repeatable; default: a built-in list)",
    )
    s.add_argument(
        "--model-map",
        action="append",
        default=[],
        metavar="REQUESTED=REPORTED",
        help="report REPORTED when REQUESTED is asked for (repeatable)",
    )
    s.add_argument(
        "--faults",
        default=None,
        metavar="JSON|@FILE",
        help="the initial fault plan: a JSON list of faults, or @path to a file",
    )
    s.add_argument(
        "--parent-pid",
        type=int,
        default=None,
        help="exit when this process is gone (default: the parent; 0 disables)",
    )
    return parser


def _faults(spec: str | None) -> list[Fault]:
    if spec is None:
        return []
    text = Path(spec[1:]).read_text() if spec.startswith("@") else spec
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError("--faults must be a JSON list")
    return [Fault.from_dict(item) for item in data]


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run the command line; returns the exit status (0 for ``--help`` and
    ``--version``, 2 for a usage error).

    Args:
        argv: The arguments (``sys.argv[1:]`` when ``None``).
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else 2
    model_map: dict[str, str] = {}
    for item in args.model_map:
        requested, sep, reported = item.partition("=")
        if not sep:
            print(
                f"--model-map expects REQUESTED=REPORTED, got {item!r}", file=sys.stderr
            )
            return 2
        model_map[requested] = reported
    try:
        faults = _faults(args.faults)
    except (OSError, ValueError, TypeError) as exc:
        print(f"--faults: {exc}", file=sys.stderr)
        return 2
    try:
        script = script_from_spec(json.loads(args.script)) if args.script else None
    except (ValueError, TypeError) as exc:
        print(f"--script: {exc}", file=sys.stderr)
        return 2
    api_key = (
        None
        if args.any_key
        else (args.api_key or os.environ.get(API_KEY_ENV) or DEFAULT_API_KEY)
    )
    provider = FakeProvider(
        api_key=api_key,
        reply=args.reply,
        script=script,
        images=not args.no_images,
        models=args.models or DEFAULT_MODELS,
        model_map=model_map,
        faults=faults,
        seed=args.seed,
        latency=args.latency,
    )
    host = f"[{args.host}]" if ":" in args.host else args.host

    def ready(port: int) -> None:
        print(f"listening on http://{host}:{port}", flush=True)

    asyncio.run(
        serve(
            provider,
            host=args.host,
            port=args.port,
            parent_pid=args.parent_pid,
            ready=ready,
        )
    )
    return 0
