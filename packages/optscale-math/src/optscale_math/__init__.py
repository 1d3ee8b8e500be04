"""optscale-math (under construction)."""

__all__: list[str] = []
