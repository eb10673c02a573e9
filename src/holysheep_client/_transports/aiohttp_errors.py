"""
aiohttp's exceptions as the HTTP library's (httpx2 or httpx), in one table.

The aiohttp pool transport raises only the library's transport errors, as the
httpcore pool does, so every layer above it (and `map_exception`, which makes them
ours) stays the same. Each aiohttp class maps to the library class of the same
meaning; the table is ordered most specific first, and a test checks that every
exception class aiohttp exports has a row.
"""

from __future__ import annotations

from typing import Any

from .._runtime import RUNTIME

__all__ = ["AIOHTTP_ERRORS", "library_error", "upstream_pairs"]

#: (aiohttp module, class name) -> the library's class name, most specific first.
AIOHTTP_ERRORS: tuple[tuple[str, str, str], ...] = (
    ("client_exceptions", "ConnectionTimeoutError", "ConnectTimeout"),
    ("client_exceptions", "SocketTimeoutError", "ReadTimeout"),
    ("client_exceptions", "ServerTimeoutError", "ReadTimeout"),
    ("client_exceptions", "ClientProxyConnectionError", "ProxyError"),
    ("client_exceptions", "ClientHttpProxyError", "ProxyError"),
    ("client_exceptions", "ClientConnectorError", "ConnectError"),
    ("client_exceptions", "ServerFingerprintMismatch", "ConnectError"),
    ("client_exceptions", "ServerDisconnectedError", "RemoteProtocolError"),
    ("client_exceptions", "ClientConnectionResetError", "ReadError"),
    ("client_exceptions", "ClientOSError", "ReadError"),
    ("client_exceptions", "ServerConnectionError", "ReadError"),
    ("client_exceptions", "ClientConnectionError", "NetworkError"),
    ("client_exceptions", "ClientPayloadError", "RemoteProtocolError"),
    ("client_exceptions", "UploadAbortedError", "WriteError"),
    ("client_exceptions", "ClientResponseError", "RemoteProtocolError"),
    ("client_exceptions", "NonHttpUrlClientError", "UnsupportedProtocol"),
    ("client_exceptions", "InvalidURL", "LocalProtocolError"),
    ("client_exceptions", "RedirectClientError", "RemoteProtocolError"),
    ("client_exceptions", "WSMessageTypeError", "RemoteProtocolError"),
    ("client_exceptions", "ClientError", "TransportError"),
    ("http_exceptions", "HttpProcessingError", "RemoteProtocolError"),
)


def upstream_pairs(lib: Any) -> list[tuple[type[BaseException], type[Exception]]]:
    """
    The table resolved: (aiohttp class, ``lib``'s class), most specific first.
    """

    def build() -> list[tuple[type[BaseException], type[Exception]]]:
        import importlib

        out = []
        for module, name, target in AIOHTTP_ERRORS:
            mod = importlib.import_module(f"aiohttp.{module}")
            out.append((getattr(mod, name), getattr(lib, target)))
        return out

    return RUNTIME.cached(("aiohttp-errors", lib.__name__), build)


def library_error(
    exc: BaseException, pairs: list[tuple[type[BaseException], type[Exception]]]
) -> Exception | None:
    """
    ``exc`` as the library's error (its text kept, for ``__cause__`` readers), or
    ``None`` when it is not one of aiohttp's.
    """
    for upstream, target in pairs:
        if isinstance(exc, upstream):
            try:
                text = str(exc)
            except Exception:  # a half-built exception: its class still says it
                text = ""
            return target(
                f"{type(exc).__name__}: {text}" if text else type(exc).__name__
            )
    return None
