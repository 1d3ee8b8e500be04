"""Calls to the upstream endpoints (generator replicas, reward model) and their failures.

Every failure becomes a [`ServeError`][optscale_gen.ServeError] carrying the HTTP status the
server answers with: 504 when an endpoint times out, 502 when it refuses the connection, fails
(5xx) or answers something that is not the expected JSON, and the endpoint's own status for its
4xx answers (the request itself was bad). A refused connection is retried on the next replica,
since the request never reached the first one.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from optscale_gen._errors import ServeError

if TYPE_CHECKING:
    import httpx

POLICIES = ("round-robin", "least-outstanding")
"""Load-balancing policies over replicas."""


class Replicas:
    """Endpoints serving the same model, chosen per call by ``policy``.

    Parameters
    ----------
    urls
        Base URLs (``http://host:port/v1``); at least one.
    policy
        ``"round-robin"`` (in turn) or ``"least-outstanding"`` (fewest calls in flight, ties in
        turn).
    """

    def __init__(self, urls: Sequence[str], policy: str = "round-robin") -> None:
        if not urls:
            raise ValueError("at least one upstream URL is needed")
        if policy not in POLICIES:
            raise ValueError(f"unknown load-balancing policy {policy!r}; choose from {POLICIES}")
        self.urls = [url.rstrip("/") for url in urls]
        self.policy = policy
        self.outstanding = dict.fromkeys(self.urls, 0)
        self._turn = itertools.count()

    def order(self) -> list[str]:
        """Every replica, the one to try first at the front."""
        start = next(self._turn) % len(self.urls)
        turn = self.urls[start:] + self.urls[:start]
        if self.policy == "least-outstanding":
            turn.sort(key=self.outstanding.__getitem__)  # stable: ties keep the turn order
        return turn

    @contextmanager
    def using(self, url: str) -> Iterator[None]:
        """Count a call to ``url`` as outstanding while the block runs."""
        self.outstanding[url] += 1
        try:
            yield
        finally:
            self.outstanding[url] -= 1


Record = Callable[[str, str], None]
"""``record(url, outcome)``: called once per call with ``"ok"`` or the failure's kind."""


async def post_json(
    client: httpx.AsyncClient,
    replicas: Replicas,
    path: str,
    body: dict[str, Any],
    *,
    what: str,
    record: Record | None = None,
) -> dict[str, Any]:
    """POST ``body`` to ``path`` on a replica and return the decoded JSON object.

    Parameters
    ----------
    client
        The shared HTTP client (its timeout applies).
    replicas
        Where to send it; a refused connection moves on to the next replica.
    path
        Path under the base URL, e.g. ``"/chat/completions"``.
    body
        JSON body.
    what
        Names the endpoint in error messages and error types (``"upstream"``, ``"scorer"``).
    record
        Optional callback for metrics.

    Raises
    ------
    ServeError
        On any failure; see the module docstring for the status codes.
    """
    import httpx  # here, not at import: importing optscale_gen stays free of the web stack

    refused: list[str] = []
    for url in replicas.order():
        try:
            with replicas.using(url):
                response = await client.post(url + path, json=body)
        except httpx.ConnectError:
            _note(record, url, "refused")
            refused.append(url)
            continue
        except httpx.TimeoutException as error:
            _note(record, url, "timeout")
            message = f"{what} {url} timed out ({type(error).__name__})"
            raise ServeError(504, message, f"{what}_timeout") from error
        except httpx.HTTPError as error:
            _note(record, url, "transport")
            message = f"{what} {url} failed: {type(error).__name__}: {error}"
            raise ServeError(502, message, f"{what}_error") from error
        return _decode(response, url, what, record)
    _note(record, "none", "unavailable")
    message = f"no {what} accepted the connection (tried {', '.join(refused)})"
    raise ServeError(502, message, f"{what}_unavailable")


def _decode(response: httpx.Response, url: str, what: str, record: Record | None) -> dict[str, Any]:
    status = response.status_code
    if status >= 400:
        _note(record, url, f"http_{status // 100}xx")
        detail = _error_message(response)
        if status >= 500:
            raise ServeError(502, f"{what} {url} answered {status}: {detail}", f"{what}_error")
        kind = "rate_limit_error" if status == 429 else "invalid_request_error"
        raise ServeError(status, f"{what} refused the request: {detail}", kind)
    try:
        payload = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        _note(record, url, "malformed")
        message = f"{what} {url} answered malformed JSON ({error})"
        raise ServeError(502, message, f"{what}_error") from error
    if not isinstance(payload, dict):
        _note(record, url, "malformed")
        raise ServeError(502, f"{what} {url} answered JSON that is not an object", f"{what}_error")
    _note(record, url, "ok")
    return payload


def _error_message(response: httpx.Response) -> str:
    try:
        payload = response.json()
        message = payload["error"]["message"] if "error" in payload else payload.get("message")
    except (ValueError, TypeError, KeyError, AttributeError):
        message = None
    text = str(message) if message else response.text
    return " ".join(text.split())[:300] or "(empty body)"


def _note(record: Record | None, url: str, outcome: str) -> None:
    if record is not None:
        record(url, outcome)
