"""The on-disk grade cache: arrays in ``<key>.npz``, a JSON sidecar holding their sha256.

A cache is only as good as its check. Each entry is written atomically, the arrays first, and the
sidecar records the sha256 of the exact ``.npz`` bytes with the key they belong to; on load the
bytes are hashed again before numpy reads them. An entry that does not verify (truncated or edited
arrays, an unreadable or foreign sidecar, arrays of another shape) is reported in one line on
stderr and treated as absent, so it is graded again and replaced, never reused and never a
traceback.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from optscale_pools import jsonread
from optscale_pools.atomic import write_bytes_atomic, write_text_atomic
from optscale_pools.pool import PoolFormatError

ARRAYS = ("correct", "correct_swapped", "raw_ids", "cluster_ids")
"""The arrays of one entry, each ``[P, K]``."""


class _Unverified(Exception):
    """A cache entry that cannot be trusted; the message says why."""


def save_entry(
    folder: Path,
    key: str,
    arrays: dict[str, npt.NDArray[Any]],
    failed: tuple[int, ...],
    about: dict[str, Any],
) -> None:
    """Store one entry: ``<key>.npz``, then ``<key>.json`` (sha256, ``failed``, ``about``)."""
    buffer = io.BytesIO()
    named: dict[str, Any] = {name: arrays[name] for name in ARRAYS}
    np.savez_compressed(buffer, **named)
    data = buffer.getvalue()
    sidecar = {
        **about,
        "key": key,
        "npz_sha256": hashlib.sha256(data).hexdigest(),
        "failed": list(failed),
    }
    write_bytes_atomic(folder / f"{key}.npz", data)
    write_text_atomic(folder / f"{key}.json", json.dumps(sidecar, indent=1))


def load_entry(
    folder: Path, key: str, shape: tuple[int, ...]
) -> tuple[dict[str, npt.NDArray[Any]], tuple[int, ...]] | None:
    """Return the arrays and failed rows of entry ``key``; None when absent or not verified."""
    arrays, sidecar = folder / f"{key}.npz", folder / f"{key}.json"
    if not (arrays.is_file() and sidecar.is_file()):
        return None
    try:
        return _verified(arrays, sidecar, key, shape)
    except _Unverified as error:
        print(f"grade cache {arrays} does not verify ({error}); grading again", file=sys.stderr)
        return None


def _verified(
    arrays: Path, sidecar: Path, key: str, shape: tuple[int, ...]
) -> tuple[dict[str, npt.NDArray[Any]], tuple[int, ...]]:
    """Read and check one entry (raises ``_Unverified``)."""
    try:
        meta = jsonread.loads(sidecar.read_bytes(), str(sidecar))
        data = arrays.read_bytes()
    except (OSError, PoolFormatError) as error:
        raise _Unverified(str(error)) from None
    if not isinstance(meta, dict) or meta.get("key") != key:
        raise _Unverified("sidecar of another format or key")
    if hashlib.sha256(data).hexdigest() != meta.get("npz_sha256"):
        raise _Unverified("sha256 of the arrays differs from the sidecar's")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            values = {name: np.asarray(stored[name]) for name in ARRAYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise _Unverified(f"unreadable arrays: {error}") from None
    failed = meta.get("failed")
    rows = shape[0]
    if not (isinstance(failed, list) and all(type(v) is int and 0 <= v < rows for v in failed)):
        raise _Unverified("malformed list of failed problems")
    if any(v.shape != shape for v in values.values()):
        raise _Unverified("arrays of another shape than the pool")
    return values, tuple(failed)
