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
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tqdm import tqdm

from optscale_pools.atomic import atomic_output

MIRROR_ENV = "OPTSCALE_DATA_MIRROR"
CACHE_ENV = "OPTSCALE_CACHE"
MANIFEST_ENV = "OPTSCALE_MANIFEST"
_BLOCK = 1 << 20


class ChecksumError(RuntimeError):
    """A downloaded file does not match the sha256 of the manifest (it was not kept)."""


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
    """Read the manifest's file list (``path`` defaults to :func:`find_manifest`)."""
    manifest = Path(path) if path is not None else find_manifest()
    data = json.loads(manifest.read_text(encoding="utf-8"))
    return [
        ManifestEntry(path=f["path"], url=f.get("url"), sha256=f["sha256"], bytes=int(f["bytes"]))
        for f in data["files"]
    ]


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
) -> list[Path]:
    """Download the manifest's files (those matching the glob ``only``) into the cache.

    Without a mirror, a full fetch skips the files that have no public URL (with a note on
    stderr); asking for one of them by ``only`` raises ``FileNotFoundError``.

    Parameters
    ----------
    only
        ``fnmatch`` glob on the upstream path, e.g. ``"data/test_prompts/*"``; all when None.
    cache
        Cache folder (default :func:`cache_root`); files land in ``<cache>/upstream/<path>``.
    manifest
        Manifest file (default :func:`find_manifest`).
    mirror
        Base replacing the upstream URLs (default ``$OPTSCALE_DATA_MIRROR``).
    progress
        Show tqdm progress bars.

    Returns
    -------
    list of pathlib.Path
        The verified local files, in manifest order.

    Raises
    ------
    ChecksumError
        When a download's sha256 differs from the manifest (nothing is written).
    OSError
        When a source cannot be read (``urllib.error.URLError`` for URLs).
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
    paths = []
    bar = tqdm(entries, desc="fetch", unit="file", disable=not progress)
    for entry in bar:
        bar.set_postfix_str(entry.path, refresh=False)
        paths.append(_fetch_one(entry, root / "upstream", mirror))
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
    return _fetch_one(entries[0], root / "upstream", None)


def _fetch_one(entry: ManifestEntry, root: Path, mirror: str | None) -> Path:
    """Return the cached file, downloading and verifying it first if needed."""
    target = root / entry.path
    if target.is_file() and _sha256_file(target) == entry.sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    url = source_url(entry, mirror)
    with atomic_output(target, binary=True) as out, _open(url) as stream:
        digest = hashlib.sha256()
        for block in _iter_blocks(stream):
            digest.update(block)
            out.write(block)
        if digest.hexdigest() != entry.sha256:
            msg = (
                f"{url}: sha256 {digest.hexdigest()} does not match the manifest's "
                f"{entry.sha256} for {entry.path}; the file was not kept"
            )
            raise ChecksumError(msg)
    return target


def _open(url: str) -> IO[bytes]:
    """Open a ``file://`` or ``http(s)://`` URL for reading bytes."""
    if url.startswith("file://"):
        local = urllib.request.url2pathname(urllib.parse.urlparse(url).path)
        return Path(local).open("rb")
    if not url.startswith(("http://", "https://")):
        msg = f"unsupported URL scheme: {url}"
        raise ValueError(msg)
    response: IO[bytes] = urllib.request.urlopen(url, timeout=60)
    return response


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
