"""
The holysheep_client exception tree.

```
HolySheepError
├── ConfigError (also a ValueError)  names the field and the reason
├── APIError                         .status_code .provider .request_id .body
│   ├── BadRequestError              400/422
│   │   ├── ContextLengthError       the prompt is too long for the model
│   │   ├── ContentPolicyError       .reason, the provider's refusal
│   │   └── CapabilityError          no provider can take the call (status None)
│   ├── AuthenticationError          401
│   ├── PermissionDeniedError        403
│   ├── NotFoundError                404
│   ├── RateLimitError               429 or a local limit, .retry_after
│   │   └── BudgetExceededError      a tag's daily budget is spent (status None)
│   ├── ServerError                  5xx
│   └── OutputValidationError        an answer that does not match response_format, .raw
├── APIConnectionError               .provider (no status)
│   ├── APITimeoutError
│   └── StreamInterruptedError       .partial_text
├── CircuitOpenError                 .provider
└── AllProvidersFailedError          .errors, one per provider tried
```

The HTTP libraries' exceptions (httpx2 and httpx) are translated in one place,
`map_transport_errors()`, always as `raise Ours(...) from exc`.
No message built here ever contains a request header, so no API key can leak.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AllProvidersFailedError",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "CapabilityError",
    "CircuitOpenError",
    "ConfigError",
    "ContentPolicyError",
    "ContextLengthError",
    "HolySheepError",
    "NotFoundError",
    "OutputValidationError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "StreamInterruptedError",
    "map_transport_errors",
]


class HolySheepError(Exception):
    """
    The root of every error this package raises.
    """


class ConfigError(HolySheepError, ValueError):
    """
    A configuration value is invalid.

    Args:
        field: The dotted path of the offending field, e.g. ``providers.0.weight``.
        reason: Why it is invalid; never the value itself (it may be a key).
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class APIError(HolySheepError):
    """
    A provider answered with an error status.

    Args:
        message: One sentence saying what was expected and what was found.
        status_code: The HTTP status, or ``None`` for an error raised locally.
        provider: The name of the provider that answered.
        request_id: The provider's request id, when it sent one.
        body: The decoded error body (JSON object or text), when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        provider: str | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.provider = provider
        self.request_id = request_id
        self.body = body

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r},"
            f" provider={self.provider!r}, request_id={self.request_id!r})"
        )


class BadRequestError(APIError):
    """
    The provider rejected the request as malformed (400 or 422).
    """


class ContextLengthError(BadRequestError):
    """
    The prompt (plus ``max_tokens``) is too long for the model.
    """


class ContentPolicyError(BadRequestError):
    """
    The provider refused the content; ``.reason`` holds its explanation.
    """

    def __init__(self, message: str, *, reason: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.reason = reason


class CapabilityError(BadRequestError):
    """
    No configured provider has what the call needs (tools, images, structured output,
    reasoning); raised before anything is sent, with ``status_code=None``.

    .. versionadded:: 0.2.0
    """


class OutputValidationError(APIError):
    """
    The answer does not match the call's ``response_format``; ``.raw`` holds its text.

    Treated as a retryable provider fault: retried, then failed over, and raised only
    when every try gave an invalid answer.

    .. versionadded:: 0.2.0
    """

    def __init__(self, message: str, *, raw: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.raw = raw


class AuthenticationError(APIError):
    """
    The provider rejected the API key (401).
    """


class PermissionDeniedError(APIError):
    """
    The key is valid but not allowed to do this (403).
    """


class NotFoundError(APIError):
    """
    The model or endpoint does not exist (404).
    """


class RateLimitError(APIError):
    """
    A 429 from the provider, or a local limit that could not admit the call in time.

    ``retry_after`` is the wait the provider asked for, in seconds, when it said.
    A local refusal has ``status_code=None``.
    """

    def __init__(
        self, message: str, *, retry_after: float | None = None, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class BudgetExceededError(RateLimitError):
    """
    A tag value's daily budget (`BudgetConfig`) is spent: refused before sending,
    with ``status_code=None``; ``.tag`` and ``.value`` say whose.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        message: str,
        *,
        tag: str | None = None,
        value: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.tag = tag
        self.value = value


class ServerError(APIError):
    """
    The provider failed (5xx).
    """


class APIConnectionError(HolySheepError):
    """
    No usable answer came back: the connection failed, timed out, or broke.

    Args:
        message: What failed.
        provider: The provider being called, when known.
    """

    def __init__(self, message: str, *, provider: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, provider={self.provider!r})"


class APITimeoutError(APIConnectionError):
    """
    A timeout expired: connect, read, first token, stream idle, or the call deadline.
    """


class StreamInterruptedError(APIConnectionError):
    """
    A stream broke after its first delta reached the caller.

    ``partial_text`` is everything delivered before the break; it is never
    returned as if it were a complete answer.
    """

    def __init__(
        self, message: str, *, partial_text: str = "", provider: str | None = None
    ) -> None:
        super().__init__(message, provider=provider)
        self.partial_text = partial_text


class CircuitOpenError(HolySheepError):
    """
    The provider's circuit breaker is open: the call was refused with no network I/O.
    """

    def __init__(self, provider: str | None, *, retry_in: float | None = None) -> None:
        when = "" if retry_in is None else f"; next trial in {retry_in:.1f}s"
        super().__init__(f"circuit breaker for provider {provider!r} is open{when}")
        self.provider = provider
        self.retry_in = retry_in


class AllProvidersFailedError(HolySheepError):
    """
    Every provider tried failed; ``.errors`` holds one error per provider, in order.
    """

    def __init__(self, errors: Sequence[BaseException]) -> None:
        self.errors = list(errors)
        parts = "; ".join(
            f"{getattr(e, 'provider', None)}: {type(e).__name__}" for e in self.errors
        )
        super().__init__(f"all {len(self.errors)} providers failed ({parts})")


def _upstream_classes() -> list[tuple[type[BaseException], type[APIConnectionError]]]:
    """
    The (upstream exception, our exception) pairs, most specific first.

    Built lazily so that ``import holysheep_client`` does not import httpx.
    """
    pairs: list[tuple[type[BaseException], type[APIConnectionError]]] = []
    import httpx2

    mods: list[Any] = [httpx2]
    try:
        import httpx

        mods.append(httpx)
    except ImportError:  # pragma: no cover - httpx is a dependency
        pass
    for mod in mods:
        pairs += [
            (mod.TimeoutException, APITimeoutError),
            (mod.TransportError, APIConnectionError),
            (mod.StreamError, APIConnectionError),
            (mod.DecodingError, APIConnectionError),
            (mod.InvalidURL, APIConnectionError),
            (mod.HTTPError, APIConnectionError),
        ]
    return pairs


def map_exception(
    exc: BaseException, *, provider: str | None = None
) -> HolySheepError | None:
    """
    Translate one upstream exception into ours, or ``None`` when it is not an HTTP one.

    Args:
        exc: The exception raised by httpx2 or httpx.
        provider: The provider being called.

    Returns:
        The exception to raise instead (the caller chains it with ``from exc``).
    """
    if isinstance(exc, HolySheepError):
        return None
    from ._runtime import RUNTIME

    for upstream, ours in RUNTIME.cached("upstream-errors", _upstream_classes):
        if isinstance(exc, upstream):
            what = type(exc).__name__
            where = f" calling provider {provider!r}" if provider else ""
            return ours(f"{what}{where}", provider=provider)
    return None


@contextlib.contextmanager
def map_transport_errors(provider: str | None = None) -> Iterator[None]:
    """
    Re-raise httpx2 / httpx exceptions as ours, chained with ``from``.

    The message names only the upstream exception class and the provider: the
    upstream text is kept on ``__cause__`` and never copied, because some
    libraries quote request details in it.

    Args:
        provider: The provider being called, recorded on the raised error.

    Raises:
        APITimeoutError: For any upstream timeout.
        APIConnectionError: For any other transport or stream error.
    """
    try:
        yield
    except Exception as exc:
        ours = map_exception(exc, provider=provider)
        if ours is None:
            raise
        raise ours from exc
