"""Baselines of the OptScale paper as replayable policies over a pool of samples.

Best-of-N, self-consistency (plain and PRM-weighted), early-stopping (ESC), adaptive (ASC) and
difficulty-adaptive (DSC) self-consistency, and MR-Thinking. Each policy has ``name``, ``mode``
(``"paper"`` reproduces the upstream scripts exactly, ``"fair"`` fixes what they get wrong),
``verify_order``, a ``grid()`` of hyperparameters and ``run(view)``, where ``view`` is any object
with the attributes of ``optscale_pools.PoolView`` (see
[`ViewLike`][optscale_math.ViewLike]); ``run`` returns
[`Decisions`][optscale_math.Decisions]. Every policy satisfies
[`Policy`][optscale_math.Policy], the contract defined once in optscale-math.
"""

from optscale_baselines._bestofn import BestOfN
from optscale_baselines._consistency import MRThinking, SelfConsistency, WeightedSelfConsistency
from optscale_baselines._dsc import DifficultyAdaptiveSC
from optscale_baselines._protocol import NO_ANSWER, DSCDecisions
from optscale_baselines._stopping import AdaptiveSC, EarlyStoppingSC

__all__ = [
    "NO_ANSWER",
    "AdaptiveSC",
    "BestOfN",
    "DSCDecisions",
    "DifficultyAdaptiveSC",
    "EarlyStoppingSC",
    "MRThinking",
    "SelfConsistency",
    "WeightedSelfConsistency",
]
