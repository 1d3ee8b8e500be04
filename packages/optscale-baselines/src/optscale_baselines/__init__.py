"""optscale-baselines (under construction)."""

__all__: list[str] = []
