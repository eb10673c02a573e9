"""
Configuration models, validated once at the edge.

Every way in (the constructors, ``model_validate``, ``model_validate_json``,
``from_yaml``, ``from_env``) raises `ConfigError` naming the field and the
reason, never pydantic's ``ValidationError``, and never the value (it may be a key).
"""

from __future__ import annotations

from .client import ClientConfig, ModelPrice
from .provider import ProviderConfig
from .resilience import (
    BreakerConfig,
    BudgetConfig,
    PoolConfig,
    RateLimitConfig,
    RetryConfig,
    SharedStateConfig,
    TimeoutConfig,
)
from .routing import (
    GateConfig,
    HedgingConfig,
    MigrationConfig,
    MigrationPhase,
    RollbackConfig,
    ShadowConfig,
)

__all__ = [
    "BreakerConfig",
    "BudgetConfig",
    "ClientConfig",
    "GateConfig",
    "HedgingConfig",
    "MigrationConfig",
    "MigrationPhase",
    "ModelPrice",
    "PoolConfig",
    "ProviderConfig",
    "RateLimitConfig",
    "RetryConfig",
    "RollbackConfig",
    "ShadowConfig",
    "SharedStateConfig",
    "TimeoutConfig",
]
