"""Completion pools: read, write, grade, replay and simulate.

The public API is what this module exports in ``__all__``.
"""

from optscale_pools.protocol import NO_ANSWER, Decisions, DecisionsLike, Policy, PoolView

__all__ = ["NO_ANSWER", "Decisions", "DecisionsLike", "Policy", "PoolView"]
