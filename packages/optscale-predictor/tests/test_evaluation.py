from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from optscale_predictor import Split, format_scores, score, spearman
from optscale_predictor._evaluation import level_means


def spearman_oracle(a: list[float], b: list[float]) -> float:
    """Rank by counting (ties: mean rank), then Pearson of the ranks."""

    def ranks(x: list[float]) -> list[float]:
        return [sum(y < v for y in x) + (sum(y == v for y in x) + 1) / 2 for v in x]

    ra, rb = ranks(a), ranks(b)
    if len(set(ra)) < 2 or len(set(rb)) < 2:
        return math.nan
    return float(np.corrcoef(ra, rb)[0, 1])


values = st.lists(st.integers(-5, 5).map(float), min_size=2, max_size=30)


@given(st.data())
def test_spearman_matches_the_counting_oracle(data: st.DataObject) -> None:
    a = data.draw(values)
    b = data.draw(st.lists(st.integers(-5, 5).map(float), min_size=len(a), max_size=len(a)))
    expected = spearman_oracle(a, b)
    got = spearman(np.array(a), np.array(b))
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, abs=1e-12)


def test_score_is_mse_and_rank_correlation(rng: np.random.Generator) -> None:
    labels = rng.uniform(0, 1, (50, 2))
    priors = labels + rng.normal(0, 0.1, (50, 2))
    result = score("noisy", priors, labels)
    assert result.mu_mse == pytest.approx(np.mean((priors[:, 0] - labels[:, 0]) ** 2))
    assert result.sigma_mse == pytest.approx(np.mean((priors[:, 1] - labels[:, 1]) ** 2))
    assert result.mu_spearman == pytest.approx(
        spearman_oracle(list(priors[:, 0]), list(labels[:, 0]))
    )
    with pytest.raises(ValueError, match="shape"):
        score("bad", priors[:3], labels)


def test_level_means_oracle(rng: np.random.Generator) -> None:
    train_levels: list[int | None] = [1, 1, 2, None, 2, 3]
    labels = rng.uniform(0, 1, (6, 2))
    train = Split(problems=list("abcdef"), labels=labels, levels=train_levels)
    val = Split(problems=list("ghij"), labels=np.zeros((4, 2)), levels=[2, None, 5, 1])
    expected = [
        labels[[2, 4]].mean(0),
        labels.mean(0),
        labels.mean(0),
        labels[[0, 1]].mean(0),
    ]
    np.testing.assert_allclose(level_means(train, val), expected)


def test_table_marks_undefined_correlations_and_ratios(rng: np.random.Generator) -> None:
    labels = rng.uniform(0, 1, (20, 2))
    constant = score("constant", np.broadcast_to(labels.mean(0), labels.shape), labels)
    table = format_scores([constant, score("exact", labels, labels)]).splitlines()
    assert len(table) == 4
    assert "| constant |" in table[2]
    assert "| 1.000 | — |" in table[2]
    assert "| exact | 0.00000 | 0.000 | 1.000 |" in table[3]
