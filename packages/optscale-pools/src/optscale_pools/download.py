"""Bounded, retried download of one file, verified against its expected size and sha256.

A download must end, whatever the other side does: every connect and read waits at most a read
timeout, the whole file (retries included) has a deadline, and at most ``size + 1`` bytes are
read, so a source that serves too much is caught at once instead of filling the disk. Failed
connections, timeouts and HTTP 5xx/429 answers are retried with a doubling pause; a 4xx answer, a
missing local file and a checksum mismatch are not (they would fail the same way again).
"""

from __future__ import annotations

import hashlib
import http.client
import io
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from optscale_pools.atomic import atomic_output

_BLOCK = 1 << 20


class ChecksumError(RuntimeError):
    """A downloaded file does not match the sha256 of the manifest (it was not kept)."""


class FetchError(OSError):
    """A file could not be downloaded: the message names the URL, the file and what failed."""


class _Retry(Exception):
    """A failure that may not happen again: wait, then try once more."""


@dataclass(frozen=True)
class Limits:
    """How long a download may take and how often it is tried.

    Attributes
    ----------
    read_timeout
        Seconds one connect or read may wait for data.
    deadline
        Seconds the whole file may take, retries and pauses included; checked after every read,
        so a download ends at most one ``read_timeout`` past it.
    retries
        Further attempts after a retryable failure.
    pause
        Seconds before the first retry; doubled before each next one.
    """

    read_timeout: float
    deadline: float
    retries: int
    pause: float = 1.0

    def __post_init__(self) -> None:
        checks = (  # NaN fails every comparison
            ("read_timeout", 0 < self.read_timeout < math.inf, "a positive finite number"),
            ("deadline", self.deadline > 0, "a positive number"),
            ("retries", isinstance(self.retries, int) and self.retries >= 0, "an integer >= 0"),
            ("pause", 0 <= self.pause < math.inf, "a finite number >= 0"),
        )
        for name, ok, rule in checks:
            if not ok:
                msg = f"{name} must be {rule}, got {getattr(self, name)!r}"
                raise ValueError(msg)


@dataclass(frozen=True)
class Expected:
    """What the downloaded file must be: its name (for messages), size and sha256."""

    name: str
    size: int
    sha256: str


def download(url: str, target: Path, expected: Expected, limits: Limits, hint: str) -> None:
    """Download ``url`` to ``target`` (atomically) if it has the expected size and sha256.

    Parameters
    ----------
    url
        A ``file://`` or ``http(s)://`` URL.
    target
        Where the verified file goes; nothing is written there on any failure.
    expected
        The file's name, size and sha256.
    limits
        Timeouts, deadline and retries.
    hint
        Appended to a failure's message (where else the file may come from).

    Raises
    ------
    FetchError
        When the source cannot be read within the limits (naming URL, file and cause).
    ChecksumError
        When the bytes differ from the expected size or sha256.
    """
    stop = time.monotonic() + limits.deadline
    attempt = 0
    while True:
        attempt += 1
        try:
            _attempt(url, target, expected, limits.read_timeout, stop)
            return
        except _Retry as error:
            pause = limits.pause * 2 ** (attempt - 1)
            if attempt > limits.retries or time.monotonic() + pause >= stop:
                tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                msg = f"cannot download {expected.name} from {url}: {error} ({tries}); {hint}"
                raise FetchError(msg) from None
            time.sleep(pause)
        except FetchError as error:
            msg = f"cannot download {expected.name} from {url}: {error}; {hint}"
            raise FetchError(msg) from None


def _attempt(url: str, target: Path, expected: Expected, read_timeout: float, stop: float) -> None:
    """One try: stream at most ``size + 1`` bytes into a temporary file, then verify them."""
    with atomic_output(target, binary=True) as out, _open(url, read_timeout, stop) as stream:
        digest = hashlib.sha256()
        got = 0
        while True:
            try:
                block = stream.read1(min(_BLOCK, expected.size + 1 - got))
            except (OSError, http.client.HTTPException) as error:
                raise _Retry(_reason(error)) from None
            if not block:
                break
            got += len(block)
            if got > expected.size:
                msg = (
                    f"{url}: more than the manifest's {expected.size} bytes for "
                    f"{expected.name}; stopped reading, the file was not kept"
                )
                raise ChecksumError(msg)
            digest.update(block)
            out.write(block)
            if time.monotonic() > stop:
                raise FetchError(f"deadline passed with {got} of {expected.size} bytes read")
        if digest.hexdigest() != expected.sha256:
            msg = (
                f"{url}: sha256 {digest.hexdigest()} ({got} bytes) does not match the "
                f"manifest's {expected.sha256} ({expected.size} bytes) for {expected.name}; "
                "the file was not kept"
            )
            raise ChecksumError(msg)


def _open(url: str, read_timeout: float, stop: float) -> io.BufferedIOBase:
    """Open a ``file://`` or ``http(s)://`` URL for reading bytes; classify failures."""
    if url.startswith("file://"):
        local = urllib.request.url2pathname(urllib.parse.urlparse(url).path)
        try:
            return cast(io.BufferedIOBase, Path(local).open("rb"))
        except OSError as error:
            raise FetchError(_reason(error)) from None
    if not url.startswith(("http://", "https://")):
        raise FetchError("unsupported URL scheme (expected file://, http:// or https://)")
    timeout = max(0.001, min(read_timeout, stop - time.monotonic()))
    try:
        return cast(io.BufferedIOBase, urllib.request.urlopen(url, timeout=timeout))
    except urllib.error.HTTPError as error:
        reason = f"HTTP {error.code} {error.reason}"
        error.close()
        if error.code >= 500 or error.code == 429:
            raise _Retry(reason) from None
        raise FetchError(reason) from None
    except (OSError, http.client.HTTPException) as error:
        raise _Retry(_reason(error)) from None


def _reason(error: BaseException) -> str:
    """Return a short cause for a failure message (``URLError`` wraps the socket error)."""
    if isinstance(error, urllib.error.URLError) and not isinstance(error.reason, str):
        error = error.reason
    if isinstance(error, TimeoutError):
        return "no data within the read timeout"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
