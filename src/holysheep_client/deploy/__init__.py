"""
The reference Kubernetes manifests for running on holysheep_client, as dataclasses.

Three separate steps, so output can be diffed and snapshot-tested:

- build: `reference_stack()` returns frozen dataclasses (`Deployment`, `Service`,
  `ScaledObject`, `VirtualService`, `ServiceEntry`, ...) from a `ClientConfig` and the
  render options (`ValuesConfig`, a values file as Helm takes one); snake_case fields,
  camelCase out of `to_dict()`;
- render: `render()` writes them as multi-document YAML (or JSON), Namespace first;
- check: `check()` validates any manifests against the Kubernetes and CRD schemas and
  lints them across objects (`RULES`).

```python
from holysheep_client.deploy import ValuesConfig, check, reference_stack, render

objects = reference_stack(values=ValuesConfig(replicas={"min": 3}), holysheep_weight=5)
print(render(objects))
assert not [f for f in check(objects) if f.severity == "error"]
```

The same from a shell: ``python -m holysheep_client.deploy --help``. The manifests need
Kubernetes 1.27 or later (`MIN_KUBERNETES_VERSION`); ``check --kube-version`` tells.
"""

from __future__ import annotations

from ._autoscaling import (
    AdvancedConfig,
    CrossVersionObjectReference,
    Fallback,
    HorizontalPodAutoscaler,
    HorizontalPodAutoscalerBehavior,
    HorizontalPodAutoscalerConfig,
    HorizontalPodAutoscalerSpec,
    HPAScalingPolicy,
    HPAScalingRules,
    MetricSpec,
    MetricTarget,
    ResourceMetricSource,
    ScaledObject,
    ScaledObjectSpec,
    ScaledObjectTrigger,
    ScaleTargetRef,
)
from ._check import (
    check,
    load_manifests,
)
from ._crd import (
    load_schemas,
    structural_to_jsonschema,
)
from ._findings import (
    RULES,
    Doc,
    Finding,
    Patch,
)
from ._istio import (
    Destination,
    HTTPMatchRequest,
    HTTPRetry,
    HTTPRoute,
    HTTPRouteDestination,
    PortSelector,
    ServiceEntry,
    ServiceEntryPort,
    ServiceEntrySpec,
    StringMatch,
    VirtualService,
    VirtualServiceSpec,
)
from ._lint import (
    lint,
)
from ._lint_version import (
    MIN_KUBERNETES_VERSION,
)
from ._manifests import (
    ConfigMap,
    LimitRange,
    LimitRangeItem,
    LimitRangeSpec,
    Namespace,
    NetworkPolicy,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicySpec,
    PodDisruptionBudget,
    PodDisruptionBudgetSpec,
    ResourceQuota,
    ResourceQuotaSpec,
    Secret,
    Service,
    ServiceAccount,
    ServicePort,
    ServiceSpec,
)
from ._meta import (
    K8sObject,
    LabelSelector,
    LabelSelectorRequirement,
    Manifest,
    ObjectMeta,
)
from ._monitoring import (
    ServiceMonitor,
    ServiceMonitorEndpoint,
    ServiceMonitorSpec,
)
from ._plan import (
    call_deadline,
    track_config,
)
from ._pods import (
    Capabilities,
    ConfigMapKeySelector,
    ConfigMapVolumeSource,
    Container,
    ContainerPort,
    Deployment,
    DeploymentSpec,
    DeploymentStrategy,
    EmptyDirVolumeSource,
    EnvVar,
    EnvVarSource,
    ExecAction,
    HTTPGetAction,
    KeyToPath,
    Lifecycle,
    LifecycleHandler,
    PodSecurityContext,
    PodSpec,
    PodTemplateSpec,
    Probe,
    ResourceRequirements,
    RollingUpdateDeployment,
    SeccompProfile,
    SecretKeySelector,
    SecurityContext,
    SleepAction,
    Toleration,
    TopologySpreadConstraint,
    Volume,
    VolumeMount,
)
from ._reference import (
    reference_config,
    reference_stack,
    split_weights,
)
from ._render import (
    INSTALL_ORDER,
    as_dicts,
    prerequisites,
    render,
    write_dir,
)
from ._shift import (
    kubectl_command,
    shift_patch,
)
from ._values import (
    ProbeConfig,
    ProbesConfig,
    RedisDeployConfig,
    ReplicasConfig,
    ResourcesConfig,
    TolerationConfig,
    ValuesConfig,
)

__all__ = [
    "AdvancedConfig",
    "Capabilities",
    "ConfigMap",
    "ConfigMapKeySelector",
    "ConfigMapVolumeSource",
    "Container",
    "ContainerPort",
    "CrossVersionObjectReference",
    "Deployment",
    "DeploymentSpec",
    "DeploymentStrategy",
    "Destination",
    "Doc",
    "EmptyDirVolumeSource",
    "EnvVar",
    "EnvVarSource",
    "ExecAction",
    "Fallback",
    "Finding",
    "HPAScalingPolicy",
    "HPAScalingRules",
    "HTTPGetAction",
    "HTTPMatchRequest",
    "HTTPRetry",
    "HTTPRoute",
    "HTTPRouteDestination",
    "HorizontalPodAutoscaler",
    "HorizontalPodAutoscalerBehavior",
    "HorizontalPodAutoscalerConfig",
    "HorizontalPodAutoscalerSpec",
    "INSTALL_ORDER",
    "K8sObject",
    "KeyToPath",
    "LabelSelector",
    "LabelSelectorRequirement",
    "Lifecycle",
    "LifecycleHandler",
    "LimitRange",
    "LimitRangeItem",
    "LimitRangeSpec",
    "MIN_KUBERNETES_VERSION",
    "Manifest",
    "MetricSpec",
    "MetricTarget",
    "Namespace",
    "NetworkPolicy",
    "NetworkPolicyIngressRule",
    "NetworkPolicyPeer",
    "NetworkPolicyPort",
    "NetworkPolicySpec",
    "ObjectMeta",
    "Patch",
    "PodDisruptionBudget",
    "PodDisruptionBudgetSpec",
    "PodSecurityContext",
    "PodSpec",
    "PodTemplateSpec",
    "PortSelector",
    "Probe",
    "ProbeConfig",
    "ProbesConfig",
    "RULES",
    "RedisDeployConfig",
    "ReplicasConfig",
    "ResourceMetricSource",
    "ResourceQuota",
    "ResourceQuotaSpec",
    "ResourceRequirements",
    "ResourcesConfig",
    "RollingUpdateDeployment",
    "ScaleTargetRef",
    "ScaledObject",
    "ScaledObjectSpec",
    "ScaledObjectTrigger",
    "SeccompProfile",
    "Secret",
    "SecretKeySelector",
    "SecurityContext",
    "Service",
    "ServiceAccount",
    "ServiceEntry",
    "ServiceEntryPort",
    "ServiceEntrySpec",
    "ServiceMonitor",
    "ServiceMonitorEndpoint",
    "ServiceMonitorSpec",
    "ServicePort",
    "ServiceSpec",
    "SleepAction",
    "StringMatch",
    "Toleration",
    "TolerationConfig",
    "TopologySpreadConstraint",
    "ValuesConfig",
    "VirtualService",
    "VirtualServiceSpec",
    "Volume",
    "VolumeMount",
    "as_dicts",
    "call_deadline",
    "check",
    "kubectl_command",
    "lint",
    "load_manifests",
    "load_schemas",
    "prerequisites",
    "reference_config",
    "reference_stack",
    "render",
    "shift_patch",
    "split_weights",
    "structural_to_jsonschema",
    "track_config",
    "write_dir",
]
