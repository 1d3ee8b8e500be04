from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from optscale_gen import (
    Journal,
    PrmScorer,
    RunPlan,
    SampleRecord,
    TransformersBackend,
    generate_samples,
    previous_answer,
    question_prompt,
    sample_seed,
    score_samples,
)

PROBLEMS = ["What is 2 + 3?", "What is 7 - 4?", "Compute 3 * 3."]


class ScriptedBackend:
    """Completions that name their seed in a box; records every prompt it is asked."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[str]:
        self.prompts += prompts
        return [f"think {s % 7}\n\nso \\boxed{{{s % 100}}}" for s in seeds]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(t) for t in texts]


class LengthScorer:
    """Scores from the completion text alone, so they can be predicted in the test."""

    def score(
        self, problems: Sequence[str], completions: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        values = np.array(
            [(len(p) + len(c)) % 10 / 10 for p, c in zip(problems, completions, strict=True)]
        )
        return values, values / 2


@dataclass
class Decision:
    stop: bool
    planned_n: int


class StopAfter:
    """Allocator stand-in: plans ``m`` samples and says stop once it has seen them."""

    def __init__(self, m: int) -> None:
        self.m = m
        self.seen: list[float] = []
        self.asked_at: list[int] = []

    def observe(self, score: float) -> None:
        self.seen.append(score)

    def decision(self) -> Decision:
        self.asked_at.append(len(self.seen))
        return Decision(stop=len(self.seen) >= self.m, planned_n=self.m)


def as_lists(records: dict[int, list[SampleRecord]]) -> dict[int, list[tuple[Any, ...]]]:
    return {
        i: [(r.completion, r.tokens, r.score, r.last_score) for r in rs]
        for i, rs in records.items()
    }


def test_parallel_samples_are_seeded_by_position(tmp_path: Path) -> None:
    backend = ScriptedBackend()
    plan = RunPlan(n_samples=4, seed=9, chunk_size=5)
    records = generate_samples(PROBLEMS, backend, LengthScorer(), Journal(tmp_path), plan)
    assert backend.prompts == [question_prompt(p) for p in PROBLEMS for _ in range(4)]
    for i, problem in enumerate(PROBLEMS):
        assert [r.sample for r in records[i]] == [0, 1, 2, 3]
        expected = backend.generate([problem] * 4, [sample_seed(9, i, j) for j in range(4)])
        assert [r.completion for r in records[i]] == expected


def test_sequential_rounds_quote_the_previous_answer(tmp_path: Path) -> None:
    backend = ScriptedBackend()
    plan = RunPlan(n_samples=3, sequential=True, seed=1, chunk_size=2)
    records = generate_samples(PROBLEMS, backend, LengthScorer(), Journal(tmp_path), plan)
    expected_prompts = []
    for j in range(3):  # one round per wave, every problem in each
        for i, problem in enumerate(PROBLEMS):
            prev = previous_answer(records[i][j - 1].completion) if j else None
            expected_prompts.append(question_prompt(problem, prev))
    assert backend.prompts == expected_prompts
    assert "previous answer is: $\\boxed{" in backend.prompts[-1]


@pytest.mark.parametrize("max_wave", [None, 1, 2])
def test_adaptive_counts_are_where_each_allocator_stops(
    tmp_path: Path, max_wave: int | None
) -> None:
    stops = [1, 3, 9]  # the last is capped at n_samples
    allocators: dict[int, StopAfter] = {}

    def make(index: int) -> StopAfter:
        allocators[index] = StopAfter(stops[index])
        return allocators[index]

    plan = RunPlan(n_samples=5, chunk_size=2, max_wave=max_wave)
    records = generate_samples(
        PROBLEMS, ScriptedBackend(), LengthScorer(), Journal(tmp_path), plan, allocator=make
    )
    assert [len(records[i]) for i in range(3)] == [1, 3, 5]
    for i, allocator in allocators.items():
        assert allocator.seen == [r.score for r in records[i]]
    if max_wave == 1:  # asked after every sample
        assert allocators[1].asked_at == [0, 1, 2, 3]


def test_a_resumed_run_equals_an_uninterrupted_one_wherever_it_was_cut(
    tmp_path: Path, generator: TransformersBackend, scorer: PrmScorer
) -> None:
    plan = RunPlan(n_samples=3, seed=4, chunk_size=1)
    full_dir = tmp_path / "full"
    full = generate_samples(PROBLEMS, generator, scorer, Journal(full_dir), plan)
    data = (full_dir / "samples.jsonl").read_bytes()
    rng = np.random.default_rng(0)
    for cut in [0, len(data) - 1, *rng.integers(1, len(data), size=2)]:
        run_dir = tmp_path / f"cut{cut}"
        run_dir.mkdir()
        (run_dir / "samples.jsonl").write_bytes(data[:cut])
        resumed = generate_samples(PROBLEMS, generator, scorer, Journal(run_dir), plan)
        assert as_lists(resumed) == as_lists(full)
        lines = (run_dir / "samples.jsonl").read_text().splitlines()
        assert len(lines) == 9  # every sample journaled exactly once


def test_an_adaptive_resume_replays_the_same_waves(tmp_path: Path) -> None:
    plan = RunPlan(n_samples=6, chunk_size=2, max_wave=2)
    stops = [2, 5, 6]

    def run(run_dir: Path) -> dict[int, list[SampleRecord]]:
        return generate_samples(
            PROBLEMS,
            ScriptedBackend(),
            LengthScorer(),
            Journal(run_dir),
            plan,
            allocator=lambda i: StopAfter(stops[i]),
        )

    full = run(tmp_path / "full")
    data = (tmp_path / "full" / "samples.jsonl").read_bytes()
    for cut in np.random.default_rng(1).integers(1, len(data), size=3):
        (tmp_path / f"cut{cut}").mkdir()
        (tmp_path / f"cut{cut}" / "samples.jsonl").write_bytes(data[:cut])
        assert as_lists(run(tmp_path / f"cut{cut}")) == as_lists(full)


def test_samples_in_the_journal_are_not_recomputed(tmp_path: Path) -> None:
    plan = RunPlan(n_samples=2, chunk_size=4)
    generate_samples(PROBLEMS, ScriptedBackend(), LengthScorer(), Journal(tmp_path), plan)
    again = ScriptedBackend()
    generate_samples(PROBLEMS, again, LengthScorer(), Journal(tmp_path), plan)
    assert again.prompts == []


def test_a_shard_handles_its_problems_only(tmp_path: Path) -> None:
    plan = RunPlan(n_samples=2)
    for shard in (0, 1):
        journal = Journal(tmp_path, f"samples-shard{shard}of2.jsonl")
        got = generate_samples(
            PROBLEMS, ScriptedBackend(), LengthScorer(), journal, plan, indices=range(shard, 3, 2)
        )
        assert sorted(got) == list(range(shard, 3, 2))
    backend = ScriptedBackend()
    merged = generate_samples(PROBLEMS, backend, LengthScorer(), Journal(tmp_path), plan)
    assert backend.prompts == []
    assert sorted(merged) == [0, 1, 2]


def test_scoring_existing_completions_keeps_texts_and_tokens(tmp_path: Path) -> None:
    completions = [["a\n\nb", "c"], ["d"], ["e", "f", "g"]]
    tokens = [[3, 1], [1], [1, 1, 1]]
    records = score_samples(PROBLEMS, completions, tokens, LengthScorer(), Journal(tmp_path))
    for i, row in enumerate(completions):
        scores, last = LengthScorer().score([PROBLEMS[i]] * len(row), row)
        assert [r.completion for r in records[i]] == row
        assert [r.tokens for r in records[i]] == tokens[i]
        assert [r.score for r in records[i]] == scores.tolist()
        assert [r.last_score for r in records[i]] == last.tolist()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": 2, "chunk_size": 0}, "chunk_size"),
        ({"n_samples": 2, "max_wave": 0}, "max_wave"),
        ({"n_samples": 2, "seed": -1}, "seed"),
    ],
)
def test_bad_plans_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunPlan(**kwargs)
