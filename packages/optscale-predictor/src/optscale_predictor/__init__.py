"""optscale-predictor (under construction)."""

__all__: list[str] = []
