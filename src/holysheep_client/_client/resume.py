"""
Resuming a broken stream on another provider: the prefill request and the two
filters that make the continuation seamless. Pure logic, no I/O.

With ``resume=True`` a stream broken after its first delta continues on a healthy
provider, with the text so far as an assistant prefill. Anthropic rejects a
prefill ending in white space, so the prefill is stripped and `SkipFilter` drops
that white space from the continuation. A provider that rejects the prefill is
asked again without it; `PrefixFilter` then checks that the new answer begins with
the text already delivered and continues past it, or gives up.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .._protocols import ChatRequestSpec
from ..errors import StreamInterruptedError

__all__ = ["PrefixFilter", "ResumePlan", "SkipFilter", "resume_messages"]


def resume_messages(spec: ChatRequestSpec, partial: str) -> tuple[ChatRequestSpec, str]:
    """
    The request that continues ``partial`` as an assistant prefill.

    Returns:
        The request, and the white space stripped from the prefill's end (to be
        dropped from the continuation).
    """
    prefill = partial.rstrip()
    conversation = spec.conversation.with_prefill(prefill)
    return replace(spec, conversation=conversation), partial[len(prefill) :]


class SkipFilter:
    """
    Drops, from the start of a continuation, the white space the prefill lacked.
    """

    __slots__ = ("_pending",)

    def __init__(self, skip: str) -> None:
        self._pending = skip

    def feed(self, delta: str) -> str:
        """
        The part of ``delta`` the caller has not seen.
        """
        pending = self._pending
        if not pending:
            return delta
        n = 0
        while n < len(delta) and n < len(pending) and delta[n] == pending[n]:
            n += 1
        # A mismatch ends the skipping: the continuation did not repeat it.
        self._pending = "" if n < len(pending) and n < len(delta) else pending[n:]
        return delta[n:]

    def end(self) -> None:
        """
        The continuation ended (nothing to check).
        """


class PrefixFilter:
    """
    Passes a restarted answer on only past the text the caller already has.

    Args:
        partial: The text delivered before the break.
        provider: The provider that restarted, for the error.
    """

    __slots__ = ("_buf", "_partial", "_provider", "_through")

    def __init__(self, partial: str, provider: str) -> None:
        self._partial = partial
        self._provider = provider
        self._buf = ""
        self._through = not partial

    def _diverged(self) -> StreamInterruptedError:
        return StreamInterruptedError(
            f"provider {self._provider!r} restarted the answer differently;"
            " cannot continue it",
            partial_text=self._partial,
            provider=self._provider,
        )

    def feed(self, delta: str) -> str:
        """
        The part of ``delta`` past the delivered text.

        Raises:
            StreamInterruptedError: The restarted answer differs from the delivered text.
        """
        if self._through:
            return delta
        self._buf += delta
        partial = self._partial
        if len(self._buf) < len(partial):
            if not partial.startswith(self._buf):
                raise self._diverged()
            return ""
        if not self._buf.startswith(partial):
            raise self._diverged()
        self._through = True
        rest, self._buf = self._buf[len(partial) :], ""
        return rest

    def end(self) -> None:
        """
        The restarted answer ended.

        Raises:
            StreamInterruptedError: It ended before covering the delivered text.
        """
        if not self._through:
            raise self._diverged()


@dataclass(frozen=True, slots=True)
class ResumePlan:
    """
    How to continue a broken stream.

    Attributes:
        spec: The original request (asked again when the prefill is refused).
        prefill: The request with the delivered text as an assistant prefill.
        skip: White space stripped from the prefill, dropped from the continuation.
        partial: The text delivered so far.
        failed: The provider whose stream broke.
        candidates: Healthy providers to continue on, in plan order.
        cause: The break.
    """

    spec: ChatRequestSpec
    prefill: ChatRequestSpec
    skip: str
    partial: str
    failed: str
    candidates: tuple[str, ...]
    cause: BaseException

    def unresumable(self) -> StreamInterruptedError:
        """
        The error when no provider could continue the stream.
        """
        err = StreamInterruptedError(
            f"the stream from provider {self.failed!r} broke and no provider could"
            " resume it",
            partial_text=self.partial,
            provider=self.failed,
        )
        err.__cause__ = self.cause
        return err
