"""
Build the reference Kubernetes manifests in Python, check them, and print them as YAML.

The same objects as ``python -m holysheep_client.deploy``: two tracks of the app (one
per provider of the migration) behind one Istio route, each with a KEDA ScaledObject,
a PodDisruptionBudget and a ConfigMap written from the client config. No API key is
read or printed: the pods reference an existing Secret.
"""

from __future__ import annotations

from holysheep_client.deploy import check, prerequisites, reference_stack, render


def main() -> None:
    """Build the stack with 5% to holysheep (the canary phase) and print it."""
    objects = reference_stack(autoscaler="keda", holysheep_weight=5)
    errors = [f for f in check(objects) if f.severity == "error"]
    if errors:
        raise SystemExit("\n".join(map(str, errors)))
    print(render(objects, header=prerequisites(objects)), end="")


if __name__ == "__main__":
    main()
