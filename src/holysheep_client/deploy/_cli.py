"""
``python -m holysheep_client.deploy``: render the reference manifests, print a traffic
shift patch, or check manifests.

Exit codes: 0 fine, 1 ``check`` found an error, 2 a bad option or input (one line on
stderr says why).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import IO

from .. import ClientConfig, __version__
from ._check import check, findings_json, load_manifests
from ._cli_args import COMMANDS, PROG, UsageError, build_parser
from ._plan import NoKeys
from ._reference import reference_config, reference_stack
from ._render import prerequisites, render, write_dir
from ._shift import kubectl_command, shift_patch
from ._values import ValuesConfig

__all__ = ["main"]


def _config(path: str | None) -> ClientConfig:
    if path is None:
        return reference_config()
    return ClientConfig.from_yaml(path, environ=NoKeys())


def _values(args: argparse.Namespace) -> ValuesConfig:
    """
    The values file (or the defaults) with the command line's options over it.
    """
    base = ValuesConfig.from_yaml(args.values) if args.values else ValuesConfig()
    mode = args.redis or base.redis.mode
    if mode == "external" and not (args.redis_url or base.redis.url):
        raise UsageError("argument --redis-url: required with --redis external")
    if args.redis_url and mode != "external":
        raise UsageError("argument --redis-url: only with --redis external")
    redis: dict[str, str] = {}
    for key, value in (
        ("mode", args.redis),
        ("url", args.redis_url),
        ("image", args.redis_image),
    ):
        if value is not None:
            redis[key] = value
    return base.merged(
        namespace=args.namespace,
        image=args.image,
        autoscaler=args.autoscaler,
        holysheep_weight=args.holysheep_weight,
        migration=args.migration,
        scrape=args.scrape,
        gateway=args.gateway,
        hosts=tuple(args.host) if args.host else None,
        exclude_kinds=(
            (*base.exclude_kinds, *args.exclude_kind) if args.exclude_kind else None
        ),
        redis=redis or None,
    )


def _render(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    names = args.secret_from_env or ()
    objects = reference_stack(
        _config(args.config),
        _values(args),
        secret_from_env=names,
        environ=os.environ if names else None,
    )
    if args.kind:
        wanted = {k.lower() for k in args.kind}
        known = {o.kind.lower() for o in objects}
        if wanted - known:
            raise UsageError(
                f"argument --kind: no {sorted(wanted - known)[0]} in the set"
            )
        objects = tuple(o for o in objects if o.kind.lower() in wanted)
    notes = prerequisites(objects)
    if names:
        print("warning: the output holds API keys; never commit it", file=err)
    if args.out:
        for path in write_dir(objects, args.out, format=args.format):
            print(path, file=out)
        for line in notes:
            print(line, file=err)
        return 0
    if args.format == "json":
        out.write(render(objects, format="json"))
        for line in notes:
            print(line, file=err)
        return 0
    header = [f"Rendered by {PROG} {__version__}.", *notes]
    out.write(render(objects, header=header))
    return 0


def _shift(args: argparse.Namespace, out: IO[str]) -> int:
    config = _config(args.config)
    migration = config.migration
    source, target = (
        (migration.source, migration.target) if migration else ("legacy", "holysheep")
    )
    weight = args.weight
    if args.phase is not None:
        phases = {p.name: p.weight for p in migration.phases} if migration else {}
        if args.phase not in phases:
            raise UsageError(f"argument --phase: no phase named {args.phase!r}")
        weight = round(phases[args.phase])
    vs = None
    if args.source_file:
        docs, _, _ = load_manifests([args.source_file])
        found = [d.data for d in docs if d.kind == "VirtualService"]
        if len(found) != 1:
            raise UsageError("argument --from: expected exactly one VirtualService")
        vs = found[0]
    patch = shift_patch(weight, source=source, target=target, virtual_service=vs)
    if args.kubectl:
        name = str((vs or {}).get("metadata", {}).get("name", "deerflow-api"))
        print(kubectl_command(patch, namespace=args.namespace, name=name), file=out)
    else:
        out.write(json.dumps(patch, indent=2) + "\n")
    return 0


def _check(args: argparse.Namespace, out: IO[str]) -> int:
    docs, patches, problems = load_manifests(args.files)
    findings = problems + check(
        docs,
        patches=patches,
        schemas=args.schemas,
        kubernetes_version=args.kubernetes_version,
        disable=args.disable or (),
    )
    errors = sum(f.severity == "error" for f in findings)
    if args.format == "json":
        out.write(findings_json(findings))
    else:
        for f in findings:
            print(f, file=out)
        warnings = sum(f.severity == "warning" for f in findings)
        notes = len(findings) - errors - warnings
        print(
            f"{len(docs)} objects, {len(patches)} patches: {errors} errors,"
            f" {warnings} warnings, {notes} notes",
            file=out,
        )
    return 1 if errors else 0


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run the command line.

    Args:
        argv: The arguments (``sys.argv[1:]`` by default).

    Returns:
        The exit status: 0 fine, 1 ``check`` found errors, 2 bad options or input.
    """
    args_in = list(sys.argv[1:] if argv is None else argv)
    if not args_in or (
        args_in[0] not in COMMANDS and args_in[0] not in ("-h", "--help", "--version")
    ):
        args_in.insert(0, "render")
    parser = build_parser(__version__)
    try:
        args = parser.parse_args(args_in)
        if args.command == "shift":
            return _shift(args, sys.stdout)
        if args.command == "check":
            return _check(args, sys.stdout)
        return _render(args, sys.stdout, sys.stderr)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except (UsageError, ValueError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        where = (
            f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
        )
        line = f"{reason}{where}".replace("\n", " ")
        print(f"{PROG}: error: {line}", file=sys.stderr)
        return 2
    finally:
        sys.stdout.flush()
