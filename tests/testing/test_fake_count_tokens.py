"""
The fake's ``POST /v1/messages/count_tokens``: validated like a chat body with the
endpoint's own fields, the same count a chat reports, 404 where a relay lacks it,
and read by the real anthropic SDK.
"""

from __future__ import annotations

from typing import Any

import anthropic
import anthropic.types.message_count_tokens_params as params
import httpx2
import pytest
from fake_helpers import ANTHROPIC, ANTHROPIC_TOOL, KEY, USER, error_of, messages

from holysheep_client.testing import FakeProvider, FakeServer
from holysheep_client.testing._count import COUNT_FIELDS


def count(provider: FakeProvider, method: str = "POST", **body: Any) -> httpx2.Response:
    """A count request with the right headers; ``body`` overrides the defaults."""
    payload = {"model": "claude-x", "messages": USER, **body}
    with httpx2.Client(transport=provider.sync_transport(), base_url=provider.url) as c:
        return c.request(
            method, "/messages/count_tokens", json=payload, headers=ANTHROPIC
        )


def test_the_count_is_what_a_chat_of_the_body_reports() -> None:
    """``input_tokens`` equals the chat's usage for the same system, messages, tools."""
    fake = FakeProvider()
    body = {"system": "be kind", "tools": [ANTHROPIC_TOOL]}
    counted = count(fake, **body)
    answered = messages(fake, **body)
    assert counted.status_code == 200, counted.text
    assert counted.json() == {"input_tokens": answered.json()["usage"]["input_tokens"]}
    assert fake.requests[0].endpoint == "count"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"max_tokens": 10}, "max_tokens: Extra inputs are not permitted"),
        ({"stream": True}, "stream: Extra inputs are not permitted"),
        ({"metadata": {"user_id": "u"}}, "metadata: Extra inputs are not permitted"),
        ({"messages": []}, "messages"),
        ({"tools": [{"input_schema": {"type": "object"}}]}, "tools.0"),
    ],
)
def test_refused_as_the_real_endpoint_refuses(
    body: dict[str, Any], needle: str
) -> None:
    """Chat-only fields and broken messages or tools get the API's 400."""
    assert needle in error_of(count(FakeProvider(), **body))


def test_only_post_and_only_where_the_endpoint_exists() -> None:
    """GET is 405; a provider made without the endpoint answers 404."""
    assert count(FakeProvider(), method="GET").status_code == 405
    without = FakeProvider(count_tokens=False)
    assert count(without).status_code == 404
    assert "count_tokens=False" in repr(without)


def test_every_field_of_the_sdk_params_is_known() -> None:
    """The installed SDK's count params (bar the header-only ones) are all taken."""
    headers_only = {"user_profile_id", "workspace_id"}
    sdk_fields = set(params.MessageCountTokensParams.__annotations__) - headers_only
    assert sdk_fields <= COUNT_FIELDS


def test_the_anthropic_sdk_reads_the_count_and_the_server_can_drop_it() -> None:
    """``messages.count_tokens`` parses the loopback answer; configure turns it off."""
    with FakeServer.start(api_key=KEY) as server:
        sdk = anthropic.Anthropic(api_key=KEY, base_url=server.origin, max_retries=0)
        got = sdk.messages.count_tokens(model="claude-x", messages=USER)
        assert got.input_tokens > 0
        server.configure(count_tokens=False)
        with pytest.raises(anthropic.NotFoundError):
            sdk.messages.count_tokens(model="claude-x", messages=USER)
        sdk.close()
