"""
Lint rules about references and names: Secrets (placeholders, literal values),
dangling Secret/ConfigMap/workload references, unused ConfigMaps and DNS-1123 names.

No finding ever quotes a Secret's value; they name keys only.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from ._findings import Doc, Finding, Patch, Severity
from ._index import Index, PodTemplate

__all__ = ["REF_RULES", "is_placeholder"]

_PLACEHOLDER = re.compile(
    r"(?ix)^(?:"
    r"your[-_ ].*|.*[-_]here|<[^>]*>|\$\{?[a-z_][a-z0-9_]*\}?|"
    r"change[-_ ]?me|replace[-_ ]?me|todo|tbd|fixme|placeholder|example|dummy|secret|"
    r"none|null|password|api[-_]?key|"
    r".*x{4,}.*|.*\*{3,}.*|.*\.\.\..*"
    r")$"
)
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_LABEL_KINDS = {"Namespace", "Service"}


def is_placeholder(value: str) -> bool:
    """
    Whether a Secret value looks like a placeholder (``YOUR_API_KEY``, ``sk-xxxxx``, ...).
    """
    return not value.strip() or bool(_PLACEHOLDER.match(value.strip()))


def _f(doc: Doc, rule: str, message: str, severity: Severity = "error") -> Finding:
    return Finding(severity, rule, doc.ref, message, doc.source or None)


def _secret_values(doc: Doc) -> Iterator[tuple[str, str]]:
    for key, value in (doc.data.get("stringData") or {}).items():
        yield str(key), str(value)
    for key, value in (doc.data.get("data") or {}).items():
        try:
            text = base64.b64decode(str(value), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            text = str(value)
        yield str(key), text


def _secrets(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for doc in index.of_kind("Secret"):
        values = list(_secret_values(doc))
        fake = sorted(k for k, v in values if is_placeholder(v))
        real = sorted(k for k, v in values if not is_placeholder(v))
        if fake:
            yield _f(
                doc,
                "placeholder-secret",
                f"key(s) {', '.join(fake)} hold a placeholder; applying this file"
                " overwrites the real key in the cluster on every apply: reference a"
                " Secret created out of band instead",
            )
        if real:
            yield _f(
                doc,
                "secret-in-manifest",
                f"key(s) {', '.join(real)} are literal values in a manifest; every apply"
                " overwrites the live Secret (a rotated key too), and the file must"
                " never be committed",
                "warning",
            )


def _references(template: PodTemplate) -> Iterator[tuple[str, str, str | None, bool]]:
    """
    (kind, name, key or None, optional) for every ConfigMap/Secret the pods use.
    """
    spec = template.spec
    containers = list(spec.get("containers") or []) + list(
        spec.get("initContainers") or []
    )
    for c in containers:
        for env in c.get("env") or []:
            source = env.get("valueFrom") or {}
            for field, kind in (
                ("configMapKeyRef", "ConfigMap"),
                ("secretKeyRef", "Secret"),
            ):
                ref = source.get(field)
                if ref:
                    yield (
                        kind,
                        ref.get("name", ""),
                        ref.get("key"),
                        bool(ref.get("optional")),
                    )
        for src in c.get("envFrom") or []:
            for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                ref = src.get(field)
                if ref:
                    yield kind, ref.get("name", ""), None, bool(ref.get("optional"))
    for vol in spec.get("volumes") or []:
        if "configMap" in vol:
            cm = vol["configMap"] or {}
            keys = [i.get("key") for i in cm.get("items") or []] or [None]
            for key in keys:
                yield "ConfigMap", cm.get("name", ""), key, bool(cm.get("optional"))
        if "secret" in vol:
            sec = vol["secret"] or {}
            keys = [i.get("key") for i in sec.get("items") or []] or [None]
            for key in keys:
                yield (
                    "Secret",
                    sec.get("secretName", ""),
                    key,
                    bool(sec.get("optional")),
                )


def _dangling(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    external: dict[tuple[Doc, str], set[str]] = {}
    for template in index.templates():
        owner = template.owner
        for kind, name, key, optional in _references(template):
            target = index.get(kind, owner.namespace, name)
            if target is None:
                if kind == "Secret":
                    keys = external.setdefault((owner, name), set())
                    if key:
                        keys.add(key)
                elif not optional:
                    yield _f(
                        owner,
                        "dangling-ref",
                        f"uses ConfigMap {name}, which is not"
                        " in the set; its pods cannot start",
                    )
                continue
            data = {
                **(target.data.get("data") or {}),
                **(target.data.get("binaryData") or {}),
            }
            if kind == "Secret":
                data.update(target.data.get("stringData") or {})
            if key and key not in data and not optional:
                yield _f(
                    owner,
                    "dangling-ref",
                    f"uses key {key} of {kind} {name}, which has no such key",
                )
        account = template.spec.get("serviceAccountName")
        if (
            account
            and account != "default"
            and not index.get("ServiceAccount", owner.namespace, account)
        ):
            yield _f(
                owner,
                "dangling-ref",
                f"runs as ServiceAccount {account}, which is not in the set",
                "warning",
            )
    for (owner, name), keys in external.items():
        shown = f" (keys {', '.join(sorted(keys))})" if keys else ""
        yield _f(
            owner,
            "dangling-ref",
            f"expects Secret {name}{shown} to exist already;"
            " create it out of band before the pods start",
            "info",
        )
    for a in index.autoscalers():
        if a.kind and not index.get(a.kind, a.scaler.namespace, a.name):
            yield _f(
                a.scaler,
                "dangling-ref",
                f"scales {a.kind}/{a.name}, which is not in the set: the autoscaler"
                " scales nothing (a misspelt name?) while the workload it was meant"
                " for keeps its replica count",
            )


def _unused_configmaps(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    templates = list(index.templates())
    if not templates:
        return
    used = {
        (t.owner.namespace, name)
        for t in templates
        for kind, name, _, _ in _references(t)
        if kind == "ConfigMap"
    }
    for doc in index.of_kind("ConfigMap"):
        if (doc.namespace, doc.name) not in used:
            yield _f(
                doc,
                "unused-configmap",
                "no workload in the set mounts or reads it,"
                " so its settings never reach a pod",
                "warning",
            )


def _names(doc: Doc) -> Iterator[tuple[str, str, bool]]:
    """
    (what, name, must be a label) for the object's name and the names inside it.
    """
    yield "name", doc.name, doc.kind in _LABEL_KINDS
    spec = doc.data.get("spec") or {}
    if doc.kind == "Service":
        for port in spec.get("ports") or []:
            if "name" in port:
                yield "port name", str(port["name"]), True


def _dns1123(index: Index, patches: Sequence[Patch]) -> Iterator[Finding]:
    for doc in index.docs:
        for what, name, label in _names(doc):
            limit, pattern = (63, _LABEL) if label else (253, _SUBDOMAIN)
            if len(name) > limit or not pattern.match(name):
                kind = "label" if label else "subdomain"
                yield _f(
                    doc,
                    "dns1123",
                    f"{what} {name!r} is not a DNS-1123 {kind}"
                    f" (lower-case letters, digits, '-', at most {limit})",
                )
    for template in index.templates():
        for c in template.containers():
            name = str(c.get("name", ""))
            if len(name) > 63 or not _LABEL.match(name):
                yield _f(
                    template.owner,
                    "dns1123",
                    f"container name {name!r} is not a DNS-1123 label",
                )
            for port in c.get("ports") or []:
                pname = str(port.get("name", "x"))
                if (
                    len(pname) > 15
                    or not _LABEL.match(pname)
                    or "--" in pname
                    or not (re.search("[a-z]", pname))
                ):
                    yield _f(
                        template.owner,
                        "dns1123",
                        f"port name {pname!r} is not an"
                        " IANA service name (at most 15 of a-z, 0-9, '-')",
                    )


_Rule = Callable[[Index, Sequence[Patch]], Iterable[Finding]]
REF_RULES: tuple[_Rule, ...] = (
    _secrets,
    _dangling,
    _unused_configmaps,
    _dns1123,
)
