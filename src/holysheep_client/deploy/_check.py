"""
`check`: read manifests (ours or anyone's), validate each against its schema, then run
the cross-object lint rules.

Core kinds are validated offline against the Kubernetes OpenAPI schemas in strict mode
(unknown fields are errors) by ``kubernetes-validate``, imported only when needed: it is
a development dependency, and without it the check says so and goes on. Custom
resources are validated against CRD schemas from a folder the caller names; without
one they are reported as not schema-checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ._crd import CrdSchemas, load_schemas
from ._findings import Doc, Finding, Patch
from ._lint import lint
from ._lint_version import parse_version
from ._meta import Manifest, plain

__all__ = ["check", "findings_json", "load_manifests"]

_CORE_GROUPS = {"", "apps", "batch", "autoscaling", "policy"}
_OBJ = re.compile(r"\{[^{}]*\}")
_OP = re.compile(r"""op\\?["']?\s*:\s*\\?["']?(\w+)""")
_PATH = re.compile(r"""path\\?["']?\s*:\s*\\?["']?(/[^"'\\\s,}]*)""")
_KUBECTL_PATCH = re.compile(
    r"\bkubectl\b.*?\bpatch\s+(?:virtualservices?|vs)(?:\.networking\.istio\.io)?"
    r"[\s/]+([a-z0-9][-a-z0-9.]*)"
)
_NAMESPACE = re.compile(r"(?:\s-n|\s--namespace)[\s=]+([a-z0-9][-a-z0-9]*)")


def _script_patches(text: str, source: str) -> list[Patch]:
    joined = re.sub(r"\\\r?\n", " ", text)
    out = []
    for line in joined.splitlines():
        m = _KUBECTL_PATCH.search(line)
        if m is None or "json" not in line:
            continue
        ops = []
        # ${VAR} would nest braces inside the patch's objects.
        for obj in _OBJ.findall(re.sub(r"\$\{[^}]*\}", "$VAR", line)):
            op, path = _OP.search(obj), _PATH.search(obj)
            if op and path:
                ops.append((op.group(1), path.group(1)))
        ns = _NAMESPACE.search(line)
        out.append(Patch(tuple(ops), source, m.group(1), ns.group(1) if ns else None))
    return out


def _is_patch(data: Any) -> bool:
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(o, Mapping) and "op" in o and "path" in o for o in data)
    )


def _loader() -> type[yaml.SafeLoader]:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_manifests(
    paths: Iterable[str | Path],
) -> tuple[list[Doc], list[Patch], list[Finding]]:
    """
    Read manifests and patches from files.

    YAML (multi-document) and JSON files may hold objects, ``List`` objects, or a JSON
    patch (an array of operations); shell scripts (``.sh``) are searched for
    ``kubectl patch virtualservice ... --type=json`` commands.

    Returns:
        The documents, the patches, and an error finding per file that does not parse.

    Raises:
        OSError: A file cannot be read.
    """
    docs: list[Doc] = []
    patches: list[Patch] = []
    problems: list[Finding] = []
    for p in paths:
        path = Path(p)
        text = path.read_text(encoding="utf-8")
        source = str(p)
        if path.suffix in (".sh", ".bash"):
            patches += _script_patches(text, source)
            continue
        try:
            items = list(yaml.load_all(text, Loader=_loader()))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            problems.append(
                Finding(
                    "error",
                    "schema",
                    source,
                    f"is not valid YAML or JSON{where}",
                    source,
                )
            )
            continue
        for item in items:
            if _is_patch(item):
                ops = tuple((str(o["op"]), str(o["path"])) for o in item)
                patches.append(Patch(ops, source))
            elif isinstance(item, Mapping) and item.get("kind") == "List":
                docs += [
                    Doc(i, source)
                    for i in item.get("items") or []
                    if isinstance(i, Mapping)
                ]
            elif isinstance(item, Mapping):
                docs.append(Doc(item, source))
    return docs, patches, problems


def _group(api_version: str) -> str:
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def _is_core(api_version: str) -> bool:
    group = _group(api_version)
    return group in _CORE_GROUPS or group.endswith(".k8s.io")


def _short(message: str, secret: bool) -> str:
    if secret:
        return "a value of the wrong type or form (not shown: it may be a key)"
    return message if len(message) <= 200 else message[:197] + "..."


class _Validator:
    """
    Schema validation of one check run: the Kubernetes schemas and the CRD folder.
    """

    def __init__(self, crds: CrdSchemas | None, kubernetes_version: str | None) -> None:
        self.crds = crds
        self.version = kubernetes_version
        self.missing: list[str] = []
        try:
            import kubernetes_validate
        except ImportError:
            self.kv: Any = None
            self.missing.append("kubernetes-validate")
        else:
            self.kv = kubernetes_validate
            if self.version is None:
                from kubernetes_validate.utils import latest_version

                self.version = str(latest_version())

    def __repr__(self) -> str:
        return f"<_Validator version={self.version!r} crds={self.crds!r}>"

    def validate(self, doc: Doc) -> list[Finding]:
        api, kind = str(doc.data.get("apiVersion", "")), doc.kind
        if not api or not kind:
            return [
                Finding(
                    "error",
                    "schema",
                    doc.ref,
                    "has no apiVersion or kind",
                    doc.source or None,
                )
            ]
        secret = kind == "Secret"
        if _is_core(api):
            return self._core(doc, secret)
        return self._crd(doc, api, kind, secret)

    def _core(self, doc: Doc, secret: bool) -> list[Finding]:
        kv = self.kv
        if kv is None:
            return []
        try:
            kv.validate(dict(doc.data), self.version, strict=True)
        except kv.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path) or "<root>"
            message = _short(str(exc.message), secret)
            return [
                Finding(
                    "error", "schema", doc.ref, f"{path}: {message}", doc.source or None
                )
            ]
        except kv.SchemaNotFoundError:
            text = f"Kubernetes {self.version} has no schema for {doc.data.get('apiVersion')}"
            return [
                Finding(
                    "warning", "not-schema-checked", doc.ref, text, doc.source or None
                )
            ]
        except kv.VersionNotSupportedError:
            raise ValueError(
                f"kubernetes-validate has no schemas for Kubernetes {self.version}"
            ) from None
        return []

    def _crd(self, doc: Doc, api: str, kind: str, secret: bool) -> list[Finding]:
        if self.crds is None:
            text = "not schema-checked: no CRD schema folder was given (--schemas DIR)"
            return [
                Finding(
                    "warning", "not-schema-checked", doc.ref, text, doc.source or None
                )
            ]
        if (api, kind) not in self.crds:
            where = ", ".join(str(f) for f in self.crds.folders)
            text = f"not schema-checked: no CRD schema for {api} {kind} in {where}"
            return [
                Finding(
                    "warning", "not-schema-checked", doc.ref, text, doc.source or None
                )
            ]
        try:
            errors = self.crds.validate(doc.data)
        except ImportError:
            if "jsonschema" not in self.missing:
                self.missing.append("jsonschema")
            return []
        return [
            Finding(
                "error",
                "schema",
                doc.ref,
                f"{path}: {_short(msg, secret)}",
                doc.source or None,
            )
            for path, msg in errors
        ]


def _supported(version: str) -> None:
    """
    Raise unless kubernetes-validate ships schemas for ``version`` (when installed).
    """
    wanted = parse_version(version)
    try:
        from kubernetes_validate.utils import all_versions
    except ImportError:
        return
    known = sorted(parse_version(v) for v in all_versions())
    if not known[0] <= wanted <= known[-1]:
        low, high = known[0], known[-1]
        raise ValueError(
            f"kubernetes-validate has schemas for Kubernetes {low[0]}.{low[1]} to"
            f" {high[0]}.{high[1]}, not {wanted[0]}.{wanted[1]}"
        )


def check(
    objects: Iterable[Manifest | Mapping[str, Any] | Doc],
    *,
    patches: Sequence[Patch] = (),
    schemas: str | Path | Sequence[str | Path] | None = None,
    kubernetes_version: str | None = None,
    disable: Iterable[str] = (),
) -> list[Finding]:
    """
    Validate manifests against their schemas and run every lint rule over them.

    Args:
        objects: Manifest dataclasses, plain dicts, or `Doc` from `load_manifests`.
        patches: JSON patches to check against the VirtualServices among them.
        schemas: A folder of CRD schemas (KEDA, Istio, ...), or several; without one
            custom resources are reported as not schema-checked (a warning).
        kubernetes_version: The cluster's Kubernetes version (``"1.27"``): its
            schemas apply, and the ``kube-version`` rule reports fields it lacks or
            ignores (default: the newest ``kubernetes-validate`` ships, no version
            rule).
        disable: Rule ids to skip.

    Returns:
        The findings, errors first; the set is fine when none is an error.

    Raises:
        ValueError: Unknown rule, unsupported Kubernetes version, or a schema folder
            that cannot be read.
    """
    docs = [
        o if isinstance(o, Doc) else Doc(plain(o) if isinstance(o, Manifest) else o)
        for o in objects
    ]
    if kubernetes_version is not None:
        _supported(kubernetes_version)
    folders = [schemas] if isinstance(schemas, str | Path) else list(schemas or ())
    try:
        crds = load_schemas(*folders) if folders else None
    except OSError as exc:
        raise ValueError(f"cannot read the schema folder ({exc.strerror})") from None
    validator = _Validator(crds, kubernetes_version)
    skipped = set(disable)
    findings = [f for d in docs for f in validator.validate(d) if f.rule not in skipped]
    for package in validator.missing:
        findings.append(
            Finding(
                "warning",
                "not-schema-checked",
                "check",
                f"the {package} package is not installed (pip install {package}), so"
                f" {'core kinds' if package == 'kubernetes-validate' else 'custom resources'}"
                " were not schema-checked",
            )
        )
    findings += lint(
        docs, patches, disable=skipped, kubernetes_version=kubernetes_version
    )
    rank = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: rank[f.severity])


def findings_json(findings: Sequence[Finding]) -> str:
    """
    The findings as a JSON array (for machines).
    """
    rows = [
        {
            "severity": f.severity,
            "rule": f.rule,
            "subject": f.subject,
            "message": f.message,
            "source": f.source,
        }
        for f in findings
    ]
    return json.dumps(rows, indent=2) + "\n"
