"""Resumable generation: waves of samples, chunks journaled as they finish, adaptive stopping.

The run is a deterministic function of its settings and of the samples themselves: which samples
a wave asks for depends only on earlier samples' scores, and a sample depends only on its seed
(and, in sequential mode, on the previous sample of its problem). A restart therefore replays the
same waves from the start, taking every sample already in the journal instead of recomputing it:
nothing is lost, nothing is generated twice, and the result equals an uninterrupted run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from optscale_gen._backend import GenerationBackend, sample_seed
from optscale_gen._journal import Journal, SampleRecord
from optscale_gen._prompts import previous_answer, question_prompt


class Scorer(Protocol):
    """What the runner needs from a PRM ([`PrmScorer`][optscale_gen.PrmScorer] has it)."""

    def score(
        self, problems: Sequence[str], completions: Sequence[str]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Mean and last step reward of each completion."""
        ...


class DecisionLike(Protocol):
    """What an allocator's decision must expose (optscale-math's ``AllocatorDecision``)."""

    @property
    def stop(self) -> bool:
        """True when the problem needs no more samples."""
        ...

    @property
    def planned_n(self) -> int:
        """Total samples the allocator currently plans for the problem."""
        ...


class AllocatorLike(Protocol):
    """An online stopping rule per problem (optscale-math's ``Allocator``)."""

    def observe(self, score: float) -> None:
        """Take the next sample's PRM score."""
        ...

    def decision(self) -> DecisionLike:
        """Stop now, or how many samples in total."""
        ...


@dataclass(frozen=True)
class RunPlan:
    """What to generate.

    Attributes
    ----------
    n_samples
        Samples per problem (the cap ``max_n`` in adaptive mode).
    sequential
        MR-Thinking rounds: sample ``j`` sees sample ``j - 1``'s answer; one round per wave.
    seed
        Run seed; sample ``(i, j)`` uses [`sample_seed`][optscale_gen.sample_seed] ``(seed, i, j)``.
    chunk_size
        Samples generated, scored and journaled together (the most a crash can cost).
    max_wave
        Adaptive mode: at most this many new samples per problem per wave (``None``: up to the
        allocator's planned total at once).
    """

    n_samples: int
    sequential: bool = False
    seed: int = 0
    chunk_size: int = 64
    max_wave: int | None = None

    def __post_init__(self) -> None:
        if self.n_samples < 1:
            raise ValueError(f"n_samples must be >= 1, got {self.n_samples}")
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {self.chunk_size}")
        if self.max_wave is not None and self.max_wave < 1:
            raise ValueError(f"max_wave must be >= 1, got {self.max_wave}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")


Progress = Callable[[int, int], None]
"""Progress callback: ``(samples newly finished, samples planned so far)``."""


def generate_samples(
    problems: Sequence[str],
    backend: GenerationBackend,
    scorer: Scorer,
    journal: Journal,
    plan: RunPlan,
    *,
    allocator: Callable[[int], AllocatorLike] | None = None,
    indices: Sequence[int] | None = None,
    progress: Progress | None = None,
) -> dict[int, list[SampleRecord]]:
    """Generate, count and score samples for ``problems``, journaling each chunk as it finishes.

    Parameters
    ----------
    problems
        Problem texts of the whole prompts file (indices are positions in it).
    backend
        Generator.
    scorer
        PRM.
    journal
        Run directory; samples already in it are taken, not recomputed.
    plan
        What to generate.
    allocator
        Adaptive mode: builds a fresh allocator for a problem index. Each problem then gets
        samples in waves until its allocator says stop (or ``plan.n_samples``). ``None``: every
        problem gets ``plan.n_samples``.
    indices
        Problems this process handles (a data-parallel shard); all when None.
    progress
        Called after every chunk.

    Returns
    -------
    dict
        Samples per handled problem index, in sample order.
    """
    mine = sorted(range(len(problems)) if indices is None else set(indices))
    if mine and not 0 <= mine[0] <= mine[-1] < len(problems):
        raise ValueError(f"problem indices must lie in [0, {len(problems)}), got {mine}")
    done = journal.load()
    records: dict[int, list[SampleRecord]] = {i: [] for i in mine}
    allocators = {i: allocator(i) for i in mine} if allocator is not None else {}
    active = list(mine)
    planned = 0
    while active:
        targets = {i: _target(plan, len(records[i]), allocators.get(i)) for i in active}
        active = [i for i in active if targets[i] > len(records[i])]
        items = [(i, j) for i in active for j in range(len(records[i]), targets[i])]
        planned += len(items)
        for start in range(0, len(items), plan.chunk_size):
            chunk = items[start : start + plan.chunk_size]
            missing = [key for key in chunk if key not in done]
            if missing:
                made = _make(problems, backend, scorer, plan, records, missing)
                journal.append(made)
                done.update((r.key, r) for r in made)
            for i, j in chunk:
                record = done[(i, j)]
                records[i].append(record)
                if i in allocators:
                    allocators[i].observe(record.score)
            if progress is not None:
                progress(len(chunk), planned)
    return records


def score_samples(
    problems: Sequence[str],
    completions: Sequence[Sequence[str]],
    tokens: Sequence[Sequence[int]],
    scorer: Scorer,
    journal: Journal,
    *,
    chunk_size: int = 64,
    progress: Progress | None = None,
) -> dict[int, list[SampleRecord]]:
    """(Re-)score existing completions with a PRM, journaling each chunk as it finishes.

    Parameters
    ----------
    problems
        Problem texts.
    completions, tokens
        Completion texts and token counts per problem (rows may differ in length).
    scorer
        PRM.
    journal
        Run directory; samples already in it are taken, not recomputed.
    chunk_size
        Samples scored and journaled together.
    progress
        Called after every chunk.

    Returns
    -------
    dict
        Samples per problem index, in sample order.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    done = journal.load()
    items = [(i, j) for i, row in enumerate(completions) for j in range(len(row))]
    for start in range(0, len(items), chunk_size):
        chunk = items[start : start + chunk_size]
        missing = [key for key in chunk if key not in done]
        if missing:
            texts = [completions[i][j] for i, j in missing]
            scores, last = scorer.score([problems[i] for i, _ in missing], texts)
            made = [
                SampleRecord(i, j, completions[i][j], int(tokens[i][j]), float(s), float(t))
                for (i, j), s, t in zip(missing, scores, last, strict=True)
            ]
            journal.append(made)
            done.update((r.key, r) for r in made)
        if progress is not None:
            progress(len(chunk), len(items))
    return {i: [done[(i, j)] for j in range(len(row))] for i, row in enumerate(completions)}


def _target(plan: RunPlan, n: int, allocator: AllocatorLike | None) -> int:
    """Count the problem should reach in the next wave (``n`` or fewer: it is finished)."""
    if allocator is None:
        target = plan.n_samples
    else:
        decision = allocator.decision()
        if decision.stop:
            return n
        target = min(plan.n_samples, max(n + 1, int(decision.planned_n)))
        if plan.max_wave is not None:
            target = min(target, n + plan.max_wave)
    return min(target, n + 1) if plan.sequential else target


def _make(
    problems: Sequence[str],
    backend: GenerationBackend,
    scorer: Scorer,
    plan: RunPlan,
    records: dict[int, list[SampleRecord]],
    keys: list[tuple[int, int]],
) -> list[SampleRecord]:
    """Generate, count and score the samples ``keys`` (previous rounds are in ``records``)."""
    prompts = []
    for i, j in keys:
        previous = previous_answer(records[i][j - 1].completion) if plan.sequential and j else None
        prompts.append(question_prompt(problems[i], previous))
    texts = backend.generate(prompts, [sample_seed(plan.seed, i, j) for i, j in keys])
    counts = backend.count_tokens(texts)
    scores, last = scorer.score([problems[i] for i, _ in keys], texts)
    return [
        SampleRecord(i, j, text, int(count), float(s), float(t))
        for (i, j), text, count, s, t in zip(keys, texts, counts, scores, last, strict=True)
    ]
