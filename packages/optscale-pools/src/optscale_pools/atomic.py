"""Atomic file output for the whole toolkit: a reader never sees half a file.

Everything is written to a temporary file beside the target and moved onto it with
``os.replace`` only once complete; on any error the temporary file is removed and the target is
left as it was. Finished files get the permissions ``open`` would give them (0o666 less the
umask), not the owner-only ones of ``tempfile.mkstemp``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def _file_mode() -> int:
    """Permissions of a newly created file under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for a writer that needs a file name.

    When the block ends normally the temporary file is moved onto ``path``; when it raises, the
    temporary file is removed. The parent folder is created if missing.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    try:
        yield Path(temp)
        os.chmod(temp, _file_mode())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_output(path: str | Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """Yield an open file (text in UTF-8, written as given; or binary) that replaces ``path``.

    The data are flushed to disk before the file is moved into place (see :func:`atomic_path`).
    """
    with atomic_path(path) as temp:
        out: IO[Any]
        with temp.open("wb") if binary else temp.open("w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_output`); return the path."""
    with atomic_output(path) as out:
        out.write(text)
    return Path(path)


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_output`); return the path."""
    with atomic_output(path, binary=True) as out:
        out.write(data)
    return Path(path)
