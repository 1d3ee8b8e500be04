"""optscale-math: the pure allocator of OptScale (numpy + scipy only).

Verifier scores of a problem's samples are modelled as a normal law truncated to [0, 1]
(:class:`TruncatedNormal01`). From a few peeked scores, :func:`fit_mle` / :func:`fit_map` estimate
the law for many problems at once; :func:`min_samples` gives, in closed form, the smallest N whose
best-of-N score reaches a target with the wanted confidence; :class:`Allocator` does the same
online for one problem; :func:`allocate_budget` spreads a cost budget over a batch.
:class:`OptScalePolicy` replays OptScale on a pool view (paper or fair numerics), and the
``upstream_*`` functions reproduce the upstream notebooks' numerics exactly.
"""

from importlib.metadata import version as _version

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
    OptScaleDecisions,
    OptScalePolicy,
    best_of_first,
)
from optscale_math._sizing import min_samples
from optscale_math._truncnorm import TruncatedNormal01
from optscale_math._upstream import (
    SIGMA_FLOOR,
    upstream_fit,
    upstream_grid_quantiles,
    upstream_min_samples,
)

__all__ = [
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
    "Fit",
    "FitStatus",
    "OptScaleDecisions",
    "OptScalePolicy",
    "TruncatedNormal01",
    "allocate_budget",
    "best_of_first",
    "fit_map",
    "fit_mle",
    "min_samples",
    "neg_log_likelihood",
    "upstream_fit",
    "upstream_grid_quantiles",
    "upstream_min_samples",
]

__version__ = _version("optscale-math")
"""The installed distribution's version (from its metadata)."""
