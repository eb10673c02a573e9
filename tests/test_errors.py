"""
The error tree: every upstream HTTP exception has a mapping, and messages carry no secrets.
"""

from __future__ import annotations

import httpx
import httpx2
import pytest

from holysheep_client import errors
from holysheep_client._protocols._errors import error_for_status

UPSTREAM = sorted(
    {
        obj
        for mod in (httpx2, httpx)
        for obj in vars(mod).values()
        if isinstance(obj, type)
        and issubclass(obj, mod.HTTPError | mod.StreamError | mod.InvalidURL)
        and obj is not mod.HTTPStatusError
    },
    key=lambda c: f"{c.__module__}.{c.__qualname__}",
)


def _make(cls: type[BaseException]) -> BaseException:
    try:
        return cls("boom sk-secret")
    except TypeError:
        return cls.__new__(cls)


@pytest.mark.parametrize("cls", UPSTREAM, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_upstream_exception_has_a_mapping(cls: type[BaseException]) -> None:
    """Each httpx2/httpx exception class maps to one of ours, with the class name only."""
    ours = errors.map_exception(_make(cls), provider="p")
    assert isinstance(ours, errors.APIConnectionError)
    assert "sk-secret" not in str(ours)
    if "Timeout" in cls.__name__:
        assert isinstance(ours, errors.APITimeoutError)


def test_map_transport_errors_chains_the_cause() -> None:
    """The context manager raises ours `from` the upstream exception."""
    with (
        pytest.raises(errors.APITimeoutError) as info,
        errors.map_transport_errors("p"),
    ):
        raise httpx2.ReadTimeout("slow")
    assert isinstance(info.value.__cause__, httpx2.ReadTimeout)
    assert info.value.provider == "p"


def test_other_exceptions_pass_through() -> None:
    """Exceptions that are not HTTP ones are not translated."""
    with pytest.raises(KeyError), errors.map_transport_errors("p"):
        raise KeyError("x")


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (422, errors.BadRequestError),
        (429, errors.RateLimitError),
        (500, errors.ServerError),
        (529, errors.ServerError),
        (418, errors.APIError),
    ],
)
def test_error_for_status(status: int, cls: type[errors.APIError]) -> None:
    """Statuses map to the documented classes."""
    err = error_for_status(status, "m", provider="p", retry_after=3.0)
    assert type(err) is cls and err.status_code == status
