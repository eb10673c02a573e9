"""
The asyncio race: a call's hops over its failover plan, hedged with tasks, and
reading a body through its observed stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from .._protocols import ChatRequestSpec
from .._routing.failover import FailoverPlan
from .._routing.hedging import HedgeRace
from .._transports.observed import observed
from ..errors import HolySheepError

if TYPE_CHECKING:
    import httpx2

__all__ = ["read_body_async", "send_async"]

T = TypeVar("T")


async def read_body_async(response: httpx2.Response, *, judge: bool = False) -> bytes:
    """
    A response's whole body, read through its observed stream.

    Args:
        response: The response (closed afterwards unless ``judge``).
        judge: The caller judges the body (`ObservedStream.settle`) and closes it.
    """
    stream = observed(response)
    try:
        if stream is None:
            return response.content
        if judge:
            stream.defer()
        chunks = []
        while (chunk := await stream.read_async()) is not None:
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        if not judge:
            await response.aclose()


async def send_async(
    walk: FailoverPlan,
    race: HedgeRace | None,
    hop: Callable[[str, ChatRequestSpec], Awaitable[T]],
    discard: Callable[[T], Awaitable[None]] | None = None,
) -> T:
    """
    Run ``hop`` over the failover plan, hedged when ``race`` is given.

    The first success wins; the other racers' tasks are cancelled, and a racer
    that also succeeded is handed to ``discard``.
    """
    if race is None:
        while (name := walk.next()) is not None:
            try:
                return await hop(name, walk.spec)
            except HolySheepError as err:
                walk.failed(name, err)
        raise walk.final_error()
    tasks: dict[asyncio.Task[T], str] = {}

    def launch(name: str | None) -> None:
        if name is not None:
            tasks[asyncio.ensure_future(hop(name, walk.spec))] = name

    launch(race.start())
    try:
        while tasks:
            done, _ = await asyncio.wait(
                tasks, timeout=race.wait(), return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                launch(race.timed_out())
                continue
            names = {task: tasks.pop(task) for task in done}
            won = [task for task in done if task.exception() is None]
            if won:
                for extra in won[1:]:
                    if discard is not None:
                        await discard(extra.result())
                return won[0].result()
            for task, name in names.items():
                exc = task.exception()
                assert exc is not None
                launch(race.failed(name, exc, len(tasks)))
        raise race.final_error()
    finally:
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
