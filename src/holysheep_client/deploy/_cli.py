"""
``python -m holysheep_client.deploy``: render the reference manifests, print a traffic
shift patch, or check manifests.

Exit codes: 0 fine, 1 ``check`` found an error, 2 a bad option or input (one line on
stderr says why).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import IO, NoReturn

from .._config import ClientConfig
from .._config.environ import process_environ
from ._check import check, findings_json, load_manifests
from ._findings import RULES
from ._plan import NoKeys
from ._reference import (
    DEFAULT_IMAGE,
    DEFAULT_NAMESPACE,
    reference_config,
    reference_stack,
)
from ._render import prerequisites, render, write_dir
from ._shift import kubectl_command, shift_patch

__all__ = ["main"]

PROG = "python -m holysheep_client.deploy"
COMMANDS = ("render", "shift", "check")


class _UsageError(Exception):
    """
    A bad option: reported in one line, exit status 2.
    """


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _weight(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "must be an integer between 0 and 100"
        ) from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be an integer between 0 and 100")
    return value


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        metavar="FILE",
        help="client config YAML (ours or the seed's shape); no key is read from the"
        " environment (default: the reference config, legacy -> holysheep)",
    )


def _build() -> argparse.ArgumentParser:
    top = _Parser(
        prog=PROG,
        usage="%(prog)s [render] [options]\n"
        "       %(prog)s shift (--weight N | --phase NAME) [options]\n"
        "       %(prog)s check FILE... [options]",
        description="The reference Kubernetes manifests for holysheep_client, and tools"
        " to shift traffic and check manifests. Without a command, renders.\n"
        "Exit status: 0 fine, 1 check found an error, 2 bad options or input.\n"
        "Each command's options follow.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subs = top.add_subparsers(dest="command", metavar="{render,shift,check}")
    r = subs.add_parser(
        "render",
        help="print the reference manifests (the default command)",
        description="Print the reference manifests: multi-document YAML, Namespace first.",
    )
    _add_config(r)
    r.add_argument(
        "--namespace",
        default=DEFAULT_NAMESPACE,
        help="namespace (default: %(default)s)",
    )
    r.add_argument(
        "--image", default=DEFAULT_IMAGE, help="app image (default: %(default)s)"
    )
    r.add_argument(
        "--autoscaler",
        choices=("keda", "hpa"),
        default="keda",
        help="one autoscaler per Deployment: KEDA ScaledObject or plain HPA"
        " (default: %(default)s)",
    )
    r.add_argument(
        "--holysheep-weight",
        type=_weight,
        metavar="N",
        help="percent of the VirtualService's traffic to the holysheep track, 0..100"
        " (default: the config's weights)",
    )
    r.add_argument(
        "--format",
        choices=("yaml", "json"),
        default="yaml",
        help="output format (default: %(default)s)",
    )
    r.add_argument("--out", metavar="DIR", help="write one file per object into DIR")
    r.add_argument(
        "--kind",
        action="append",
        metavar="KIND",
        help="only objects of this kind (repeatable, e.g. --kind Deployment)",
    )
    r.add_argument(
        "--secret-from-env",
        action="append",
        metavar="VAR",
        help="render a Secret holding this environment variable's value (a provider's"
        " api_key_env; repeatable). Without it no key is ever rendered and the pods"
        " reference an existing Secret",
    )
    r.add_argument(
        "--redis",
        choices=("none", "embedded", "external"),
        default="none",
        help="shared breaker state and rate limits across pods: embedded renders a"
        " Redis Deployment, Service and NetworkPolicy; external uses --redis-url;"
        " both set shared_state.url in the ConfigMaps (default: %(default)s)",
    )
    r.add_argument(
        "--redis-url",
        metavar="URL",
        help="the external Redis, e.g. redis://redis.infra.svc:6379/0 (no password:"
        " it goes into a ConfigMap)",
    )
    s = subs.add_parser(
        "shift",
        help="print the JSON patch that moves traffic to holysheep",
        description="Print an RFC 6902 JSON patch that gives N% of the VirtualService's"
        " traffic to the migration target (holysheep) and the rest to the source, with"
        " 'test' operations guarding the patched indexes.",
    )
    group = s.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "--weight", type=_weight, metavar="N", help="target's share, 0..100"
    )
    group.add_argument("--phase", metavar="NAME", help="use a migration phase's weight")
    _add_config(s)
    s.add_argument(
        "--namespace",
        default=DEFAULT_NAMESPACE,
        help="namespace (default: %(default)s)",
    )
    s.add_argument(
        "--from",
        dest="source_file",
        metavar="FILE",
        help="find the route and destination indexes in this VirtualService",
    )
    s.add_argument(
        "--kubectl", action="store_true", help="print the kubectl command instead"
    )
    c = subs.add_parser(
        "check",
        help="validate and lint manifests; exit 1 on any error",
        description="Validate manifests (YAML, JSON, or shell scripts with kubectl"
        " patch) against the Kubernetes schemas (strict, offline) and CRD schemas,"
        " then lint them across objects.",
        epilog="rules:\n" + "\n".join(f"  {k:<22} {v}" for k, v in RULES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("files", nargs="+", metavar="FILE", help="manifest files")
    c.add_argument(
        "--schemas",
        metavar="DIR",
        help="folder of CRD schemas (KEDA, Istio);"
        " without it custom resources are not schema-checked",
    )
    c.add_argument(
        "--kubernetes-version",
        metavar="V",
        help="Kubernetes version of the schemas (default: newest bundled)",
    )
    c.add_argument(
        "--disable", action="append", metavar="RULE", help="skip a rule (repeatable)"
    )
    c.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="findings as text lines or JSON (default: %(default)s)",
    )
    top.epilog = "\n".join(sub.format_help() for sub in (r, s, c))
    return top


def _config(path: str | None) -> ClientConfig:
    if path is None:
        return reference_config()
    return ClientConfig.from_yaml(path, environ=NoKeys())


def _render(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    names = args.secret_from_env or ()
    objects = reference_stack(
        _config(args.config),
        namespace=args.namespace,
        image=args.image,
        autoscaler=args.autoscaler,
        holysheep_weight=args.holysheep_weight,
        secret_from_env=names,
        environ=process_environ() if names else None,
        redis=args.redis,
        redis_url=args.redis_url,
    )
    if args.kind:
        wanted = {k.lower() for k in args.kind}
        known = {o.kind.lower() for o in objects}
        if wanted - known:
            raise _UsageError(
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
    header = [f"Rendered by {PROG}.", *notes]
    out.write(render(objects, header=header))
    return 0


def _shift(args: argparse.Namespace, out: IO[str]) -> int:
    config = _config(args.config)
    migration = config.migration
    source, target = (
        (migration.source, migration.target)
        if migration
        else (
            "legacy",
            "holysheep",
        )
    )
    weight = args.weight
    if args.phase is not None:
        phases = {p.name: p.weight for p in migration.phases} if migration else {}
        if args.phase not in phases:
            raise _UsageError(f"argument --phase: no phase named {args.phase!r}")
        weight = round(phases[args.phase])
    vs = None
    if args.source_file:
        docs, _, _ = load_manifests([args.source_file])
        found = [d.data for d in docs if d.kind == "VirtualService"]
        if len(found) != 1:
            raise _UsageError("argument --from: expected exactly one VirtualService")
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
        args_in[0] not in COMMANDS and args_in[0] not in ("-h", "--help")
    ):
        args_in.insert(0, "render")
    parser = _build()
    try:
        args = parser.parse_args(args_in)
        if args.command == "shift":
            return _shift(args, sys.stdout)
        if args.command == "check":
            return _check(args, sys.stdout)
        return _render(args, sys.stdout, sys.stderr)
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except (_UsageError, ValueError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        where = (
            f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
        )
        line = f"{reason}{where}".replace("\n", " ")
        print(f"{PROG}: error: {line}", file=sys.stderr)
        return 2
    finally:
        sys.stdout.flush()
