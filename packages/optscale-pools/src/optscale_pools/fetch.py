"""Checksummed download of the paper's public data files listed in ``data/manifest.json``.

Where things are:

* the manifest: ``$OPTSCALE_MANIFEST`` if set, else ``data/manifest.json`` of the repository
  this package sits in (found by walking up from the package, then from the working directory);
* the cache: ``$OPTSCALE_CACHE`` if set, else ``data/cache`` next to the manifest (git-ignored),
  else ``~/.cache/optscale``; upstream files go to ``<cache>/upstream/<path>``;
* the source: each file's upstream URL, or ``$OPTSCALE_DATA_MIRROR`` + ``/`` + its path when that
  is set (a directory, a ``file://`` URL, or an ``http(s)://`` base URL).

Every file is checked against its sha256 before it lands in the cache (written to a temp file in
the same directory, then renamed), so the cache holds verified files only; a file already there
with the right checksum is not fetched again.

Downloads are bounded: every read waits at most ``READ_TIMEOUT`` seconds, each file has an
overall deadline (``FILE_DEADLINE`` seconds, retries included), a failed connection or a
server error is retried ``RETRIES`` times with a growing pause, and no more than the
manifest's size plus one byte is ever read, so a source serving too much fails its checksum at
once. A manifest path that would leave the cache (``../``, an absolute path) is refused when the
manifest is read.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from optscale_pools import jsonread
from optscale_pools.atomic import UnsafePathError, check_relative_name, contained_path
from optscale_pools.download import Expected, Limits, download
from optscale_pools.pool import PoolFormatError

MIRROR_ENV = "OPTSCALE_DATA_MIRROR"
CACHE_ENV = "OPTSCALE_CACHE"
MANIFEST_ENV = "OPTSCALE_MANIFEST"
_BLOCK = 1 << 20

READ_TIMEOUT = 30.0
"""Seconds one connect or read of a download may wait for data."""

FILE_DEADLINE = 300.0
"""Seconds one file's download may take in all, retries included."""

RETRIES = 3
"""Further attempts after a failed connection, a timeout or an HTTP 5xx answer."""


class NoSourceError(FileNotFoundError):
    """A file has no public URL and no mirror (``OPTSCALE_DATA_MIRROR``) is set to serve it."""


@dataclass(frozen=True)
class ManifestEntry:
    """One upstream file: its path relative to the upstream root, URL, size and sha256.

    ``url`` is None for files with no public URL of their own (``notebook_figures/*``: numbers
    printed by the upstream notebooks, extracted into JSON); they come from a mirror only.
    """

    path: str
    url: str | None
    sha256: str
    bytes: int


def find_manifest() -> Path:
    """Locate ``data/manifest.json`` (see the module docstring for the search order)."""
    override = os.environ.get(MANIFEST_ENV)
    if override:
        return Path(override)
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for folder in start.parents if start.is_file() else (start, *start.parents):
            candidate = folder / "data" / "manifest.json"
            if candidate.is_file():
                return candidate
    msg = f"no data/manifest.json above {Path(__file__).parent} or {Path.cwd()}; set {MANIFEST_ENV}"
    raise FileNotFoundError(msg)


def cache_root() -> Path:
    """Return the cache folder (``$OPTSCALE_CACHE``, the repo's ``data/cache`` or ``~/.cache``)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    try:
        return find_manifest().parent / "cache"
    except FileNotFoundError:
        return Path.home() / ".cache" / "optscale"


def load_manifest(path: str | Path | None = None) -> list[ManifestEntry]:
    """Read and check the manifest's file list (``path`` defaults to ``find_manifest()``).

    Raises
    ------
    PoolFormatError
        When the manifest is not valid JSON or an entry is malformed, naming the entry and the
        field; a ``path`` that is absolute or holds ``..`` is refused here, before any download.
    """
    manifest = Path(path) if path is not None else find_manifest()
    source = str(manifest)
    data = jsonread.loads(manifest.read_bytes(), source)
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list):
        raise PoolFormatError(source, None, "files", "expected an object with a list 'files'")
    return [_entry(item, source, index) for index, item in enumerate(files)]


def _entry(item: Any, source: str, index: int) -> ManifestEntry:
    """Check one manifest entry (types, a safe relative path, a sha256, a size)."""
    if not isinstance(item, dict):
        raise PoolFormatError(source, index, None, "expected an object per file")
    relpath, url, sha256, size = (item.get(k) for k in ("path", "url", "sha256", "bytes"))
    if not isinstance(relpath, str):
        raise PoolFormatError(source, index, "path", "missing or not a string")
    try:
        check_relative_name(relpath)
    except UnsafePathError as error:
        raise PoolFormatError(source, index, "path", str(error)) from None
    if url is not None and not isinstance(url, str):
        raise PoolFormatError(source, index, "url", "not a string or null")
    hexdigits = set("0123456789abcdef")
    if not (isinstance(sha256, str) and len(sha256) == 64 and set(sha256) <= hexdigits):
        raise PoolFormatError(source, index, "sha256", "not 64 lowercase hex digits")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size < 1 << 40:
        raise PoolFormatError(source, index, "bytes", "not an integer in [0, 2**40)")
    return ManifestEntry(path=relpath, url=url, sha256=sha256, bytes=size)


def source_url(entry: ManifestEntry, mirror: str | None = None) -> str:
    """Where to download ``entry`` from: the mirror (argument or env var) or its upstream URL."""
    base = mirror if mirror is not None else os.environ.get(MIRROR_ENV)
    if not base:
        if entry.url is None:
            msg = f"{entry.path} has no public URL; set {MIRROR_ENV} to a mirror holding it"
            raise NoSourceError(msg)
        return entry.url
    if "://" not in base:
        base = Path(base).resolve().as_uri()
    return base.rstrip("/") + "/" + urllib.parse.quote(entry.path)


def fetch(
    only: str | None = None,
    *,
    cache: str | Path | None = None,
    manifest: str | Path | None = None,
    mirror: str | None = None,
    progress: bool = True,
    read_timeout: float = READ_TIMEOUT,
    deadline: float = FILE_DEADLINE,
    retries: int = RETRIES,
    pause: float = 1.0,
) -> list[Path]:
    """Download the manifest's files (those matching the glob ``only``) into the cache.

    Without a mirror, a full fetch skips the files that have no public URL (with a note on
    stderr); asking for one of them by ``only`` raises ``FileNotFoundError``.

    Parameters
    ----------
    only
        ``fnmatch`` glob on the upstream path, e.g. ``"data/test_prompts/*"``; all when None.
    cache
        Cache folder (default [`cache_root`][optscale_pools.cache_root]); files land in
        ``<cache>/upstream/<path>``.
    manifest
        Manifest file (default `find_manifest`).
    mirror
        Base replacing the upstream URLs (default ``$OPTSCALE_DATA_MIRROR``).
    progress
        Show tqdm progress bars.
    read_timeout
        Seconds one connect or read may wait for data.
    deadline
        Seconds one file may take in all, retries included.
    retries
        Further attempts after a failed connection, a timeout or an HTTP 5xx answer.
    pause
        Seconds before the first retry, doubled before each next one.

    Returns
    -------
    list of pathlib.Path
        The verified local files, in manifest order.

    Raises
    ------
    ChecksumError
        When a download's size or sha256 differs from the manifest (nothing is written).
    FetchError
        When a source cannot be read within the limits (an ``OSError`` naming URL and file).
    PoolFormatError
        When the manifest is malformed or an entry's path would leave the cache.
    """
    entries = [e for e in load_manifest(manifest) if only is None or fnmatch.fnmatch(e.path, only)]
    if not entries:
        msg = f"no manifest entry matches {only!r}"
        raise ValueError(msg)
    root = Path(cache) if cache is not None else cache_root()
    if only is None and not (mirror or os.environ.get(MIRROR_ENV)):
        skipped = [e.path for e in entries if e.url is None]
        entries = [e for e in entries if e.url is not None]
        if skipped:
            note = f"skipped {len(skipped)} files with no public URL (set {MIRROR_ENV}): "
            print(note + ", ".join(skipped), file=sys.stderr)
    limits = Limits(read_timeout, deadline, retries, pause)
    paths = []
    bar = tqdm(entries, desc="fetch", unit="file", disable=not progress)
    for entry in bar:
        bar.set_postfix_str(entry.path, refresh=False)
        paths.append(_fetch_one(entry, root / "upstream", mirror, limits))
    return paths


def data_file(relpath: str, *, cache: str | Path | None = None) -> Path:
    """Local, verified path of one upstream file (e.g. ``"data/test_prompts/aime24.json"``).

    Fetches it (from ``$OPTSCALE_DATA_MIRROR`` or upstream) when it is not yet in the cache.
    """
    entries = [e for e in load_manifest() if e.path == relpath]
    if not entries:
        msg = f"{relpath!r} is not in the manifest {find_manifest()}"
        raise KeyError(msg)
    root = Path(cache) if cache is not None else cache_root()
    limits = Limits(read_timeout=READ_TIMEOUT, deadline=FILE_DEADLINE, retries=RETRIES)
    return _fetch_one(entries[0], root / "upstream", None, limits)


def _fetch_one(entry: ManifestEntry, root: Path, mirror: str | None, limits: Limits) -> Path:
    """Return the cached file, downloading and verifying it first if needed."""
    target = contained_path(root, entry.path)
    cached = target.is_file() and target.stat().st_size == entry.bytes
    if cached and _sha256_file(target) == entry.sha256:
        return target
    url = source_url(entry, mirror)
    base = mirror if mirror is not None else os.environ.get(MIRROR_ENV)
    hint = (
        f"check the mirror {base} ({MIRROR_ENV})"
        if base
        else f"set {MIRROR_ENV} to a folder or URL holding the upstream files"
    )
    download(url, target, Expected(entry.path, entry.bytes, entry.sha256), limits, hint)
    return target


def _sha256_file(path: Path) -> str:
    """sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in _iter_blocks(stream):
            digest.update(block)
    return digest.hexdigest()


def _iter_blocks(stream: IO[bytes]) -> Iterator[bytes]:
    """Yield the bytes of ``stream`` in blocks of 1 MiB."""
    yield from iter(lambda: stream.read(_BLOCK), b"")
