"""Thin entry points that wire the OptScale packages together (no algorithms live here)."""

from importlib.metadata import version as _version

__all__: list[str] = []

__version__ = _version("optscale-apps")
"""The installed distribution's version (from its metadata)."""
