"""A policy declaring ``PrefixPolicy`` decides at every budget what its one run at the largest says.

Every exported policy class of optscale-math and optscale-baselines that declares the capability
is checked on random pools (ties, missing answers, empty and unscored samples), for every setting
of its grid and both modes: the decisions read off ``run_prefixes`` at budget ``K`` must equal
``run`` of the policy built at each budget ``N <= K``. A policy that declares the capability
wrongly (below: an online DeepConf, whose stop test reads its cap) is caught by the same check.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np
from baselines_oracles import random_view
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_baselines import DeepConfOnline
from optscale_baselines._live import replay_core_prefixes
from optscale_math import PrefixDecisions, PrefixPolicy, ViewLike

PACKAGES = ("optscale_math", "optscale_baselines")
BUDGET_NAMES = ("n", "max_n", "max_sample_size")
DECLARED = {"BestOfN", "SelfConsistency", "EarlyStoppingSC", "BestScoreThreshold"}
"""Classes known to declare the capability (the check must not silently cover nothing)."""


def capable_classes() -> list[type]:
    """Exported policy classes whose instances declare ``PrefixPolicy``."""
    found = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if (
                inspect.isclass(obj)
                and not getattr(obj, "_is_protocol", False)
                and callable(getattr(obj, "grid", None))
                and issubclass(obj, PrefixPolicy)
            ):
                found.append(obj)
    return found


def builders(cls: type) -> list[Any]:
    """``budget -> policy`` for every setting of the class's grid, in every mode it has."""
    params = inspect.signature(cls).parameters
    budget_name = next(name for name in BUDGET_NAMES if name in params)
    modes = ("paper", "fair") if "mode" in params else (None,)
    out = []
    for setting in cls.grid():  # type: ignore[attr-defined]
        for mode in modes:
            extra = dict(setting) | ({} if mode is None else {"mode": mode})
            out.append(lambda n, extra=extra: cls(**{budget_name: n}, **extra))
    return out


def prefix_mismatch(build: Any, view: ViewLike, k: int) -> str | None:
    """First budget where ``run`` differs from ``run_prefixes`` at ``k`` cut to it, or None."""
    decided = build(k).run_prefixes(view)
    rows = np.arange(decided.n_used.shape[0])
    for n in range(1, k + 1):
        policy = build(n)
        direct = policy.run(view)
        used = np.minimum(decided.n_used, n)
        pick = decided.picks[rows, used - 1]
        if not (np.array_equal(direct.n_used, used) and np.array_equal(direct.pick, pick)):
            return f"{policy.name}: budget {n} differs from the run at {k} cut to {n}"
        assert direct.extra_tokens == 0, f"{policy.name}: a prefix policy spends no extra tokens"
    return None


def test_the_known_policies_declare_the_capability() -> None:
    names = {cls.__name__ for cls in capable_classes()}
    assert names >= DECLARED


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 11))
def test_one_run_equals_a_run_at_every_budget(seed: int, problems: int, k: int) -> None:
    view = random_view(np.random.default_rng(seed), problems, k)
    for cls in capable_classes():
        for build in builders(cls):
            assert prefix_mismatch(build, view, k) is None


@dataclass(frozen=True)
class CapReadingDeepConf(DeepConfOnline):
    """Online DeepConf claiming the capability: its warm-up and cap depend on ``max_n``."""

    def run_prefixes(self, view: ViewLike) -> PrefixDecisions:
        """Record the running leader of the run at ``max_n`` (wrong: the stop reads the cap)."""
        return replay_core_prefixes(self, view)


def test_a_wrong_declaration_is_caught() -> None:
    rng = np.random.default_rng(7)
    k = 10
    caught = [
        prefix_mismatch(lambda n: CapReadingDeepConf(max_n=n, warmup=4), random_view(rng, 8, k), k)
        for _ in range(20)
    ]
    assert any(message is not None for message in caught)
