"""Atomic file output for the whole toolkit: a reader never sees half a file.

Everything is written to a temporary file beside the target and moved onto it with
``os.replace`` only once complete; on any error the temporary file is removed and the target is
left as it was. Finished files get the permissions ``open`` would give them (0o666 less the
umask), not the owner-only ones of ``tempfile.mkstemp``.

A whole output folder is replaced the same way by
[`atomic_folder`][optscale_pools.atomic_folder]: its files are written into a staging folder
beside it, which is swapped in by renames only once every file is complete.

Every file whose name comes from input (a manifest entry, a record) is placed with
[`contained_path`][optscale_pools.contained_path], the one check that a relative name stays inside
its folder: no absolute path, no ``..``, no symbolic link leading out.
"""

from __future__ import annotations

import os
import shutil
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


def _umask() -> int:
    """Return the current umask (read by setting it and putting it back)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _file_mode() -> int:
    """Permissions of a newly created file under the current umask."""
    return 0o666 & ~_umask()


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


@contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield a staging folder beside ``path`` whose contents replace the folder ``path`` at once.

    A command that writes a set of files (tables, plots, a summary) writes them all into the
    staging folder. When the block ends normally the old folder, if any, is renamed aside, the
    staging folder is renamed onto ``path`` and the old one is removed, so a reader finds either
    the whole old set or the whole new one, never a mix. When the block raises, the staging folder
    is removed and ``path`` is left exactly as it was. The parent folder is created if missing.

    Raises
    ------
    NotADirectoryError
        When ``path`` exists and is not a folder (checked before anything is written).
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target}: exists and is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        yield staging
        staging.chmod(0o777 & ~_umask())
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_in(staging: Path, target: Path) -> None:
    """Replace the folder ``target`` by ``staging`` with renames (the old set is removed last)."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        old.rmdir()
        target.rename(old)
    try:
        staging.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
