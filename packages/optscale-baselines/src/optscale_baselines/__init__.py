"""Baselines of the OptScale paper, and stop rules beyond it, as replayable policies.

Best-of-N, self-consistency (plain and PRM-weighted), early-stopping (ESC), adaptive (ASC) and
difficulty-adaptive (DSC) self-consistency, and MR-Thinking; and, in fair mode only, a
best-score threshold, sequential OptScale, DeepConf-style confidence-weighted voting, a hybrid
of scores and agreement, and batch budget allocation. Each policy has ``name``,
``rows_independent``, ``verify_order``, a ``grid()`` of hyperparameters and ``run(view)``, where
``view`` is any object with the attributes of ``optscale_pools.PoolView`` (see
[`ViewLike`][optscale_math.ViewLike]); ``run`` returns [`Decisions`][optscale_math.Decisions].
Every policy satisfies [`Policy`][optscale_math.Policy], the contract defined once in
optscale-math. The paper's baselines also have a ``mode`` (``"paper"`` reproduces the upstream
scripts exactly, ``"fair"`` fixes what they get wrong).

Every row-wise stop rule also has a live form, a [`LiveRule`][optscale_baselines.LiveRule]
fed one sample at a time (see [`make_live_rule`][optscale_baselines.make_live_rule]), built on
the same code as its replay.
"""

from importlib.metadata import version as _version

from optscale_baselines._bestofn import BestOfN
from optscale_baselines._budget import BatchBudget, bon_token_budget
from optscale_baselines._consistency import MRThinking, SelfConsistency, WeightedSelfConsistency
from optscale_baselines._deepconf import DeepConfOffline, DeepConfOnline
from optscale_baselines._dsc import DifficultyAdaptiveSC
from optscale_baselines._factory import AllocatorRule, make_live_rule
from optscale_baselines._hybrid import AgreementHybrid, flip_probability, overtake_probability
from optscale_baselines._live import LiveRule, SteppedRule
from optscale_baselines._protocol import NO_ANSWER, DSCDecisions
from optscale_baselines._sequential import SequentialOptScale, improvement_probability
from optscale_baselines._stopping import AdaptiveSC, EarlyStoppingSC
from optscale_baselines._threshold import BestScoreThreshold

__all__ = [
    "NO_ANSWER",
    "AdaptiveSC",
    "AgreementHybrid",
    "AllocatorRule",
    "BatchBudget",
    "BestOfN",
    "BestScoreThreshold",
    "DSCDecisions",
    "DeepConfOffline",
    "DeepConfOnline",
    "DifficultyAdaptiveSC",
    "EarlyStoppingSC",
    "LiveRule",
    "MRThinking",
    "SelfConsistency",
    "SequentialOptScale",
    "SteppedRule",
    "WeightedSelfConsistency",
    "bon_token_budget",
    "flip_probability",
    "improvement_probability",
    "make_live_rule",
    "overtake_probability",
]

__version__ = _version("optscale-baselines")
"""The installed distribution's version (from its metadata)."""
