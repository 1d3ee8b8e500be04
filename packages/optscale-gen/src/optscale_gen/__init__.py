"""optscale-gen (under construction)."""

__all__: list[str] = []
