"""The methods ``optscale-eval`` and fair mode know by name, as engine methods at any budget.

A method at budget ``N`` may use at most ``N`` samples per problem: Best-of-N and the votes pay
``N``; ESC, ASC and DSC stop on their own with ``max_n = N``; OptScale sizes each problem with
``max_n = N`` after peeking ``peek_for(N)`` scores. Every method runs its fair variant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from optscale_baselines import (
    AdaptiveSC,
    AgreementHybrid,
    BatchBudget,
    BestOfN,
    BestScoreThreshold,
    DeepConfOffline,
    DeepConfOnline,
    DifficultyAdaptiveSC,
    EarlyStoppingSC,
    SelfConsistency,
    SequentialOptScale,
    WeightedSelfConsistency,
)
from optscale_math import OptScalePolicy, Policy
from optscale_pools import Method

Setting = Mapping[str, object]


def _kw(setting: Setting) -> dict[str, Any]:
    """Return a setting as constructor keywords (each constructor checks the values)."""
    return cast(dict[str, Any], dict(setting))


def peek_for(n: int, panels: Mapping[int, int] | None = None) -> int:
    """Scores OptScale peeks at budget ``n``: the paper's panel peek, else ``ceil(0.3 n)``.

    ``ceil(0.3 n)`` gives the paper's peeks 3, 5, 10, 20 at its budgets 8, 16, 32, 64.
    """
    if panels is not None and n in panels:
        return panels[n]
    return max(1, min(n, (3 * n + 9) // 10))


@dataclass(frozen=True)
class MethodSpec:
    """A named method: its engine form, and what it needs from the pool."""

    name: str
    build: Callable[[Sequence[Setting]], Method]
    grid: Sequence[Setting]
    uses_scores: bool
    needs_priors: bool = False
    prior_settings: tuple[Setting, ...] = ()
    """Settings dropped when the pool has no priors (they read ``view.prior_mu``)."""


def _spec(
    name: str,
    make: Callable[[int, Setting], Policy],
    grid: Sequence[Setting],
    *,
    uses_scores: bool,
    needs_priors: bool = False,
    prior_settings: tuple[Setting, ...] = (),
) -> MethodSpec:
    def build(settings: Sequence[Setting]) -> Method:
        return Method(name, make, tuple(settings), uses_scores=uses_scores)

    return MethodSpec(name, build, tuple(grid), uses_scores, needs_priors, prior_settings)


def _optscale(variant: str, panels: Mapping[int, int] | None) -> Callable[[int, Setting], Policy]:
    def make(n: int, setting: Setting) -> Policy:
        target = float(setting["target"])  # type: ignore[arg-type]
        percentile = float(setting["percentile"])  # type: ignore[arg-type]
        return OptScalePolicy(
            "mle" if variant == "mle" else "map", peek_for(n, panels), n, target, percentile, "fair"
        )

    return make


def catalogue(
    optscale_grid: Sequence[Setting] | None = None, panels: Mapping[int, int] | None = None
) -> dict[str, MethodSpec]:
    """Return every named method, in report order; OptScale over ``optscale_grid``.

    ``optscale_grid`` defaults to the paper's 8 x 6 grid; ``panels`` maps a budget to its peek.
    """
    grid = list(OptScalePolicy.grid() if optscale_grid is None else optscale_grid)
    prior = ({"difficulty": "prior"},)
    specs = [
        _spec("BoN", lambda n, s: BestOfN(n, "fair", **_kw(s)), BestOfN.grid(), uses_scores=True),
        _spec("SC", lambda n, s: SelfConsistency(n, "fair", **_kw(s)), [{}], uses_scores=False),
        _spec(
            "WSC",
            lambda n, s: WeightedSelfConsistency(n, mode="fair", **_kw(s)),
            WeightedSelfConsistency.grid(),
            uses_scores=True,
        ),
        _spec(
            "ESC",
            lambda n, s: EarlyStoppingSC(max_n=n, mode="fair", **_kw(s)),
            EarlyStoppingSC.grid(),
            uses_scores=False,
        ),
        _spec(
            "ASC",
            lambda n, s: AdaptiveSC(max_n=n, mode="fair", **_kw(s)),
            AdaptiveSC.grid(),
            uses_scores=False,
        ),
        _spec(
            "DSC",
            lambda n, s: DifficultyAdaptiveSC(max_sample_size=n, mode="fair", **_kw(s)),
            DifficultyAdaptiveSC.grid(),
            uses_scores=True,
            prior_settings=prior,
        ),
        _spec("OptScale^0", _optscale("mle", panels), grid, uses_scores=True),
        _spec("OptScale^t", _optscale("map", panels), grid, uses_scores=True, needs_priors=True),
        *_stop_rules(),
    ]
    return {spec.name: spec for spec in specs}


def _capped(name: str, policy: Any, *, needs_priors: bool = False, **fixed: Any) -> MethodSpec:
    """Return a score rule built as ``policy(max_n=N, **fixed, **setting)`` over its grid."""

    def make(n: int, setting: Setting) -> Policy:
        built: Policy = policy(max_n=n, **fixed, **_kw(setting))
        return built

    return _spec(name, make, policy.grid(), uses_scores=True, needs_priors=needs_priors)


def _stop_rules() -> list[MethodSpec]:
    """Return the stop rules beyond the paper (optscale-baselines), capped at ``max_n = N``.

    Batch budget allocation spends, at budget ``N``, what Best-of-N would (estimated from the
    peeked samples' tokens), with at most ``N`` samples per problem.
    """
    return [
        _capped("Threshold", BestScoreThreshold),
        _capped("SeqOptScale^0", SequentialOptScale, fit="mle"),
        _capped("SeqOptScale^t", SequentialOptScale, fit="map", needs_priors=True),
        _capped("DeepConf", DeepConfOnline),
        _spec(
            "DeepConf-offline",
            lambda n, s: DeepConfOffline(n, **_kw(s)),
            DeepConfOffline.grid(),
            uses_scores=True,
        ),
        _capped("Hybrid", AgreementHybrid),
        _capped("Batch", BatchBudget),
    ]


def resolve(
    names: Sequence[str] | None,
    specs: Mapping[str, MethodSpec],
    *,
    has_priors: bool,
) -> tuple[list[Method], list[str]]:
    """Engine methods for ``names`` (default all), and one notice per method or setting dropped.

    Raises
    ------
    ValueError
        On a name that is not in ``specs`` (case-insensitive match is accepted).
    """
    by_lower = {name.lower(): name for name in specs}
    chosen = list(specs) if names is None else []
    for name in names or ():
        if name.lower() not in by_lower:
            known = ", ".join(specs)
            raise ValueError(f"unknown method {name!r} (known: {known})")
        chosen.append(by_lower[name.lower()])
    methods, notices = [], []
    for name in dict.fromkeys(chosen):
        spec = specs[name]
        if spec.needs_priors and not has_priors:
            notices.append(f"{name}: skipped, the pool has no per-problem priors")
            continue
        grid = [s for s in spec.grid if has_priors or s not in spec.prior_settings]
        if len(grid) < len(spec.grid):
            notices.append(f"{name}: prior-based settings left out, the pool has no priors")
        methods.append(spec.build(grid))
    return methods, notices
