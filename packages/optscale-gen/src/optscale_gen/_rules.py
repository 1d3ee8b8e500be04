"""Live stop rules: the one place where the server and the client API build a rule.

A live rule sees one problem's samples one at a time and says when to stop drawing. The
protocol is the one optscale-baselines' live rules implement; until its factory is available
here, this module builds the two rules the server needs from optscale-math alone: ``"optscale"``
(the [`Allocator`][optscale_math.Allocator]) and ``"bon"`` (fixed-N best-of-N). Swapping in the
factory changes this module only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

NO_ANSWER = -1
"""Answer id of a sample without an extracted answer."""

RULE_SETTINGS: dict[str, frozenset[str]] = {
    "optscale": frozenset({"target", "percentile", "peek"}),
    "bon": frozenset(),
}
"""Settings each method takes besides ``max_n`` (names of request fields and server flags)."""


@runtime_checkable
class LiveRule(Protocol):
    """One problem's stop rule, fed one sample at a time.

    ``observe`` takes a sample's verifier score and its answer id (``NO_ANSWER`` or an id
    assigned by the caller in first-seen order); ``stop`` says whether to draw no more;
    ``planned_n`` is the rule's current planned total (``None`` if it has none); ``choice`` is the
    index of the selected sample so far (-1 for none).
    """

    def observe(self, score: float, answer_id: int) -> None:
        """Take the next sample's score and answer id."""
        ...

    @property
    def stop(self) -> bool:
        """True when no more samples should be drawn."""
        ...

    @property
    def n_seen(self) -> int:
        """Samples observed so far."""
        ...

    @property
    def planned_n(self) -> int | None:
        """The rule's current planned total, if it has one."""
        ...

    def choice(self) -> int:
        """Index of the selected sample so far (-1: none)."""
        ...


class _BestScored:
    """Shared state of the two built-in rules: the scores seen and the best-scored index."""

    def __init__(self, max_n: int) -> None:
        if max_n < 1:
            raise ValueError(f"max_n must be >= 1, got {max_n}")
        self.max_n = max_n
        self._scores: list[float] = []

    @property
    def n_seen(self) -> int:
        return len(self._scores)

    def choice(self) -> int:
        """First index of the highest score (-1 before any sample)."""
        if not self._scores:
            return -1
        return max(range(len(self._scores)), key=lambda i: (self._scores[i], -i))


class FixedBestOfN(_BestScored):
    """Best-of-N with a fixed budget: draw ``max_n`` samples, keep the highest-scored."""

    name = "bon"

    def observe(self, score: float, answer_id: int) -> None:
        self._scores.append(float(score))

    @property
    def stop(self) -> bool:
        return self.n_seen >= self.max_n

    @property
    def planned_n(self) -> int:
        return self.max_n


class AllocatorRule(_BestScored):
    """OptScale: the [`Allocator`][optscale_math.Allocator] plans N, the best-scored sample wins."""

    name = "optscale"

    def __init__(self, max_n: int, *, target: float, percentile: float, peek: int) -> None:
        from optscale_math import Allocator

        super().__init__(max_n)
        self._allocator = Allocator(
            target=target, percentile=percentile, peek=min(peek, max_n), max_n=max_n
        )

    def observe(self, score: float, answer_id: int) -> None:
        value = min(max(float(score), 0.0), 1.0)  # the allocator's law lives on [0, 1]
        self._allocator.observe(value)
        self._scores.append(float(score))

    @property
    def stop(self) -> bool:
        return self.n_seen >= self.max_n or self._allocator.decision().stop

    @property
    def planned_n(self) -> int:
        return self._allocator.decision().planned_n


def make_rule(method: str, max_n: int, settings: Mapping[str, object]) -> LiveRule:
    """Build a fresh live rule for one problem.

    Parameters
    ----------
    method
        ``"optscale"`` or ``"bon"`` (see ``RULE_SETTINGS``).
    max_n
        Most samples the rule may draw.
    settings
        Values for the method's settings; names the method does not take are ignored (the caller
        checks explicitly requested ones with ``check_settings``).

    Returns
    -------
    LiveRule
        A rule that has seen no sample.
    """
    if method == "bon":
        return FixedBestOfN(max_n)
    if method == "optscale":
        return AllocatorRule(
            max_n,
            target=_number(settings, "target"),
            percentile=_number(settings, "percentile"),
            peek=int(_number(settings, "peek")),
        )
    raise ValueError(f"unknown method {method!r}; choose from {sorted(RULE_SETTINGS)}")


def check_settings(method: str, given: Mapping[str, object]) -> None:
    """Refuse settings the method does not take (a request's typo should not pass silently)."""
    if method not in RULE_SETTINGS:
        raise ValueError(f"unknown method {method!r}; choose from {sorted(RULE_SETTINGS)}")
    extra = sorted(set(given) - RULE_SETTINGS[method])
    if extra:
        raise ValueError(f"method {method!r} takes no setting {extra[0]!r}")


def _number(settings: Mapping[str, object], name: str) -> float:
    value = settings.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"setting {name!r} must be a number, got {value!r}")
    return float(value)
