"""Thin entry points that wire the OptScale packages together (no algorithms live here)."""

__all__: list[str] = []
