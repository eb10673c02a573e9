"""
The manifest dataclasses: camelCase out, None left out, declared order, frozen.
"""

from __future__ import annotations

import dataclasses
import inspect

import pytest

import holysheep_client.deploy as deploy
from holysheep_client.deploy import (
    Container,
    ContainerPort,
    Deployment,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    ObjectMeta,
    ResourceRequirements,
    Secret,
)
from holysheep_client.deploy._meta import K8sObject, camel


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("match_labels", "matchLabels"),
        ("termination_grace_period_seconds", "terminationGracePeriodSeconds"),
        ("from_", "from"),
        ("exec_", "exec"),
        ("name", "name"),
    ],
    ids=["two-words", "many-words", "keyword", "exec", "one-word"],
)
def test_camel_case_keys(name: str, key: str) -> None:
    """Snake_case field names become camelCase keys, a trailing underscore dropped."""
    assert camel(name) == key


def test_none_fields_are_left_out_and_order_is_declared() -> None:
    """Fields set to None are omitted and keys follow the API reference, not the alphabet."""
    c = Container(
        name="app",
        image="img:1",
        ports=(ContainerPort(8000, name="http"),),
        resources=ResourceRequirements(requests={"cpu": "1"}),
    )
    out = c.to_dict()
    assert list(out) == ["name", "image", "ports", "resources"]
    assert out["ports"] == [{"containerPort": 8000, "name": "http"}]


def test_keyword_field_renders_as_from() -> None:
    """A NetworkPolicy rule's ``from_`` field is written as ``from``."""
    rule = NetworkPolicyIngressRule(from_=(NetworkPolicyPeer(),))
    assert rule.to_dict() == {"from": [{}]}


def test_manifest_starts_with_api_version_and_kind() -> None:
    """A top-level object opens with apiVersion and kind taken from its class."""
    out = Secret(metadata=ObjectMeta(name="s"), type="Opaque").to_dict()
    assert list(out)[:3] == ["apiVersion", "kind", "metadata"]
    assert (out["apiVersion"], out["kind"]) == ("v1", "Secret")


def test_objects_are_frozen() -> None:
    """Manifest dataclasses cannot be changed after construction."""
    meta = ObjectMeta(name="a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        meta.name = "b"  # type: ignore[misc]


def test_secret_repr_names_keys_not_values() -> None:
    """A Secret's repr lists its keys and never a value."""
    secret = Secret(
        metadata=ObjectMeta(name="s"), string_data={"api-key": "sk-real-123"}
    )
    assert "sk-real-123" not in repr(secret)
    assert "api-key" in repr(secret)


def test_all_is_sorted_and_complete() -> None:
    """The deploy package's __all__ is sorted and exports every public manifest class."""
    assert deploy.__all__ == sorted(deploy.__all__)
    classes = {
        name
        for name, obj in inspect.getmembers(deploy, inspect.isclass)
        if issubclass(obj, K8sObject) and not name.startswith("_")
    }
    assert classes <= set(deploy.__all__)
    assert Deployment.api_version == "apps/v1"
