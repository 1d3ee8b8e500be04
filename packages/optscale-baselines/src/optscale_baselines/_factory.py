"""Live rules by name: the server's entry point to every stop rule."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from optscale_math import Allocator

from optscale_baselines._deepconf import DeepConfOffline, DeepConfOnline
from optscale_baselines._hybrid import AgreementHybrid
from optscale_baselines._live import CoreFactory, LiveRule, StepCore, SteppedRule
from optscale_baselines._protocol import (
    BoolArray,
    FloatArray,
    IntArray,
    check_budget,
)
from optscale_baselines._sequential import SequentialOptScale
from optscale_baselines._tally import Tally
from optscale_baselines._threshold import BestScoreThreshold, BestSoFar
from optscale_baselines._votes import NOT_VOTING


class AllocatorRule:
    """[`Allocator`][optscale_math.Allocator] (OptScale) as a live rule, answering Best-of-N.

    Usable scores (finite) go to the allocator; unusable ones count as samples drawn but are
    never picked and do not count towards the peek. Stops when the allocator's plan is reached
    or after ``max_n`` samples.
    """

    def __init__(self, max_n: int, **settings: Any) -> None:
        self._max_n = check_budget("max_n", max_n)
        settings.setdefault("target", 0.9)
        settings.setdefault("percentile", 0.05)
        settings["peek"] = min(int(settings.get("peek", 3)), self._max_n)
        self._allocator = Allocator(max_n=self._max_n, **settings)
        self._best = BestSoFar(1)
        self._n = 0
        self._stopped = False

    def observe(self, score: float, answer_id: int) -> None:
        """Feed the next sample; its answer id is not used."""
        if self._stopped:
            raise RuntimeError(f"the rule has stopped after {self._n} samples")
        value = float(score)
        if math.isfinite(value):
            self._allocator.observe(min(max(value, 0.0), 1.0))
        self._best.add(np.zeros(1, dtype=np.int64), self._n, np.array([value]))
        self._n += 1
        self._stopped = self._n >= self._max_n or (
            self._allocator.n_observed > 0 and self._allocator.decision().stop
        )

    @property
    def stop(self) -> bool:
        """True once the allocator's plan is reached, or after ``max_n`` samples."""
        return self._stopped

    @property
    def n_seen(self) -> int:
        """Samples observed so far."""
        return self._n

    @property
    def planned_n(self) -> int | None:
        """The allocator's planned total (the peek until it has fitted)."""
        return self._allocator.decision().planned_n

    def choice(self) -> int:
        """Index of the best usable sample so far, -1 for none."""
        return int(self._best.picks()[0])


class MajorityCore:
    """Unit-weight vote over samples with an answer (self-consistency), never stopping early."""

    def __init__(self, rows: int, width: int) -> None:
        self.tally = Tally(rows, width)

    def step(self, rows: IntArray, k: int, scores: FloatArray, labels: IntArray) -> BoolArray:
        """Vote with sample ``k``."""
        self.tally.add(rows, labels, np.ones(rows.size), labels != NOT_VOTING)
        return np.zeros(rows.size, dtype=bool)

    def picks(self) -> IntArray:
        """Return the majority answer's first sample (first seen on ties; -1 without votes)."""
        return self.tally.picks()


class _Majority:
    """The ``CoreFactory`` of ``MajorityCore``."""

    def __init__(self, max_n: int) -> None:
        self.max_n = max_n

    def core(self, prior_mu: FloatArray, prior_sigma: FloatArray) -> StepCore:
        return MajorityCore(prior_mu.size, self.max_n)


def _stepped(build: Callable[..., CoreFactory]) -> Callable[..., LiveRule]:
    def make(max_n: int, **settings: Any) -> LiveRule:
        prior_mu = settings.pop("prior_mu", None)
        prior_sigma = settings.pop("prior_sigma", None)
        return SteppedRule(build(max_n=max_n, **settings), prior_mu, prior_sigma)

    return make


def _fixed(max_n: int, factory: CoreFactory) -> LiveRule:
    return SteppedRule(factory, planned_n=max_n)


LIVE_METHODS: dict[str, Callable[..., LiveRule]] = {
    "bon": lambda max_n: _fixed(max_n, BestScoreThreshold(tau=math.inf, max_n=max_n)),
    "sc": lambda max_n: _fixed(max_n, _Majority(check_budget("max_n", max_n))),
    "optscale": AllocatorRule,
    "threshold": _stepped(BestScoreThreshold),
    "sequential": _stepped(SequentialOptScale),
    "deepconf": _stepped(DeepConfOnline),
    "deepconf-offline": lambda max_n, **s: _fixed(max_n, DeepConfOffline(n=max_n, **s)),
    "hybrid": _stepped(AgreementHybrid),
}
"""Live rule makers by method name (see [`make_live_rule`][optscale_baselines.make_live_rule])."""


def make_live_rule(method: str, max_n: int, **settings: Any) -> LiveRule:
    """Make a fresh [`LiveRule`][optscale_baselines.LiveRule] for one problem.

    Parameters
    ----------
    method
        ``"bon"`` (Best-of-``max_n``), ``"sc"`` (majority of ``max_n``), ``"optscale"``
        ([`Allocator`][optscale_math.Allocator]: ``target``, ``percentile``, ``peek``,
        ``prior_mu``, ``prior_sigma``), ``"threshold"``, ``"sequential"``, ``"deepconf"``,
        ``"deepconf-offline"`` or ``"hybrid"`` (the settings of
        [`BestScoreThreshold`][optscale_baselines.BestScoreThreshold],
        [`SequentialOptScale`][optscale_baselines.SequentialOptScale],
        [`DeepConfOnline`][optscale_baselines.DeepConfOnline],
        [`DeepConfOffline`][optscale_baselines.DeepConfOffline] and
        [`AgreementHybrid`][optscale_baselines.AgreementHybrid]; ``"sequential"`` also takes
        ``prior_mu`` and ``prior_sigma``).
    max_n
        Most samples for the problem.
    **settings
        The method's settings, as for its replay policy.

    Raises
    ------
    ValueError
        On an unknown method or setting.

    Examples
    --------
    >>> rule = make_live_rule("threshold", max_n=8, tau=0.9)
    >>> for score, answer in [(0.4, 0), (0.95, 1), (0.2, 0)]:
    ...     if rule.stop:
    ...         break
    ...     rule.observe(score, answer)
    >>> rule.n_seen, rule.choice()
    (2, 1)
    """
    if method not in LIVE_METHODS:
        known = ", ".join(sorted(LIVE_METHODS))
        raise ValueError(f"unknown method {method!r}; known: {known}")
    try:
        return LIVE_METHODS[method](max_n, **settings)
    except TypeError as err:
        raise ValueError(f"method {method!r}: {err}") from None
