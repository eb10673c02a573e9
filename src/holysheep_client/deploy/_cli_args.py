"""
The argparse parsers of ``python -m holysheep_client.deploy``: a short top-level help
that lists the commands, and one parser per command with its options in groups.
"""

from __future__ import annotations

import argparse
import textwrap
from typing import NoReturn

from ._findings import RULES
from ._values import DEFAULT_IMAGE, DEFAULT_NAMESPACE, REDIS_IMAGE

__all__ = ["COMMANDS", "PROG", "UsageError", "build_parser"]

PROG = "python -m holysheep_client.deploy"
COMMANDS = {
    "render": "print the reference manifests (the default command)",
    "shift": "print the JSON patch that moves traffic to holysheep",
    "check": "validate and lint manifests; exit 1 on any error",
}


class UsageError(Exception):
    """
    A bad option or input: reported in one line, exit status 2.
    """


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=86)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=88)


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


def _add_config(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    p.add_argument(
        "--config",
        metavar="FILE",
        help="client config YAML (ours or the seed's shape); no key is read from the"
        " environment (default: the reference config, legacy -> holysheep)",
    )


def _render(subs: argparse._SubParsersAction[_Parser]) -> None:
    r = subs.add_parser(
        "render",
        help=COMMANDS["render"],
        description=_wrap(
            "Print the reference manifests: multi-document YAML, Namespace first."
            " Options override the --values file, which overrides the defaults."
        ),
        formatter_class=_Formatter,
    )
    given = r.add_argument_group("inputs")
    _add_config(given)
    given.add_argument(
        "--values",
        metavar="FILE",
        help="render options as YAML: replicas, resources, nodeSelector, tolerations,"
        " labels, annotations, probes, image, namespace, ... (see docs/deploy.md)",
    )
    what = r.add_argument_group("what to render")
    what.add_argument("--namespace", help=f"namespace (default: {DEFAULT_NAMESPACE})")
    what.add_argument("--image", help=f"app image (default: {DEFAULT_IMAGE})")
    what.add_argument(
        "--autoscaler",
        choices=("keda", "hpa"),
        help="one autoscaler per Deployment: KEDA ScaledObject or plain HPA"
        " (default: keda)",
    )
    what.add_argument(
        "--holysheep-weight",
        type=_weight,
        metavar="N",
        help="percent of the VirtualService's traffic to the holysheep track, 0..100"
        " (default: the config's weights)",
    )
    what.add_argument(
        "--scrape",
        choices=("annotations", "servicemonitor", "none"),
        metavar="HOW",
        help="how Prometheus finds the metrics KEDA scales on: annotations"
        " (prometheus.io on the pods), servicemonitor (Prometheus Operator) or none"
        " (default: annotations)",
    )
    what.add_argument(
        "--exclude-kind",
        action="append",
        metavar="KIND",
        help="leave out a kind your platform owns, e.g. Namespace, ResourceQuota"
        " (repeatable)",
    )
    what.add_argument(
        "--secret-from-env",
        action="append",
        metavar="VAR",
        help="render a Secret holding this environment variable's value (a provider's"
        " api_key_env; repeatable). Without it no key is ever rendered and the pods"
        " reference an existing Secret",
    )
    mesh = r.add_argument_group("mesh")
    mesh.add_argument(
        "--gateway",
        metavar="[NS/]NAME",
        help="also bind the split to this Istio Gateway (the mesh always); needs"
        " --host",
    )
    mesh.add_argument(
        "--host",
        action="append",
        metavar="HOST",
        help="a name callers use through the gateway, e.g. api.example.com"
        " (repeatable)",
    )
    migrating = r.add_argument_group("migration")
    migrating.add_argument(
        "--migration",
        choices=("mesh", "client"),
        help="mesh: one Deployment per provider, the VirtualService moves traffic and"
        " each ConfigMap leaves the migration out; client: one Deployment whose"
        " ConfigMap carries the whole migration (phases, gate, shadow), shared"
        " through Redis (needs --redis) (default: mesh)",
    )
    shared = r.add_argument_group("shared state")
    shared.add_argument(
        "--redis",
        choices=("none", "embedded", "external"),
        help="shared breaker state and rate limits across pods: embedded renders a"
        " Redis Deployment, Service and NetworkPolicy; external uses --redis-url;"
        " both set shared_state.url in the ConfigMaps (default: none)",
    )
    shared.add_argument(
        "--redis-url",
        metavar="URL",
        help="the external Redis, e.g. redis://redis.infra.svc:6379/0 (no password:"
        " it goes into a ConfigMap)",
    )
    shared.add_argument(
        "--redis-image",
        metavar="IMAGE",
        help=f"the embedded Redis's image (default: {REDIS_IMAGE.split('@')[0]},"
        " pinned by its digest)",
    )
    out = r.add_argument_group("output")
    out.add_argument(
        "--format",
        choices=("yaml", "json"),
        default="yaml",
        help="output format (default: %(default)s)",
    )
    out.add_argument("--out", metavar="DIR", help="write one file per object into DIR")
    out.add_argument(
        "--kind",
        action="append",
        metavar="KIND",
        help="only objects of this kind (repeatable, e.g. --kind Deployment)",
    )


def _shift(subs: argparse._SubParsersAction[_Parser]) -> None:
    s = subs.add_parser(
        "shift",
        help=COMMANDS["shift"],
        description=_wrap(
            "Print an RFC 6902 JSON patch that gives N% of the VirtualService's"
            " traffic to the migration target (holysheep) and the rest to the source,"
            " with 'test' operations guarding the patched indexes."
        ),
        formatter_class=_Formatter,
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


def _check(subs: argparse._SubParsersAction[_Parser]) -> None:
    c = subs.add_parser(
        "check",
        help=COMMANDS["check"],
        description=_wrap(
            "Validate manifests (YAML, JSON, or shell scripts with kubectl patch)"
            " against the Kubernetes schemas (strict, offline) and CRD schemas, then"
            " lint them across objects."
        ),
        epilog="rules:\n"
        + "\n".join(
            textwrap.fill(
                v, width=86, initial_indent=f"  {k:<22} ", subsequent_indent=" " * 25
            )
            for k, v in RULES.items()
        ),
        formatter_class=_Formatter,
    )
    c.add_argument("files", nargs="+", metavar="FILE", help="manifest files")
    c.add_argument(
        "--schemas",
        action="append",
        metavar="DIR",
        help="folder of CRD schemas (KEDA, Istio, ...; repeatable);"
        " without it custom resources are not schema-checked",
    )
    c.add_argument(
        "--kube-version",
        "--kubernetes-version",
        dest="kubernetes_version",
        metavar="V",
        help="the cluster's Kubernetes version, e.g. 1.27: its schemas apply, and"
        " fields it lacks or ignores are errors (default: the newest bundled)",
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


def build_parser(version: str) -> argparse.ArgumentParser:
    """
    The whole command line: the top-level parser with one subparser per command.

    Args:
        version: What ``--version`` prints after the program's name.
    """
    commands = "\n".join(f"  {name:<8} {text}" for name, text in COMMANDS.items())
    top = _Parser(
        prog=PROG,
        usage="%(prog)s [COMMAND] [options]",
        description=_wrap(
            "The reference Kubernetes manifests for holysheep_client, and tools to"
            " shift traffic and check manifests. Without a command, renders."
        )
        + f"\n\ncommands:\n{commands}",
        epilog=f"Run '{PROG} COMMAND --help' for a command's options.\n"
        "Exit status: 0 fine, 1 check found an error, 2 bad options or input.",
        formatter_class=_Formatter,
    )
    top.add_argument(
        "--version",
        action="version",
        version=f"{PROG} {version}",
        help="print the version and exit",
    )
    subs = top.add_subparsers(
        dest="command", prog=PROG, metavar="COMMAND", help=argparse.SUPPRESS
    )
    _render(subs)
    _shift(subs)
    _check(subs)
    return top
