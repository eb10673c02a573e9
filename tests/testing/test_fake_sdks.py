"""
The official anthropic and openai SDKs against the fake, in-process and on loopback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import anthropic
import httpx2
import openai
import pytest

from holysheep_client.testing import (
    DEFAULT_REPLY,
    FakeProvider,
    FakeServer,
    Fault,
    RecordedRequest,
)

KEY = "test-key"
USER = [{"role": "user", "content": "hello there fake"}]


@dataclass
class Target:
    """Where the SDKs point: an in-process provider or the loopback server."""

    origin: str
    url: str
    set_faults: Callable[[list[Fault]], None]
    requests: Callable[[], list[RecordedRequest]]
    async_http: Callable[[], httpx2.AsyncClient | None]
    sync_http: Callable[[], httpx2.Client | None]

    def anthropic_async(self, key: str = KEY) -> anthropic.AsyncAnthropic:
        """An AsyncAnthropic client; its base_url has no /v1 (the SDK adds it)."""
        return anthropic.AsyncAnthropic(
            api_key=key,
            base_url=self.origin,
            http_client=self.async_http(),
            max_retries=0,
        )

    def anthropic_sync(self, key: str = KEY) -> anthropic.Anthropic:
        """An Anthropic client."""
        return anthropic.Anthropic(
            api_key=key,
            base_url=self.origin,
            http_client=self.sync_http(),
            max_retries=0,
        )

    def openai_async(self, key: str = KEY) -> openai.AsyncOpenAI:
        """An AsyncOpenAI client; its base_url includes /v1."""
        return openai.AsyncOpenAI(
            api_key=key, base_url=self.url, http_client=self.async_http(), max_retries=0
        )

    def openai_sync(self, key: str = KEY) -> openai.OpenAI:
        """An OpenAI client."""
        return openai.OpenAI(
            api_key=key, base_url=self.url, http_client=self.sync_http(), max_retries=0
        )


@pytest.fixture(params=["in-process", "loopback"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The fake, reached through the in-process transports or the loopback server."""
    if request.param == "in-process":
        provider = FakeProvider()
        yield Target(
            origin=provider.origin,
            url=provider.url,
            set_faults=provider.set_faults,
            requests=lambda: provider.requests,
            async_http=lambda: httpx2.AsyncClient(transport=provider.async_transport()),
            sync_http=lambda: httpx2.Client(transport=provider.sync_transport()),
        )
        return
    server: FakeServer = request.getfixturevalue("server")
    yield Target(
        origin=server.origin,
        url=server.url,
        set_faults=server.set_faults,
        requests=server.requests,
        async_http=lambda: None,  # the SDK's own default client: real sockets
        sync_http=lambda: None,
    )


@pytest.mark.anyio
async def test_anthropic_async_create_and_stream(target: Target) -> None:
    """AsyncAnthropic gets the reply, usage and stop reason, streamed or not."""
    async with target.anthropic_async() as client:
        message = await client.messages.create(
            model="claude-x", max_tokens=100, messages=USER, system="be kind"
        )
        assert message.content[0].type == "text"
        assert message.content[0].text == DEFAULT_REPLY
        assert (message.model, message.stop_reason) == ("claude-x", "end_turn")
        assert (message.usage.input_tokens, message.usage.output_tokens) == (5, 5)
        assert message._request_id is not None
        async with client.messages.stream(
            model="claude-x", max_tokens=3, messages=USER
        ) as stream:
            texts = [t async for t in stream.text_stream]
            final = await stream.get_final_message()
    assert texts == ["Hello", " from", " the"]
    assert final.stop_reason == "max_tokens"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (3, 3)
    assert [r.auth for r in target.requests()] == ["bearer", "bearer"]


def test_anthropic_sync_create_stream_and_models(target: Target) -> None:
    """The sync Anthropic client streams, continues a prefill and lists models."""
    with target.anthropic_sync() as client:
        prefilled = [*USER, {"role": "assistant", "content": "Hello from"}]
        message = client.messages.create(model="m", max_tokens=50, messages=prefilled)
        with client.messages.stream(model="m", max_tokens=50, messages=USER) as stream:
            text = "".join(stream.text_stream)
            final = stream.get_final_message()
        models = [m.id for m in client.models.list()]
    assert message.content[0].type == "text"
    assert message.content[0].text == " the fake provider."
    assert text == DEFAULT_REPLY
    assert final.stop_reason == "end_turn"
    assert models == ["claude-sonnet-4-5", "deepseek-v3.2", "gpt-4.1"]


@pytest.mark.anyio
async def test_openai_async_create_stream_and_models(target: Target) -> None:
    """AsyncOpenAI gets completions, streams with usage, and lists models."""
    async with target.openai_async() as client:
        completion = await client.chat.completions.create(model="gpt-x", messages=USER)  # type: ignore[arg-type]
        stream = await client.chat.completions.create(
            model="gpt-x",
            messages=USER,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
            max_tokens=4,
        )
        chunks = [chunk async for chunk in stream]
        models = [m.id async for m in client.models.list()]
    assert completion.choices[0].message.content == DEFAULT_REPLY
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens == 8
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the fake"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens == 4
    assert "gpt-4.1" in models


def test_openai_sync_create(target: Target) -> None:
    """The sync OpenAI client gets the reply and the requested model back."""
    with target.openai_sync() as client:
        completion = client.chat.completions.create(model="gpt-x", messages=USER)  # type: ignore[arg-type]
    assert completion.model == "gpt-x"
    assert completion.choices[0].message.content == DEFAULT_REPLY


@pytest.mark.anyio
async def test_bad_key_is_the_sdks_authentication_error(target: Target) -> None:
    """A wrong key surfaces as each SDK's AuthenticationError."""
    async with target.anthropic_async(key="wrong") as a:
        with pytest.raises(anthropic.AuthenticationError):
            await a.messages.create(model="m", max_tokens=5, messages=USER)
    with (
        target.openai_sync(key="wrong") as o,
        pytest.raises(openai.AuthenticationError),
    ):
        o.models.list()
    assert [r.key_valid for r in target.requests()] == [False, False]


@pytest.mark.anyio
async def test_rate_limit_with_retry_after_is_the_sdks_rate_limit_error(
    target: Target,
) -> None:
    """A 429 fault with Retry-After surfaces as RateLimitError carrying the header."""
    target.set_faults([Fault("status", status=429, retry_after=1)])
    async with target.anthropic_async() as a:
        with pytest.raises(anthropic.RateLimitError) as caught:
            await a.messages.create(model="m", max_tokens=5, messages=USER)
    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.request_id is not None
    with target.openai_sync() as o, pytest.raises(openai.RateLimitError) as oc:
        o.chat.completions.create(model="m", messages=USER)  # type: ignore[arg-type]
    assert oc.value.response.headers["retry-after"] == "1"


@pytest.mark.anyio
async def test_overloaded_is_the_anthropic_sdks_overloaded_error(
    target: Target,
) -> None:
    """A 529 fault surfaces as anthropic's OverloadedError."""
    target.set_faults([Fault("status", status=529)])
    async with target.anthropic_async() as a:
        with pytest.raises(anthropic.OverloadedError):
            await a.messages.create(model="m", max_tokens=5, messages=USER)


@pytest.mark.anyio
async def test_context_length_is_a_bad_request_the_sdks_report(target: Target) -> None:
    """context_length surfaces as BadRequestError with the provider's message and code."""
    target.set_faults([Fault("context_length")])
    async with target.anthropic_async() as a:
        with pytest.raises(anthropic.BadRequestError, match="prompt is too long"):
            await a.messages.create(model="m", max_tokens=5, messages=USER)
    async with target.openai_async() as o:
        with pytest.raises(openai.BadRequestError) as caught:
            await o.chat.completions.create(model="m", messages=USER)  # type: ignore[arg-type]
    assert caught.value.code == "context_length_exceeded"
    assert "maximum context length" in caught.value.message


async def read_text_stream(client: anthropic.AsyncAnthropic, into: list[str]) -> None:
    """Stream a message, appending each text delta to ``into``."""
    async with client.messages.stream(model="m", max_tokens=50, messages=USER) as s:
        async for text in s.text_stream:
            into.append(text)


@pytest.mark.anyio
async def test_cut_stream_raises_in_the_sdks_after_the_first_delta(
    target: Target,
) -> None:
    """A cut after one delta gives that delta, then an error while iterating."""
    target.set_faults([Fault("cut", after_chunks=1)])
    got: list[str] = []
    async with target.anthropic_async() as a:
        with pytest.raises((httpx2.TransportError, anthropic.APIConnectionError)):
            await read_text_stream(a, got)
    assert got == ["Hello"]
    with target.openai_sync() as o, pytest.raises(openai.APIConnectionError):
        for _ in o.chat.completions.create(model="m", messages=USER, stream=True):  # type: ignore[arg-type]
            pass


@pytest.mark.anyio
async def test_malformed_sse_and_stream_error_break_the_sdks(target: Target) -> None:
    """A garbage event fails JSON decoding; an error event is the SDK's API error."""
    target.set_faults([Fault("malformed_sse", times=1), Fault("stream_error")])
    async with target.anthropic_async() as a:
        with pytest.raises(ValueError, match="Unterminated"):
            async with a.messages.stream(model="m", max_tokens=50, messages=USER) as s:
                await s.get_final_message()
        with pytest.raises(anthropic.APIStatusError, match="overloaded_error"):
            async with a.messages.stream(model="m", max_tokens=50, messages=USER) as s:
                await s.get_final_message()
