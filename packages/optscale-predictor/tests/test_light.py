from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from optscale_predictor._light import Ridge, embed, fit_ridge


def ridge_oracle(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, ...]:
    """Normal equations on standardised features: (Z'Z + alpha I) W = Z'(Y - mean Y)."""
    mean, scale = x.mean(0), x.std(0) + 1e-8
    z = (x - mean) / scale
    weights = np.linalg.solve(z.T @ z + alpha * np.eye(x.shape[1]), z.T @ (y - y.mean(0)))
    return mean, scale, weights


@pytest.mark.parametrize("shape", [(40, 6), (10, 30)])
def test_ridge_matches_the_normal_equations(
    rng: np.random.Generator, shape: tuple[int, int]
) -> None:
    x = rng.normal(size=shape)
    y = np.column_stack([x @ rng.normal(size=shape[1]), x @ rng.normal(size=shape[1])]) + 3
    ridge, _ = fit_ridge(x, y, (5.0,), folds=4, seed=0)
    mean, scale, weights = ridge_oracle(x, y, 5.0)
    np.testing.assert_allclose(ridge.weights, weights, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ridge.mean, mean)
    np.testing.assert_allclose(ridge.scale, scale)


def test_the_penalty_is_chosen_by_cross_validation_on_training_rows(
    rng: np.random.Generator,
) -> None:
    x = rng.normal(size=(30, 4))
    y = np.column_stack([x[:, 0], 0.1 * x[:, 1]]) + rng.normal(0, 0.5, (30, 2))
    alphas = (0.1, 10.0, 1000.0)
    ridge, errors = fit_ridge(x, y, alphas, folds=3, seed=1)
    fold = np.random.default_rng(1).permutation(30) % 3
    expected = []
    for alpha in alphas:
        total = 0.0
        for k in range(3):
            mean, scale, weights = ridge_oracle(x[fold != k], y[fold != k], alpha)
            guess = ((x[fold == k] - mean) / scale) @ weights + y[fold != k].mean(0)
            total += float(np.sum((guess - y[fold == k]) ** 2))
        expected.append(total / y.size)
    np.testing.assert_allclose([errors[str(a)] for a in alphas], expected, rtol=1e-8)
    assert ridge.alpha == alphas[int(np.argmin(expected))]


def test_predictions_stay_within_the_training_label_range(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    x = rng.normal(size=(20, 3))
    y = np.column_stack([rng.uniform(0.5, 1, 20), rng.uniform(0.01, 0.2, 20)])
    ridge, _ = fit_ridge(x, y, (0.01,), folds=2, seed=0)
    far = ridge.predict(100 * rng.normal(size=(50, 3)))
    assert (far >= y.min(0)).all()
    assert (far <= y.max(0)).all()
    ridge.save(tmp_path / "ridge.npz")
    loaded = Ridge.load(tmp_path / "ridge.npz")
    np.testing.assert_array_equal(loaded.predict(x), ridge.predict(x))
    assert loaded.alpha == ridge.alpha


def test_features_are_mean_pooled_layers_and_cached(
    tmp_path: Path, tiny_backbone: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("torch")
    from optscale_predictor import _light

    problems = ["find x 1?", "two plus three 2?", "find x 1?"]
    features = embed(problems, str(tiny_backbone), 32, 2, cache=tmp_path)
    assert features.shape == (3, 3 * 32)  # embeddings + 2 layers, 32 wide
    np.testing.assert_array_equal(features[0], features[2])
    computed: list[list[str]] = []
    real = _light._compute

    def counting(texts: list[str], *args: object) -> np.ndarray:
        computed.append(texts)
        return real(texts, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(_light, "_compute", counting)
    again = embed([*problems, "circle area 3?"], str(tiny_backbone), 32, 2, cache=tmp_path)
    assert computed == [["circle area 3?"]]
    np.testing.assert_allclose(again[:3], features, rtol=1e-5, atol=1e-6)
    uncached = embed(["circle area 3?"], str(tiny_backbone), 32, 2)
    np.testing.assert_allclose(again[3:], uncached, rtol=1e-5, atol=1e-6)
