"""How good is a prior? MSE and Spearman correlation on MATH500, next to simple baselines."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from optscale_predictor._predictor import PriorPredictor
from optscale_predictor._records import (
    PUBLISHED_PRIORS,
    VAL_PROBLEMS,
    Split,
    align,
    math_splits,
    read_labels,
    read_problems,
)


def _ranks(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Ranks 1..n, ties sharing their mean rank."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    unique, inverse = np.unique(values, return_inverse=True)
    sums = np.bincount(inverse, weights=ranks, minlength=len(unique))
    counts = np.bincount(inverse, minlength=len(unique))
    return (sums / counts)[inverse]


def spearman(a: NDArray[np.floating], b: NDArray[np.floating]) -> float:
    """Spearman rank correlation; NaN when either input is constant.

    Notes
    -----
    The Pearson correlation of the ranks (ties get their mean rank).
    """
    ra, rb = _ranks(np.asarray(a, dtype=np.float64)), _ranks(np.asarray(b, dtype=np.float64))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = math.sqrt(float(ra @ ra) * float(rb @ rb))
    return float(ra @ rb) / denominator if denominator > 0 else math.nan


@dataclass(frozen=True)
class Score:
    """Quality of one set of priors against the labels.

    Attributes
    ----------
    name : str
        What made the priors.
    mu_mse, sigma_mse : float
        Mean squared error of mu and of sigma.
    mu_spearman, sigma_spearman : float
        Spearman correlation with the labels (NaN for a constant prediction).
    """

    name: str
    mu_mse: float
    sigma_mse: float
    mu_spearman: float
    sigma_spearman: float


def score(name: str, priors: NDArray[np.floating], labels: NDArray[np.floating]) -> Score:
    """Score ``priors`` (shape ``(P, 2)``) against ``labels`` (same shape)."""
    priors, labels = np.asarray(priors, dtype=np.float64), np.asarray(labels, dtype=np.float64)
    if priors.shape != labels.shape:
        raise ValueError(f"priors have shape {priors.shape}, labels {labels.shape}")
    mse = np.mean((priors - labels) ** 2, axis=0)
    return Score(
        name=name,
        mu_mse=float(mse[0]),
        sigma_mse=float(mse[1]),
        mu_spearman=spearman(priors[:, 0], labels[:, 0]),
        sigma_spearman=spearman(priors[:, 1], labels[:, 1]),
    )


def level_means(train: Split, val: Split) -> NDArray[np.float64]:
    """Prior per validation problem: the mean training label of its MATH level.

    Problems without a level (or of a level absent from training) get the training mean.
    """
    overall = train.labels.mean(0)
    levels = np.array([-1 if level is None else level for level in train.levels])
    means = {level: train.labels[levels == level].mean(0) for level in set(levels.tolist()) - {-1}}
    return np.array(
        [means.get(level, overall) if level is not None else overall for level in val.levels]
    )


def math500_scores(
    predictor: PriorPredictor | None = None, *, cache: Path | None = None, progress: bool = False
) -> list[Score]:
    """Score a predictor on MATH500 next to the constant, per-level and published priors.

    Rows: the training-mean constant; the per-MATH-level training mean; the paper's published
    priors (``BoN_OptScale/MATH500_train_mu_sigma.json``) read in prompt order, as upstream uses
    them, and, as a check of that alignment, in the validation file's order; then the predictor.
    """
    from optscale_pools import data_file

    train, val = math_splits()
    published = read_labels(data_file(PUBLISHED_PRIORS), negative_sigma=True)
    val_file_order = read_problems(data_file(VAL_PROBLEMS))
    to_val_file = align(val.problems, val_file_order, name="MATH500 validation")
    as_val_file = np.empty_like(published)
    as_val_file[to_val_file] = published
    constant = np.broadcast_to(train.labels.mean(0), val.labels.shape)
    rows = [
        score("training mean (constant)", constant, val.labels),
        score("per-level training mean", level_means(train, val), val.labels),
        score("published priors (prompt order, as used upstream)", published, val.labels),
        score("published priors (read in val_data order)", as_val_file, val.labels),
    ]
    if predictor is not None:
        if predictor.cache is None:
            predictor.cache = cache
        priors = predictor.predict(val.problems, progress=progress)
        rows.append(score(f"optscale-predictor ({predictor.variant})", priors, val.labels))
    return rows


def format_scores(scores: list[Score]) -> str:
    """Render scores as a Markdown table, mu MSE also relative to the first row (the constant)."""
    reference = scores[0].mu_mse

    def number(value: float, digits: int = 5) -> str:
        return "—" if math.isnan(value) else f"{value:.{digits}f}"

    lines = [
        "| priors | mu MSE | mu MSE / constant | mu Spearman | sigma MSE | sigma Spearman |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {s.name} | {number(s.mu_mse)} | {number(s.mu_mse / reference, 3)} | "
        f"{number(s.mu_spearman, 3)} | {number(s.sigma_mse)} | {number(s.sigma_spearman, 3)} |"
        for s in scores
    ]
    return "\n".join(lines)
