"""Argument checks shared by the public functions: one place, messages that name the argument."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def as_float(name: str, value: npt.ArrayLike) -> FloatArray:
    """Convert ``value`` to a float64 array, rejecting non-numeric input with a named error."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numeric: {error}") from None
    return array


def finite(name: str, value: npt.ArrayLike) -> FloatArray:
    """Return a float array whose every entry is finite."""
    array = as_float(name, value)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (got NaN or inf)")
    return array


def positive(name: str, value: npt.ArrayLike) -> FloatArray:
    """Return a float array whose every entry is finite and > 0."""
    array = finite(name, value)
    if np.any(array <= 0):
        raise ValueError(f"{name} must be > 0 (got min {float(array.min())!r})")
    return array


def open_unit(name: str, value: npt.ArrayLike) -> FloatArray:
    """Return a float array whose every entry lies strictly inside (0, 1)."""
    array = as_float(name, value)
    if not np.all((array > 0) & (array < 1)):
        raise ValueError(f"{name} must lie strictly inside (0, 1)")
    return array


def number(name: str, value: npt.ArrayLike) -> FloatArray:
    """Return a float array without NaN (infinities allowed: they are points of the axis)."""
    array = as_float(name, value)
    if np.any(np.isnan(array)):
        raise ValueError(f"{name} must not be NaN")
    return array


COUNT_MAX = 2**53
"""Largest count accepted (every integer up to it is exact in float64)."""


def count(name: str, value: object, *, minimum: int) -> int:
    """Return a Python int in [``minimum``, 2^53] (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {type(value).__name__}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {int(value)}")
    if int(value) > COUNT_MAX:
        raise ValueError(f"{name} must be <= 2^53, got {int(value)}")
    return int(value)


def broadcast(**arrays: FloatArray) -> list[FloatArray]:
    """Broadcast named arrays together; a shape mismatch names every argument involved."""
    try:
        return list(np.broadcast_arrays(*arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{name}{array.shape}" for name, array in arrays.items())
        raise ValueError(f"shapes do not broadcast: {shapes}") from None
