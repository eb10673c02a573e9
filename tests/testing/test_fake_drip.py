"""
The drip fault: a slow-loris upstream that sends its headers or body one byte at a
time, on the in-process transports (virtual time) and on the loopback server.
"""

from __future__ import annotations

import time

import httpx2
import pytest

from holysheep_client.testing import (
    DEFAULT_API_KEY,
    FakeClock,
    FakeProvider,
    FakeServer,
    Fault,
)

BODY = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
HEADERS = {"x-api-key": DEFAULT_API_KEY, "anthropic-version": "2023-06-01"}


def test_a_body_drip_sends_one_byte_per_step_at_the_rate() -> None:
    """In process, each body byte comes in its own chunk, 1/rate seconds apart."""
    clock = FakeClock()
    fake = FakeProvider(clock=clock, faults=[Fault("drip", rate=100)])
    http = httpx2.Client(transport=fake.sync_transport(), base_url=fake.url)
    with http, http.stream("POST", "/messages", json=BODY, headers=HEADERS) as r:
        chunks = list(r.iter_raw())
    assert r.status_code == 200
    assert chunks and {len(c) for c in chunks} == {1}
    assert clock.monotonic() == pytest.approx(len(chunks) / 100)


def test_a_header_drip_delays_the_headers_byte_by_byte() -> None:
    """In process, the headers arrive after one 1/rate wait per header byte."""
    clock = FakeClock()
    fake = FakeProvider(clock=clock, faults=[Fault("drip", rate=1000, drip="headers")])
    with httpx2.Client(transport=fake.sync_transport(), base_url=fake.url) as http:
        r = http.post("/messages", json=BODY, headers=HEADERS)
    assert r.status_code == 200 and r.json()["type"] == "message"
    waits = [s for s in clock.sleeps if s == pytest.approx(0.001)]
    assert len(waits) > 100 and clock.monotonic() == pytest.approx(len(waits) / 1000)


def test_the_server_drips_its_headers_over_a_real_socket() -> None:
    """On loopback, a header drip at 400 bytes/s makes the headers take about len/400 s."""
    drip = Fault("drip", rate=400, drip="headers")
    with FakeServer.start(faults=[drip]) as server, httpx2.Client(timeout=10) as http:
        start = time.monotonic()
        r = http.post(f"{server.url}/messages", json=BODY, headers=HEADERS)
        took = time.monotonic() - start
    assert r.status_code == 200 and r.json()["type"] == "message"
    assert took >= 100 / 400, "at least 100 header bytes, one at a time"
