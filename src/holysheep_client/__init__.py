"""
holysheep_client: LLM calls that survive outages, rate limits and slow tails.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from ._client.async_client import AsyncClient
from ._client.async_stream import AsyncChatStream
from ._client.http_client import build_http_client, build_sdk_client
from ._client.sync_client import Client
from ._client.sync_stream import ChatStream
from ._config import (
    BreakerConfig,
    BudgetConfig,
    ClientConfig,
    GateConfig,
    HedgingConfig,
    MigrationConfig,
    MigrationPhase,
    ModelPrice,
    PoolConfig,
    ProviderConfig,
    RateLimitConfig,
    RetryConfig,
    RollbackConfig,
    ShadowConfig,
    SharedStateConfig,
    TimeoutConfig,
)
from ._content.blocks import (
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolResult,
    ToolUseBlock,
)
from ._content.events import (
    TextDelta,
    ThinkingDelta,
    ToolUseDelta,
    ToolUseEnd,
    ToolUseStart,
)
from ._cost import PriceTable
from ._models import (
    ChatResponse,
    GateStatus,
    Health,
    MigrationStatus,
    ProviderHealth,
    ShadowStatus,
    Usage,
)
from ._observe.details import (
    AttemptDetails,
    BreakerTransition,
    GateDetails,
    RateLimitWaitDetails,
    RequestDetails,
    RetryDetails,
    RouteDecision,
    ShadowDetails,
)
from ._observe.hooks import BaseHook, ClientHook
from .errors import (
    AllProvidersFailedError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    CapabilityError,
    CircuitOpenError,
    ConfigError,
    ContentPolicyError,
    ContextLengthError,
    HolySheepError,
    NotFoundError,
    OutputValidationError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)

try:
    __version__ = _version("holysheep-client")
except _PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AllProvidersFailedError",
    "AsyncChatStream",
    "AsyncClient",
    "AttemptDetails",
    "AuthenticationError",
    "BadRequestError",
    "BaseHook",
    "BreakerConfig",
    "BreakerTransition",
    "BudgetConfig",
    "BudgetExceededError",
    "CapabilityError",
    "ChatResponse",
    "ChatStream",
    "CircuitOpenError",
    "Client",
    "ClientConfig",
    "ClientHook",
    "ConfigError",
    "ContentPolicyError",
    "ContextLengthError",
    "GateConfig",
    "GateDetails",
    "GateStatus",
    "Health",
    "HedgingConfig",
    "HolySheepError",
    "ImageBlock",
    "MigrationConfig",
    "MigrationPhase",
    "MigrationStatus",
    "ModelPrice",
    "NotFoundError",
    "OutputValidationError",
    "PermissionDeniedError",
    "PoolConfig",
    "PriceTable",
    "ProviderConfig",
    "ProviderHealth",
    "RateLimitConfig",
    "RateLimitError",
    "RateLimitWaitDetails",
    "RequestDetails",
    "RetryConfig",
    "RetryDetails",
    "RollbackConfig",
    "RouteDecision",
    "ServerError",
    "ShadowConfig",
    "ShadowDetails",
    "ShadowStatus",
    "SharedStateConfig",
    "StreamInterruptedError",
    "TextBlock",
    "TextDelta",
    "ThinkingBlock",
    "ThinkingDelta",
    "TimeoutConfig",
    "Tool",
    "ToolResult",
    "ToolUseBlock",
    "ToolUseDelta",
    "ToolUseEnd",
    "ToolUseStart",
    "Usage",
    "__version__",
    "build_http_client",
    "build_sdk_client",
]
