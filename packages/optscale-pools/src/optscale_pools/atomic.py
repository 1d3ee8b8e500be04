"""Atomic file output for the whole toolkit: a reader never sees half a file.

Everything is written to a temporary file beside the target and moved onto it with
``os.replace`` only once complete; on any error the temporary file is removed and the target is
left as it was. Finished files get the permissions ``open`` would give them (0o666 less the
umask), not the owner-only ones of ``tempfile.mkstemp``.

Every file whose name comes from input (a manifest entry, a record) is placed with
[`contained_path`][optscale_pools.contained_path], the one check that a relative name stays inside
its folder: no absolute path, no ``..``, no symbolic link leading out.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


class UnsafePathError(ValueError):
    """A file name from input would place a file outside its folder (nothing was written)."""


def check_relative_name(relpath: str) -> tuple[str, ...]:
    """Split a relative POSIX file name into its parts, refusing any that could leave a folder.

    Used on its own to validate names when they are read (a manifest), and by
    [`contained_path`][optscale_pools.contained_path] when a file is placed.

    Raises
    ------
    UnsafePathError
        When ``relpath`` is empty, absolute (``/x``, ``C:x``, or starting with a backslash), or
        holds a ``..``, a ``.``, an empty part or a NUL character.
    """
    parts = tuple(relpath.replace("\\", "/").split("/"))
    bad = (
        not relpath
        or "\0" in relpath
        or relpath.startswith(("/", "\\"))
        or (len(relpath) > 1 and relpath[1] == ":")
        or any(part in ("", ".", "..") for part in parts)
    )
    if bad:
        msg = f"unsafe file name {relpath!r}: must be a plain relative path"
        raise UnsafePathError(msg)
    return parts


def contained_path(root: str | Path, relpath: str) -> Path:
    """Return ``root / relpath``, refusing any name that could leave ``root``.

    Parameters
    ----------
    root
        The folder every file must stay in (a cache or output folder).
    relpath
        A relative POSIX path taken from input, e.g. a manifest entry's ``path``.

    Returns
    -------
    pathlib.Path
        The joined path, known to lie inside ``root`` even after resolving symbolic links that
        already exist on disk.

    Raises
    ------
    UnsafePathError
        When ``relpath`` is not a plain relative name (see
        [`check_relative_name`][optscale_pools.check_relative_name]) or resolves outside ``root``.
    """
    parts = check_relative_name(relpath)
    base = Path(root)
    target = base.joinpath(*parts)
    if not target.resolve().is_relative_to(base.resolve()):
        msg = f"unsafe file name {relpath!r}: resolves outside {root}"
        raise UnsafePathError(msg)
    return target


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

    The data are flushed to disk before the file is moved into place (see
    [`atomic_path`][optscale_pools.atomic_path]).
    """
    with atomic_path(path) as temp:
        out: IO[Any]
        with temp.open("wb") if binary else temp.open("w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see `atomic_output`); return the path."""
    with atomic_output(path) as out:
        out.write(text)
    return Path(path)


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see `atomic_output`); return the path."""
    with atomic_output(path, binary=True) as out:
        out.write(data)
    return Path(path)
