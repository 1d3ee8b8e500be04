"""Adaptive sampling over the user's own async generator and scorer: waves until the rule stops.

The loop owns no I/O: ``generate`` and ``score`` are the caller's coroutines (an OpenAI client,
a vLLM endpoint, a local PRM), so the same code drives the HTTP server and a user's own program.
Cancelling the awaiting task cancels the wave in flight.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from optscale_baselines import LiveRule


@dataclass(frozen=True)
class Wave:
    """One generator call's samples and what they cost.

    Attributes
    ----------
    texts
        Completion texts, one per sample asked for.
    prompt_tokens, completion_tokens
        Tokens the call spent (an OpenAI response's ``usage``).
    choices
        Optional per-sample objects kept alongside the texts (e.g. the upstream's choice
        dictionaries, so a server can return the selected one unchanged); aligned with ``texts``.
    """

    texts: Sequence[str]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    choices: Sequence[object] | None = None


@dataclass(frozen=True)
class Scored:
    """One scorer call's scores, aligned with the texts it was given, and the tokens it read."""

    scores: Sequence[float]
    tokens: int = 0


@dataclass(frozen=True)
class AdaptiveResult:
    """Everything drawn for one problem, what the rule chose, and what it cost.

    Attributes
    ----------
    texts, scores, answer_ids, choices
        Every sample drawn, in order (``choices`` holds the generator's per-sample objects, or the
        texts when it gave none). A wave can end past the point where the rule stopped; those
        samples are paid for and listed, but the rule never saw them.
    choice
        Index of the selected sample (-1: none).
    n_used
        Samples the rule observed (``<= n_drawn``).
    planned_n
        The rule's planned total when it stopped (``None`` for rules without a plan).
    waves
        Size of each generator call.
    prompt_tokens, completion_tokens, score_tokens
        Tokens spent: generator prompts, generated completions, and scorer input.
    """

    texts: list[str]
    scores: list[float]
    answer_ids: list[int]
    choices: list[object]
    choice: int
    n_used: int
    planned_n: int | None
    waves: list[int] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    score_tokens: int = 0

    @property
    def n_drawn(self) -> int:
        """Samples generated (and paid for)."""
        return len(self.texts)

    @property
    def total_tokens(self) -> int:
        """Every token spent: generation and scoring."""
        return self.prompt_tokens + self.completion_tokens + self.score_tokens

    @property
    def text(self) -> str | None:
        """The selected completion (``None`` when the rule selected none)."""
        return self.texts[self.choice] if self.choice >= 0 else None


Generate = Callable[[int], Awaitable[Wave | Sequence[str]]]
"""``await generate(n)``: ``n`` new samples of the problem, as a ``Wave`` or plain texts."""
Score = Callable[[Sequence[str]], Awaitable[Scored | Sequence[float]]]
"""``await score(texts)``: one verifier score per text, as ``Scored`` or plain floats."""
Hold = Callable[[int], AbstractAsyncContextManager[object]]
"""``async with hold(n)``: held around a wave of ``n`` samples (a bound on samples in flight)."""


async def adaptive_sample(
    generate: Generate,
    score: Score,
    rule: LiveRule,
    *,
    max_n: int,
    max_wave: int | None = None,
    min_wave: int = 1,
    answer: Callable[[str], str | None] | None = None,
    hold: Hold | None = None,
) -> AdaptiveResult:
    r"""Draw samples in waves, score each wave, and stop when ``rule`` says so.

    Each wave asks for what the rule still plans (``planned_n`` minus samples seen), at least
    ``min_wave`` and at most ``max_wave`` and what ``max_n`` leaves. The wave's samples are fed to
    the rule in order until it stops; the rest of that wave is kept but unseen.

    Parameters
    ----------
    generate
        The caller's coroutine function drawing ``n`` samples.
    score
        The caller's coroutine function scoring texts (higher is better; the OptScale rule reads
        scores on [0, 1], e.g. a PRM's mean step reward).
    rule
        A fresh live rule for this problem (a [`LiveRule`][optscale_baselines.LiveRule], e.g.
        from [`make_live_rule`][optscale_baselines.make_live_rule]).
    max_n
        Most samples ever drawn, whatever the rule plans.
    max_wave
        Most samples per generator call (``None``: no cap besides ``max_n``).
    min_wave
        Fewest samples per generator call (rules without a plan otherwise draw one at a time).
    answer
        Extracts a sample's final answer for rules that vote (default: the last ``\boxed{}``);
        equal strings share an answer id, assigned in first-seen order.
    hold
        Entered around each wave's generation and scoring with the wave size, e.g. to bound the
        samples in flight across many concurrent problems.

    Returns
    -------
    AdaptiveResult
        The samples, the selected one, and the tokens spent.

    Examples
    --------
    >>> import asyncio
    >>> from optscale_baselines import make_live_rule
    >>> from optscale_gen import adaptive_sample
    >>> async def generate(n):
    ...     return ["a draft"] * n
    >>> async def score(texts):
    ...     return [0.5] * len(texts)
    >>> result = asyncio.run(adaptive_sample(generate, score, make_live_rule("bon", 4), max_n=4))
    >>> result.n_drawn, result.choice
    (4, 0)
    """
    if max_n < 1 or min_wave < 1 or (max_wave is not None and max_wave < 1):
        got = (max_n, min_wave, max_wave)
        raise ValueError(f"max_n, min_wave and max_wave must be >= 1, got {got}")
    from optscale_baselines import NO_ANSWER

    extract = answer if answer is not None else _boxed
    ids: dict[str, int] = {}
    texts: list[str] = []
    scores: list[float] = []
    answer_ids: list[int] = []
    choices: list[object] = []
    waves: list[int] = []
    tokens = [0, 0, 0]
    while not rule.stop and len(texts) < max_n:
        size = _wave_size(rule, len(texts), max_n, max_wave, min_wave)
        async with hold(size) if hold is not None else nullcontext():
            wave = _as_wave(await generate(size), size)
            scored = _as_scored(await score(list(wave.texts)), size)
        waves.append(size)
        tokens[0] += wave.prompt_tokens
        tokens[1] += wave.completion_tokens
        tokens[2] += scored.tokens
        for index, text in enumerate(wave.texts):
            value = float(scored.scores[index])
            found = extract(text)
            answer_id = NO_ANSWER if found is None else ids.setdefault(found.strip(), len(ids))
            texts.append(text)
            scores.append(value)
            answer_ids.append(answer_id)
            choices.append(wave.choices[index] if wave.choices is not None else text)
            if not rule.stop:
                rule.observe(value, answer_id)
    return AdaptiveResult(
        texts,
        scores,
        answer_ids,
        choices,
        choice=rule.choice(),
        n_used=rule.n_seen,
        planned_n=rule.planned_n,
        waves=waves,
        prompt_tokens=tokens[0],
        completion_tokens=tokens[1],
        score_tokens=tokens[2],
    )


def _wave_size(rule: LiveRule, seen: int, max_n: int, max_wave: int | None, min_wave: int) -> int:
    planned = rule.planned_n
    want = planned - seen if planned is not None else 1
    size = min(max(want, min_wave, 1), max_n - seen)
    return size if max_wave is None else min(size, max_wave)


def _as_wave(value: Wave | Sequence[str], size: int) -> Wave:
    wave = value if isinstance(value, Wave) else Wave(texts=list(value))
    if len(wave.texts) != size:
        raise ValueError(f"generate returned {len(wave.texts)} samples for {size} asked")
    if wave.choices is not None and len(wave.choices) != size:
        raise ValueError(f"generate returned {len(wave.choices)} choices for {size} texts")
    return wave


def _as_scored(value: Scored | Sequence[float], size: int) -> Scored:
    scored = value if isinstance(value, Scored) else Scored(scores=list(value))
    if len(scored.scores) != size:
        raise ValueError(f"score returned {len(scored.scores)} scores for {size} texts")
    return scored


def _boxed(text: str) -> str | None:
    from optscale_pools import extract_boxed

    return extract_boxed(text)
