"""``adaptive_sample`` over plain async callables: waves, stopping, tokens, cancellation, limits."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_baselines import NO_ANSWER, make_live_rule
from optscale_gen import Scored, Wave, adaptive_sample
from optscale_gen._capacity import SampleLimiter

RULES = st.sampled_from(
    [
        ("bon", {}),
        ("sc", {}),
        ("optscale", {"target": 0.8, "percentile": 0.1, "peek": 2}),
        ("optscale", {"target": 0.95, "percentile": 0.05, "peek": 4}),
        ("threshold", {"tau": 0.9}),
        ("hybrid", {}),
        ("deepconf", {}),
    ]
)


def stream(scores: Sequence[float]) -> tuple[list[int], object, object]:
    """A generator handing out ``scores`` in order (as texts) and a scorer reading them back."""
    calls: list[int] = []
    position = 0

    async def generate(n: int) -> Wave:
        nonlocal position
        calls.append(n)
        texts = [f"{scores[position + i]!r} \\boxed{{{(position + i) % 3}}}" for i in range(n)]
        position += n
        return Wave(texts, prompt_tokens=10, completion_tokens=5 * n)

    async def score(texts: Sequence[str]) -> Scored:
        return Scored([float(t.split()[0]) for t in texts], tokens=2 * len(texts))

    return calls, generate, score


@settings(max_examples=60, deadline=None)
@given(
    rule=RULES,
    scores=st.lists(st.floats(0, 1), min_size=24, max_size=24),
    max_n=st.integers(1, 24),
    max_wave=st.one_of(st.none(), st.integers(1, 6)),
)
def test_the_rule_sees_the_samples_a_sequential_feed_would(
    rule: tuple[str, dict[str, float]],
    scores: list[float],
    max_n: int,
    max_wave: int | None,
) -> None:
    method, config = rule
    calls, generate, score = stream(scores)
    live = make_live_rule(method, max_n, **config)
    result = asyncio.run(adaptive_sample(generate, score, live, max_n=max_n, max_wave=max_wave))  # type: ignore[arg-type]
    oracle = make_live_rule(method, max_n, **config)  # fed one sample at a time, no waves
    while not oracle.stop and oracle.n_seen < max_n:
        oracle.observe(scores[oracle.n_seen], oracle.n_seen % 3)
    assert result.n_used == oracle.n_seen
    assert result.choice == oracle.choice()
    assert result.n_used <= result.n_drawn <= max_n
    assert result.scores == scores[: result.n_drawn]
    assert calls == result.waves
    assert sum(calls) == result.n_drawn
    assert max_wave is None or max(calls) <= max_wave
    assert result.prompt_tokens == 10 * len(calls)
    assert result.completion_tokens == 5 * result.n_drawn
    assert result.score_tokens == 2 * result.n_drawn
    assert result.total_tokens == 10 * len(calls) + 7 * result.n_drawn
    assert result.answer_ids == [i % 3 for i in range(result.n_drawn)]


def test_answer_ids_are_assigned_in_first_seen_order() -> None:
    texts = ["\\boxed{7}", "none", "\\boxed{ 3}", "\\boxed{7}", "\\boxed{3}"]

    async def generate(n: int) -> list[str]:
        return texts[:n]

    async def score(batch: Sequence[str]) -> list[float]:
        return [0.5] * len(batch)

    result = asyncio.run(adaptive_sample(generate, score, make_live_rule("bon", 5), max_n=5))
    assert result.answer_ids == [0, NO_ANSWER, 1, 0, 1]
    assert result.choices == texts
    assert result.text == texts[0]


def test_a_generator_or_scorer_that_miscounts_is_refused() -> None:
    async def short(n: int) -> list[str]:
        return ["x"] * (n - 1)

    async def fine(n: int) -> list[str]:
        return ["x"] * n

    async def scores(batch: Sequence[str]) -> list[float]:
        return [0.5]

    with pytest.raises(ValueError, match="generate returned 2 samples for 3 asked"):
        asyncio.run(adaptive_sample(short, scores, make_live_rule("bon", 3), max_n=3))
    with pytest.raises(ValueError, match="score returned 1 scores for 3 texts"):
        asyncio.run(adaptive_sample(fine, scores, make_live_rule("bon", 3), max_n=3))
    with pytest.raises(ValueError, match="must be >= 1"):
        asyncio.run(adaptive_sample(fine, scores, make_live_rule("bon", 3), max_n=0))


def test_cancelling_the_caller_cancels_the_wave_in_flight() -> None:
    seen: list[str] = []

    async def hang(n: int) -> list[str]:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        return []

    async def score(batch: Sequence[str]) -> list[float]:
        return []

    async def run() -> None:
        limiter = SampleLimiter(4)
        task = asyncio.ensure_future(
            adaptive_sample(hang, score, make_live_rule("bon", 4), max_n=4, hold=limiter.hold)
        )
        await asyncio.sleep(0.01)
        assert limiter.in_use == 4
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert limiter.in_use == 0

    asyncio.run(asyncio.wait_for(run(), 30))
    assert seen == ["cancelled"]


@settings(max_examples=30, deadline=None)
@given(capacity=st.integers(1, 6), sizes=st.lists(st.integers(1, 8), min_size=1, max_size=12))
def test_the_limiter_never_lets_more_than_capacity_through(capacity: int, sizes: list[int]) -> None:
    limiter = SampleLimiter(capacity)
    peak = 0

    async def one(n: int) -> None:
        nonlocal peak
        async with limiter.hold(n):
            peak = max(peak, limiter.in_use)
            assert limiter.in_use <= capacity
            await asyncio.sleep(0)

    async def run() -> None:
        await asyncio.gather(*(one(n) for n in sizes))

    asyncio.run(asyncio.wait_for(run(), 30))
    assert limiter.in_use == limiter.waiting == 0
    assert max(min(n, capacity) for n in sizes) <= peak <= capacity
    with pytest.raises(ValueError, match="capacity"):
        SampleLimiter(0)
