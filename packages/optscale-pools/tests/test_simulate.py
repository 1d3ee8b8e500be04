from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from optscale_pools.calibrate import bon_picks, majority_picks, moment_match
from optscale_pools.simulate import distractors, gold_answer, simulate_dataset
from optscale_pools.simulation_model import (
    DATASETS,
    NONE,
    SimulationParams,
    load_params,
    simulate_samples,
)
from optscale_pools.upstream import read_upstream_pool
from scipy.stats import truncnorm

K = 8


def tiny_params() -> SimulationParams:
    return SimulationParams(
        dataset="aime24",
        score_mu=np.array([0.9, 0.5, 3.0, 0.2, 0.7]),
        score_sigma=np.array([0.05, 0.2, 0.5, 0.1, 0.3]),
        difficulty_logits=np.array([-3.0, -1.0, 0.0, 2.0, 5.0]),
        rho=0.8,
        none_rate=0.4,
        concentration=1.0,
        first_correct=3,
        token_means=np.linspace(1000, 1200, K),
        seq_correct=np.array([3, 2, 4, 1, 0, 5, 3, 2]),
        seq_token_means=np.linspace(900, 1000, K),
        persistence=0.7,
    )


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path]:
    params_dir = tmp_path / "params"
    params_dir.mkdir()
    (params_dir / "aime24.json").write_text(json.dumps(tiny_params().to_json()))
    prompts = tmp_path / "prompts.json"
    records = [
        {"problem": "What is 1+1?", "answer": "2"},
        {"problem": "Simplify 2/4.", "answer": "\\frac{1}{2}"},
        {"problem": "Name it.", "answer": "\\text{Evelyn}"},
        {"question": "Eggs?", "answer": "She sells 9 eggs.\n#### 1,018"},
        {"problem": "Largest prime below 10?", "answer": "7"},
    ]
    prompts.write_text(json.dumps(records))
    return params_dir, prompts


def test_params_round_trip_through_json(tiny: tuple[Path, Path]) -> None:
    loaded = load_params("AIME24", tiny[0])
    original = tiny_params()
    for name in ("score_mu", "token_means", "seq_correct", "difficulty_logits"):
        np.testing.assert_allclose(getattr(loaded, name), getattr(original, name))
    assert loaded.rho == original.rho


def test_samples_are_deterministic_by_seed() -> None:
    params = tiny_params()
    first, again = simulate_samples(params, 3), simulate_samples(params, 3)
    other = simulate_samples(params, 4)
    np.testing.assert_array_equal(first.scores, again.scores)
    np.testing.assert_array_equal(first.kind, again.kind)
    assert not np.array_equal(first.scores, other.scores)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pinned_counts_and_token_means_hold(seed: int) -> None:
    params = tiny_params()
    parallel = simulate_samples(params, seed)
    sequential = simulate_samples(params, seed, sequential=True)
    assert parallel.correct[:, 0].sum() == params.first_correct
    np.testing.assert_array_equal(sequential.correct.sum(axis=0), params.seq_correct)
    np.testing.assert_allclose(parallel.tokens.mean(axis=0), params.token_means, atol=0.5)
    np.testing.assert_allclose(sequential.tokens.mean(axis=0), params.seq_token_means, atol=0.5)
    for samples in (parallel, sequential):
        assert ((samples.scores >= 0) & (samples.scores <= 1)).all()
        assert ((samples.last_scores >= 0) & (samples.last_scores <= 1)).all()
        np.testing.assert_array_equal(samples.kind == 0, samples.correct)
        assert samples.tokens.min() >= 1


def test_wrong_answer_structure_follows_the_parameters() -> None:
    params = replace(tiny_params(), score_mu=np.full(400, 0.8), score_sigma=np.full(400, 0.1))
    params = replace(params, difficulty_logits=np.full(5, -2.0), first_correct=40)
    kind = simulate_samples(params, 0).kind
    wrong = kind[kind != 0]
    assert np.mean(wrong == NONE) == pytest.approx(params.none_rate, abs=0.03)
    distractor = wrong[wrong != NONE]
    shares = np.bincount(distractor, minlength=9)[1:] / distractor.size
    expected = np.exp(-params.concentration * np.arange(8))
    np.testing.assert_allclose(shares, expected / expected.sum(), atol=0.03)


def test_simulated_files_load_in_the_upstream_shape(
    tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    params_dir, prompts = tiny
    out = tmp_path / "out"
    parallel, sequential = simulate_dataset(
        "aime24", seed=0, out_dir=out, prompts=prompts, params_dir=params_dir
    )
    items = json.loads(parallel.read_text())
    assert len(items) == 5
    assert set(items[0]) == {"id", "output", "n", "score", "simulated"}
    assert items[0]["simulated"] is True
    assert set(items[0]["score"]) == {
        "problem",
        "completions",
        "scores",
        "last_scores",
        "pred",
        "completion_tokens",
    }
    assert len(items[0]["score"]["completions"][0]) == K
    assert all("SIMULATED" in text for text in items[0]["score"]["completions"][0])
    samples = simulate_samples(load_params("aime24", params_dir), 0)
    pool = read_upstream_pool(parallel, prompts)
    assert pool.simulated
    np.testing.assert_allclose(pool.scores, samples.scores)
    np.testing.assert_array_equal(pool.tokens, samples.tokens)
    golds = [gold_answer(g) for g in pool.golds]
    for p in range(5):
        for j in range(K):
            kind = samples.kind[p, j]
            if kind == NONE:
                assert pool.preds[p][j] is None
            elif kind == 0:
                assert pool.preds[p][j] == golds[p]
            else:
                assert pool.preds[p][j] == distractors(golds[p])[kind - 1]
    seq_pool = read_upstream_pool(sequential, prompts)
    seq_correct = [
        [pred == gold for pred in row] for row, gold in zip(seq_pool.preds, golds, strict=True)
    ]
    np.testing.assert_array_equal(np.sum(seq_correct, axis=0), tiny_params().seq_correct)
    again = simulate_dataset(
        "aime24", seed=0, out_dir=tmp_path / "again", prompts=prompts, params_dir=params_dir
    )
    assert again[0].read_bytes() == parallel.read_bytes()
    assert again[1].read_bytes() == sequential.read_bytes()


def test_gold_answers_and_distractors() -> None:
    assert gold_answer("She sells 9 eggs.\n#### 1,018") == "1018"
    assert gold_answer(" \\frac{1}{2} ") == "\\frac{1}{2}"
    for gold in ("7", "-3", "\\frac{1}{2}"):
        options = distractors(gold)
        assert len(set(options)) == len(options) == 8
        assert gold not in options


def test_bad_inputs_are_rejected(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    params_dir = tiny[0]
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_params("aime26", params_dir)
    with pytest.raises(ValueError, match=r"aime25\.json: cannot read simulation parameters"):
        load_params("aime25", params_dir)
    short = tmp_path / "short.json"
    short.write_text(json.dumps([{"problem": "x", "answer": "1"}]))
    with pytest.raises(ValueError, match="1 prompts, but the simulation parameters"):
        simulate_dataset("aime24", out_dir=tmp_path / "o", prompts=short, params_dir=params_dir)
    assert not list((tmp_path / "o").glob("*"))


def slow_bon(scores: npt.NDArray[np.float64], n: int) -> list[int]:
    picks = []
    for row in scores:
        best = 0
        for j in range(1, n):
            if row[j] > row[best]:
                best = j
        picks.append(best)
    return picks


def slow_majority(ids: npt.NDArray[np.int64], n: int) -> list[int]:
    picks = []
    for row in ids:
        counts: dict[int, int] = {}
        for answer in row[:n]:
            counts[int(answer)] = counts.get(int(answer), 0) + 1
        top = max(counts.values())
        winner = next(int(a) for a in row[:n] if counts[int(a)] == top)
        picks.append(int(np.flatnonzero(row == winner)[0]))
    return picks


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.int64, st.tuples(st.integers(1, 5), st.integers(1, 9)), elements=st.integers(-1, 3))
)
def test_paper_rules_match_slow_loops(ids: npt.NDArray[np.int64]) -> None:
    scores = (ids % 3) / 3.0  # many ties, to exercise first-index tie-breaks
    bon, majority = bon_picks(scores), majority_picks(ids)
    for n in range(1, ids.shape[1] + 1):
        assert bon[:, n - 1].tolist() == slow_bon(scores, n)
        assert majority[:, n - 1].tolist() == slow_majority(ids, n)


def test_moment_match_recovers_feasible_laws() -> None:
    mu, sigma = np.array([0.5, 0.9, 1.3, 0.2]), np.array([0.1, 0.05, 0.2, 0.3])
    law = truncnorm((0 - mu) / sigma, (1 - mu) / sigma, mu, sigma)
    fitted_mu, fitted_sigma = moment_match(law.mean(), law.std())
    np.testing.assert_allclose(fitted_mu, mu, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(fitted_sigma, sigma, rtol=1e-3)


def test_shipped_parameters_cover_every_dataset() -> None:
    for dataset in DATASETS:
        params = load_params(dataset)
        assert params.n_samples == 64
        assert params.first_correct <= params.n_problems
        assert np.all(np.diff(params.difficulty_logits) >= 0)
