"""optscale-math: the pure allocator of OptScale (numpy + scipy only).

Verifier scores of a problem's samples are modelled as a normal law truncated to [0, 1]
([`TruncatedNormal01`][optscale_math.TruncatedNormal01]). From a few peeked scores,
[`fit_mle`][optscale_math.fit_mle] / [`fit_map`][optscale_math.fit_map] estimate the law for many
problems at once; [`min_samples`][optscale_math.min_samples] gives, in closed form, the smallest N
whose best-of-N score reaches a target with the wanted confidence;
[`Allocator`][optscale_math.Allocator] does the same online for one problem;
[`allocate_budget`][optscale_math.allocate_budget] spreads a cost budget over a batch.
[`OptScalePolicy`][optscale_math.OptScalePolicy] replays OptScale on a pool view (paper or fair
numerics), and the
``upstream_*`` functions reproduce the upstream notebooks' numerics exactly.

The policy contract shared by every package that writes or replays policies lives here too:
[`Policy`][optscale_math.Policy], [`ViewLike`][optscale_math.ViewLike],
[`Decisions`][optscale_math.Decisions], ``NO_ANSWER``, ``VerifyOrder`` and the optional
capability [`PrefixPolicy`][optscale_math.PrefixPolicy] (every budget from one run, as
[`PrefixDecisions`][optscale_math.PrefixDecisions]). Only those names are imported eagerly;
the numerics (and scipy) load on first use, so packages that need the contract alone import
quickly.
"""

import importlib
from importlib.metadata import version as _version
from typing import TYPE_CHECKING

from optscale_math._contract import (
    NO_ANSWER,
    Decisions,
    Policy,
    PrefixDecisions,
    PrefixPolicy,
    VerifyOrder,
    ViewLike,
)

if TYPE_CHECKING:
    from optscale_math._allocate import Allocator, AllocatorDecision
    from optscale_math._budget import allocate_budget
    from optscale_math._estimate import (
        RIDGE_SIGMA,
        SIGMA_CAP,
        Fit,
        FitStatus,
        fit_map,
        fit_mle,
        neg_log_likelihood,
    )
    from optscale_math._policy import (
        OPTSCALE_GRID,
        PANELS,
        PEEKS,
        PERCENTILES,
        TARGET_SCORES,
        UPSTREAM_TARGETS,
        OptScalePolicy,
        best_of_first,
    )
    from optscale_math._running import running_best_pick, running_vote_pick
    from optscale_math._sizing import min_samples
    from optscale_math._truncnorm import TruncatedNormal01
    from optscale_math._upstream import (
        SIGMA_FLOOR,
        upstream_fit,
        upstream_grid_quantiles,
        upstream_min_samples,
    )

_LAZY = {
    **dict.fromkeys(("Allocator", "AllocatorDecision"), "_allocate"),
    "allocate_budget": "_budget",
    **dict.fromkeys(
        (
            "RIDGE_SIGMA",
            "SIGMA_CAP",
            "Fit",
            "FitStatus",
            "fit_map",
            "fit_mle",
            "neg_log_likelihood",
        ),
        "_estimate",
    ),
    **dict.fromkeys(
        (
            "OPTSCALE_GRID",
            "PANELS",
            "PEEKS",
            "PERCENTILES",
            "TARGET_SCORES",
            "UPSTREAM_TARGETS",
            "OptScalePolicy",
            "best_of_first",
        ),
        "_policy",
    ),
    "min_samples": "_sizing",
    **dict.fromkeys(("running_best_pick", "running_vote_pick"), "_running"),
    "TruncatedNormal01": "_truncnorm",
    **dict.fromkeys(
        ("SIGMA_FLOOR", "upstream_fit", "upstream_grid_quantiles", "upstream_min_samples"),
        "_upstream",
    ),
}


def __getattr__(name: str) -> object:
    """Import the numerics lazily (see the module docstring)."""
    if name in _LAZY:
        return getattr(importlib.import_module(f"optscale_math.{_LAZY[name]}"), name)
    msg = f"module 'optscale_math' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "NO_ANSWER",
    "OPTSCALE_GRID",
    "PANELS",
    "PEEKS",
    "PERCENTILES",
    "RIDGE_SIGMA",
    "SIGMA_CAP",
    "SIGMA_FLOOR",
    "TARGET_SCORES",
    "UPSTREAM_TARGETS",
    "Allocator",
    "AllocatorDecision",
    "Decisions",
    "Fit",
    "FitStatus",
    "OptScalePolicy",
    "Policy",
    "PrefixDecisions",
    "PrefixPolicy",
    "TruncatedNormal01",
    "VerifyOrder",
    "ViewLike",
    "allocate_budget",
    "best_of_first",
    "fit_map",
    "fit_mle",
    "min_samples",
    "neg_log_likelihood",
    "running_best_pick",
    "running_vote_pick",
    "upstream_fit",
    "upstream_grid_quantiles",
    "upstream_min_samples",
]

__version__ = _version("optscale-math")
"""The installed distribution's version (from its metadata)."""
