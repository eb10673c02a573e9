"""
TokenLimiter (a provider's ``tokens_per_minute``) and TokenLimitTransport.

Relay quotas are set in tokens per minute, and request sizes vary a hundredfold, so
a request rate alone cannot keep a client under one. Each attempt reserves its
estimate (the prompt's local estimate plus ``max_tokens``, set by the client in the
``EXT_TOKENS`` extension) before it is sent, waiting within the call's deadline like
the request limit. The reservation travels on the request (``EXT_TOKEN_RESERVATION``):

- an attempt that gets no answer (an error, a non-2xx status) gives its tokens back;
- the client settles an answered attempt with the usage the provider reported;
- an answer that ends unsettled (a stream cut, a call cancelled) keeps its
  reservation charged: what the provider counted is unknown, so the estimate stands.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

from .._clock import SYSTEM_CLOCK
from .._observe.details import RateLimitWaitDetails
from .._observe.dispatch import HookDispatcher
from .._transports.base import Layer
from .._transports.extensions import EXT_DEADLINE, EXT_TOKEN_RESERVATION, EXT_TOKENS
from .._transports.observed import observe
from .._types import AsyncTransport, Clock, SyncTransport
from ..errors import RateLimitError
from .ratelimit import TokenBucket

if TYPE_CHECKING:
    import httpx2

__all__ = ["TokenLimiter", "TokenLimitTransport", "TokenReservation", "TokenSink"]


class TokenSink(Protocol):
    """Where a reservation's difference from the actual usage goes."""

    def give_back(self, amount: float) -> None:
        """Return ``amount`` tokens (negative: take more)."""
        ...


class TokenReservation:
    """
    The tokens one attempt holds; settled once, by its outcome or by the client.
    """

    __slots__ = ("_lock", "_sinks", "amount", "settled")

    def __init__(self, amount: float, sinks: tuple[TokenSink, ...]) -> None:
        self.amount = amount
        self._sinks = sinks
        self.settled = False
        self._lock = threading.Lock()

    def _settle(self, used: float) -> None:
        with self._lock:
            if self.settled:
                return
            self.settled = True
        for sink in self._sinks:
            sink.give_back(self.amount - used)

    def settle(self, used: int) -> None:
        """
        The attempt used ``used`` tokens: give the rest back (or take the excess).
        """
        self._settle(float(used))

    def release(self) -> None:
        """
        The attempt got no answer: give every token back.
        """
        self._settle(0.0)

    def keep(self) -> None:
        """
        The usage is unknown: the reservation stays charged.
        """
        self._settle(self.amount)

    def __repr__(self) -> str:
        return f"<TokenReservation amount={self.amount:g} settled={self.settled}>"


class TokenLimiter:
    """
    One provider's ``tokens_per_minute``, for async and sync alike.

    Shared by every request to that provider; the bucket guards itself with a lock,
    and waiters are served in order (a wait is reserved before it is slept).

    Args:
        provider: The provider's name.
        per_minute: Tokens per minute; the bucket holds one minute's worth.
        clock: The time source and sleeper.
    """

    def __init__(
        self, provider: str, per_minute: float, *, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.provider = provider
        self.per_minute = per_minute
        self._clock = clock
        self._bucket = TokenBucket(per_minute / 60.0, burst=per_minute, clock=clock)

    def _refuse(self, amount: float, why: str) -> RateLimitError:
        return RateLimitError(
            f"the token limit of {self.per_minute:g}/min for provider"
            f" {self.provider!r} {why} ({amount:g} tokens)",
            provider=self.provider,
        )

    def reserve(self, amount: float, deadline: float | None) -> float:
        """
        Reserve ``amount`` tokens; returns the seconds to wait before sending.

        Raises:
            RateLimitError: More than the whole bucket, or no room before the deadline.
        """
        if amount > self.per_minute:
            raise self._refuse(amount, "is smaller than this call")
        wait = self._bucket.reserve(deadline, amount)
        if wait is None:
            raise self._refuse(amount, "has no room before the call's deadline")
        return wait

    def give_back(self, amount: float) -> None:
        """
        Return ``amount`` tokens (negative: take more).
        """
        self._bucket.give_back(amount)

    def __repr__(self) -> str:
        return (
            f"<TokenLimiter provider={self.provider!r} per_minute={self.per_minute:g}>"
        )


class TokenLimitTransport(Layer):
    """
    Reserves each attempt's token estimate before sending; see the module docstring.

    Args:
        inner: The transport below.
        limiter: The provider's token limiter.
        shared: The same limit across processes (with ``shared_state``), if any.
        clock: The sleeper.
        hooks: Receives a `RateLimitWaitDetails` (kind ``"tokens"``) after a wait.
    """

    def __init__(
        self,
        inner: AsyncTransport | SyncTransport,
        *,
        limiter: TokenLimiter,
        shared: SharedTokens | None = None,
        clock: Clock = SYSTEM_CLOCK,
        hooks: HookDispatcher | None = None,
    ) -> None:
        super().__init__(inner)
        self.limiter = limiter
        self.shared = shared
        self._clock = clock
        self._hooks = hooks or HookDispatcher()

    def _local(self, request: httpx2.Request) -> tuple[float, float] | None:
        amount = request.extensions.get(EXT_TOKENS)
        if not amount:
            return None
        return float(amount), self.limiter.reserve(
            float(amount), request.extensions.get(EXT_DEADLINE)
        )

    def _held(
        self,
        request: httpx2.Request,
        amount: float,
        wait: float,
        shared_wait: float | None,
    ) -> tuple[TokenReservation, float]:
        sinks: tuple[TokenSink, ...] = (self.limiter,)
        if shared_wait is not None:  # None: Redis is down, the local bucket rules
            wait = max(wait, shared_wait)
            assert self.shared is not None
            sinks = (self.limiter, self.shared)
        reservation = TokenReservation(amount, sinks)
        request.extensions[EXT_TOKEN_RESERVATION] = reservation
        return reservation, wait

    def _reserve(
        self, request: httpx2.Request
    ) -> tuple[TokenReservation | None, float]:
        local = self._local(request)
        if local is None:
            return None, 0.0
        amount, wait = local
        shared = None
        if self.shared is not None:
            try:
                shared = self.shared.reserve(
                    amount, request.extensions.get(EXT_DEADLINE)
                )
            except RateLimitError:
                self.limiter.give_back(amount)
                raise
        return self._held(request, amount, wait, shared)

    async def _reserve_async(
        self, request: httpx2.Request
    ) -> tuple[TokenReservation | None, float]:
        local = self._local(request)
        if local is None:
            return None, 0.0
        amount, wait = local
        shared = None
        if self.shared is not None:
            try:
                shared = await self.shared.reserve_async(
                    amount, request.extensions.get(EXT_DEADLINE)
                )
            except RateLimitError:
                self.limiter.give_back(amount)
                raise
        return self._held(request, amount, wait, shared)

    def _answered(
        self, reservation: TokenReservation | None, response: httpx2.Response
    ) -> httpx2.Response:
        if reservation is None:
            return response
        if response.status_code >= 300:
            reservation.release()
        else:
            # Unsettled by the end of the body: the usage is unknown, keep it.
            observe(response, lambda _outcome: reservation.keep())
        return response

    def _waited(self, wait: float) -> None:
        self._hooks.rate_limit_wait(
            RateLimitWaitDetails(self.limiter.provider, "tokens", wait)
        )

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request`` once its tokens are reserved.

        Raises:
            RateLimitError: No room for them before the deadline (``status_code=None``).
        """
        reservation, wait = await self._reserve_async(request)
        try:
            if wait > 0:
                await self._clock.async_sleep(wait)
                self._waited(wait)
            response = await self._ainner.handle_async_request(request)
        except BaseException:
            if reservation is not None:
                reservation.release()
            raise
        return self._answered(reservation, response)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """
        Send ``request`` once its tokens are reserved.

        Raises:
            RateLimitError: No room for them before the deadline (``status_code=None``).
        """
        reservation, wait = self._reserve(request)
        try:
            if wait > 0:
                self._clock.sleep(wait)
                self._waited(wait)
            response = self._sinner.handle_request(request)
        except BaseException:
            if reservation is not None:
                reservation.release()
            raise
        return self._answered(reservation, response)

    def __repr__(self) -> str:
        return f"<TokenLimitTransport provider={self.limiter.provider!r} per_minute={self.limiter.per_minute:g}>"


class SharedTokens(Protocol):
    """A provider's token limit across processes (see `shared.tokens`)."""

    def reserve(self, amount: float, deadline: float | None) -> float | None:
        """Reserve; the wait, or ``None`` when the shared state is unreachable."""
        ...

    async def reserve_async(
        self, amount: float, deadline: float | None
    ) -> float | None:
        """Reserve, in async; as `reserve`."""
        ...

    def give_back(self, amount: float) -> None:
        """Return ``amount`` tokens (negative: take more)."""
        ...
