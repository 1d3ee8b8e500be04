"""Fit the simulator on the published figures, and measure how close SIMULATED pools land.

Run offline, once per dataset, against a mirror of the upstream data::

    python -m optscale_pools.calibrate --mirror /path/to/optscale-upstream --dataset aime24
    python -m optscale_pools.calibrate --mirror /path/to/optscale-upstream --table

The first writes ``data/simulation/aime24.json``; the second prints the residual table (published
vs SIMULATED, paper-mode rules) for every dataset whose parameters exist.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, differential_evolution
from scipy.stats import truncnorm

from optscale_pools import jsonread
from optscale_pools.atomic import write_text_atomic
from optscale_pools.simulation_model import (
    DATASETS,
    PARAMS_DIR,
    Latents,
    SimulationParams,
    answer_kinds,
    correctness,
    load_params,
    score_from_latent,
    simulate_samples,
    success_probability,
)

CHECK_N = (1, 4, 16, 64)
"""Budgets at which the residual table compares published and simulated curves."""

FIT_SEED = 0
"""Seed of the shipped simulated pools, on which the parameters are fitted."""

MISS_PENALTY = 1.0
"""Objective cost of one check (BoN or majority at one of ``CHECK_N``) outside the tolerance."""

PERSISTENCE = 0.7
"""AR(1) coefficient of the sequential correctness latent (an assumption, not fitted)."""


def bon_picks(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Best-of-N pick for every ``N``: argmax of the first ``N`` scores, first index on ties.

    Returns ``[P, K]`` where column ``N - 1`` is the pick at budget ``N``. (Upstream's
    empty-completion rule never fires on simulated pools, which have no empty completion.)
    """
    n_samples = scores.shape[1]
    running = np.maximum.accumulate(scores, axis=1)
    new_max = np.ones(scores.shape, dtype=bool)
    new_max[:, 1:] = scores[:, 1:] > running[:, :-1]
    index = np.where(new_max, np.arange(n_samples), 0)
    result: npt.NDArray[np.int64] = np.maximum.accumulate(index, axis=1)
    return result


def majority_picks(answer_ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Majority pick for every ``N``: first sample of the most common answer id among the first N.

    Ids are compared as given, "no answer" included as a candidate like any other (paper mode);
    ties go to the answer seen first. Returns ``[P, K]`` as `bon_picks`.
    """
    n_samples = answer_ids.shape[1]
    ids = answer_ids - answer_ids.min()
    onehot = ids[..., np.newaxis] == np.arange(int(ids.max()) + 1)
    counts = np.cumsum(onehot, axis=1)
    first = np.where(onehot.any(axis=1), onehot.argmax(axis=1), n_samples)
    key = counts * (n_samples + 1) - first[:, np.newaxis, :]
    winner = key.argmax(axis=2)
    result: npt.NDArray[np.int64] = np.take_along_axis(first, winner, axis=1)
    return result


def curve(correct: npt.NDArray[np.bool_], picks: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Accuracy at every budget: mean over problems of ``correct[p, picks[p, N-1]]``."""
    result: npt.NDArray[np.float64] = np.take_along_axis(correct, picks, axis=1).mean(axis=0)
    return result


def published(mirror: Path, dataset: str) -> dict[str, npt.NDArray[np.float64]]:
    """Read the published per-N curves (accuracies ``bon``, ``maj``, ``mr``; token sums)."""
    name = DATASETS[dataset][0]
    bon = _read(mirror / f"BoN_OptScale/{name}_BoN_results.json")
    maj = _read(mirror / f"SC/{name}_maj_vote_results.json")
    seq = _read(mirror / f"Seq/{name}_MR-Thinking.json")
    return {
        "bon": np.array([row["accuracy"] for row in bon]),
        "maj": np.array([row["accuracy"] for row in maj]),
        "tokens": np.array([row["token_count"] for row in bon]),
        "mr": np.array([row["accuracy"] for row in seq]),
        "mr_correct": np.array([row["total_correct"] for row in seq], dtype=np.float64),
        "mr_tokens": np.array([row["avg_tokens"] for row in seq]),
    }


def score_laws(mirror: Path, dataset: str) -> tuple[npt.NDArray[np.float64], ...]:
    """Per-problem score law ``(mu, sigma)`` of all problems of ``dataset``.

    The notebooks' full-pool fits cover every problem of AIME24/25 and AMC23 and the first 50 of
    MATH500 and GSM8K. The other MATH500 problems take the truncated normal whose mean and standard
    deviation match those of their 64 real PRM scores (``val_mu_sigma.json``, aligned by problem
    text); the other GSM8K problems draw a law from the 50 fitted ones (seeded).
    """
    name, prompts_file = DATASETS[dataset]
    figures = _read(mirror / f"notebook_figures/{name}.json")["peeks"]["3"]
    fitted = {int(row["problem"]): (row["full_mu"], row["full_sigma"]) for row in figures}
    prompts = _read(mirror / prompts_file)
    laws = np.full((len(prompts), 2), np.nan)
    for index, law in fitted.items():
        laws[index] = law
    missing = np.flatnonzero(np.isnan(laws[:, 0]))
    if dataset == "math500" and missing.size:
        labels = _read(mirror / "train_predictor/val_mu_sigma.json")
        texts = [
            _normalise(row["problem"]) for row in _read(mirror / "train_predictor/val_data.json")
        ]
        position = {text: i for i, text in enumerate(texts)}
        rows = [labels[position[_normalise(prompts[index]["problem"])]] for index in missing]
        moments = np.asarray(rows, dtype=np.float64)
        laws[missing, 0], laws[missing, 1] = moment_match(moments[:, 0], moments[:, 1])
    elif missing.size:
        rng = np.random.default_rng(0)
        known = laws[~np.isnan(laws[:, 0])]
        laws[missing] = known[rng.integers(0, len(known), missing.size)]
    return laws[:, 0], laws[:, 1]


def moment_match(
    mean: npt.NDArray[np.float64], std: npt.NDArray[np.float64], iterations: int = 60
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``(mu, sigma)`` of truncated normals on [0, 1] with these means and standard deviations.

    Notes
    -----
    Levenberg-Marquardt on ``(mu, log sigma)`` for all problems at once, started at
    ``(mean, std)``, with a forward-difference Jacobian; the residual is the moment gap relative
    to ``std``. A truncated normal cannot have every (mean, std) pair: near 1 its spread is
    bounded by about ``1 - mean``, so for problems whose real scores have low outliers the result
    is the closest law, not an exact match.
    """
    mean = np.asarray(mean, dtype=np.float64)
    std = np.maximum(np.asarray(std, dtype=np.float64), 1e-3)
    x = np.stack([mean, np.log(std)], axis=-1)

    def gap(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        mu, sigma = x[:, 0], np.exp(x[:, 1])
        with np.errstate(all="ignore"):
            law = truncnorm((0 - mu) / sigma, (1 - mu) / sigma, mu, sigma)
            m, v = law.mean(), law.var()
            return np.stack([m - mean, np.sqrt(v) - std], axis=-1) / std[:, np.newaxis]

    residual = gap(x)
    cost = np.sum(residual**2, axis=-1)
    damping = np.full(mean.size, 1e-2)
    step = 1e-6
    for _ in range(iterations):
        jacobian = np.stack(
            [(gap(x + step * np.eye(2)[k]) - residual) / step for k in range(2)], axis=-1
        )
        normal = np.einsum("pik,pil->pkl", jacobian, jacobian)
        normal += damping[:, None, None] * np.eye(2)
        gradient = np.einsum("pik,pi->pk", jacobian, residual)
        trial = x - np.linalg.solve(normal, gradient[..., None])[..., 0]
        trial_residual = gap(trial)
        trial_cost = np.sum(trial_residual**2, axis=-1)
        better = np.isfinite(trial_cost) & (trial_cost < cost)
        x[better], residual[better], cost[better] = (
            trial[better],
            trial_residual[better],
            trial_cost[better],
        )
        damping = np.where(better, damping / 3, damping * 4)
    best = x
    return best[:, 0], np.exp(best[:, 1])


N_KNOTS = 5
"""Knots of the difficulty curve (logit success probability vs score-mean quantile)."""

BOUNDS = Bounds(
    [-12.0, *[0.0] * (N_KNOTS - 1), 0.0, 0.0, 0.0],
    [8.0, *[12.0] * (N_KNOTS - 1), 0.99, 1.0, 3.0],
)
"""Search box: first logit, logit increments, rho, none rate, distractor concentration."""


def _with_theta(params: SimulationParams, theta: npt.ArrayLike) -> SimulationParams:
    """Parameters with the fitted quantities set from search coordinates (see ``BOUNDS``)."""
    values = [float(x) for x in np.asarray(theta, dtype=np.float64)]
    rho, none_rate, concentration = values[N_KNOTS:]
    return replace(
        params,
        difficulty_logits=np.round(np.cumsum(values[:N_KNOTS]), 6),
        rho=round(rho, 6),
        none_rate=round(none_rate, 6),
        concentration=round(concentration, 6),
    )


def fit(mirror: Path, dataset: str, *, maxiter: int = 60, popsize: int = 12) -> SimulationParams:
    """Fit difficulty, verifier quality and wrong-answer structure to the BoN and majority curves.

    Notes
    -----
    The objective is the sum of squared gaps between published and simulated accuracy at every
    ``N = 1..K``, for BoN and majority vote, plus ``MISS_PENALTY`` per check at ``CHECK_N``
    outside the tolerance of `accuracy_tolerance`, on the pool drawn with ``FIT_SEED``
    (its latents are drawn once). It is piecewise constant (correctness flips at thresholds), so
    it is minimised by seeded differential evolution over ``BOUNDS`` (``maxiter`` generations of
    ``popsize`` members per parameter).
    """
    target = published(mirror, dataset)
    mu, sigma = score_laws(mirror, dataset)
    n_samples = target["bon"].size
    base = SimulationParams(
        dataset=dataset,
        score_mu=mu,
        score_sigma=sigma,
        difficulty_logits=np.zeros(N_KNOTS),
        rho=0.3,
        none_rate=0.3,
        concentration=0.5,
        first_correct=round(float(target["bon"][0]) * mu.size),
        token_means=np.diff(target["tokens"], prepend=0.0),
        seq_correct=target["mr_correct"].astype(np.int64),
        seq_token_means=np.diff(target["mr_tokens"], prepend=0.0),
        persistence=PERSISTENCE,
    )
    pinned = np.full(n_samples, -1, dtype=np.int64)
    pinned[0] = base.first_correct
    rng = np.random.default_rng([FIT_SEED, list(DATASETS).index(dataset), 0])
    latents = Latents.draw(rng, (mu.size, n_samples))
    bon = bon_picks(score_from_latent(mu, sigma, latents.score))
    checks = np.asarray(CHECK_N) - 1
    tolerance = accuracy_tolerance(mu.size)

    def loss(theta: npt.NDArray[np.float64]) -> float:
        params = _with_theta(base, theta)
        correct = correctness(success_probability(params), params.rho, latents, pinned)
        kind = answer_kinds(correct, params.none_rate, params.concentration, latents)
        gaps = np.stack(
            [
                curve(correct, bon) - target["bon"],
                curve(correct, majority_picks(kind)) - target["maj"],
            ]
        )
        misses = np.count_nonzero(np.abs(gaps[:, checks]) > tolerance + 1e-9)
        return float(np.sum(gaps**2) + MISS_PENALTY * misses)

    result = differential_evolution(
        loss, BOUNDS, seed=0, maxiter=maxiter, popsize=popsize, polish=False
    )
    return _with_theta(base, result.x)


def residuals(mirror: Path, params: SimulationParams, seed: int = 0) -> list[dict[str, Any]]:
    """Compare published and simulated paper-mode curves at ``CHECK_N`` for one dataset and seed."""
    target = published(mirror, params.dataset)
    parallel = simulate_samples(params, seed)
    sequential = simulate_samples(params, seed, sequential=True)
    simulated = {
        "bon": curve(parallel.correct, bon_picks(parallel.scores)),
        "maj": curve(parallel.correct, majority_picks(parallel.kind)),
        "mr": sequential.correct.mean(axis=0),
        "tokens": np.cumsum(parallel.tokens, axis=1).mean(axis=0),
        "mr_tokens": np.cumsum(sequential.tokens, axis=1).mean(axis=0),
    }
    rows = []
    for metric, values in simulated.items():
        for n in CHECK_N:
            rows.append(
                {
                    "dataset": params.dataset,
                    "metric": metric,
                    "n": n,
                    "published": float(target[metric][n - 1]),
                    "simulated": float(values[n - 1]),
                }
            )
    return rows


def within_tolerance(row: dict[str, Any], n_problems: int) -> bool:
    """Apply the acceptance rule: 3 accuracy points (1 problem on AIME/AMC), 5% on tokens."""
    gap = abs(row["simulated"] - row["published"])
    if row["metric"].endswith("tokens"):
        return bool(gap <= 0.05 * row["published"])
    return bool(gap <= accuracy_tolerance(n_problems) + 1e-9)


def accuracy_tolerance(n_problems: int) -> float:
    """Return the allowed accuracy gap: one problem on the small sets (AIME, AMC), else 3 points."""
    return 1.0 / n_problems if n_problems <= 40 else 0.03


def residual_table(mirror: Path, datasets: Sequence[str], params_dir: Path | None) -> str:
    """Markdown residual table (SIMULATED, seed 0) for the given datasets."""
    lines = [
        "| dataset | metric | N | published | SIMULATED | gap | ok |",
        "|---|---|---:|---:|---:|---:|:---:|",
    ]
    for dataset in datasets:
        params = load_params(dataset, params_dir)
        for row in residuals(mirror, params):
            tokens = row["metric"].endswith("tokens")
            fmt = "{:.0f}" if tokens else "{:.3f}"
            gap = row["simulated"] - row["published"]
            gap_text = f"{100 * gap / row['published']:+.1f}%" if tokens else f"{gap:+.3f}"
            ok = "yes" if within_tolerance(row, params.n_problems) else "NO"
            lines.append(
                f"| {dataset} | {row['metric']} | {row['n']} | {fmt.format(row['published'])} "
                f"| {fmt.format(row['simulated'])} | {gap_text} | {ok} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: fit and write parameters, or print the residual table."""
    parser = argparse.ArgumentParser(
        prog="python -m optscale_pools.calibrate",
        description="Fit the pool simulator on published figures; print the residual table.",
    )
    parser.add_argument(
        "--mirror",
        type=Path,
        default=os.environ.get("OPTSCALE_DATA_MIRROR"),
        help="upstream data folder (default $OPTSCALE_DATA_MIRROR)",
    )
    parser.add_argument(
        "--dataset",
        action="append",
        choices=sorted(DATASETS),
        help="dataset to fit (repeatable); default all",
    )
    parser.add_argument("--out", type=Path, default=PARAMS_DIR, help="parameter folder")
    parser.add_argument("--table", action="store_true", help="print the residual table only")
    parser.add_argument(
        "--maxiter", type=int, default=60, help="differential evolution generations"
    )
    parser.add_argument("--popsize", type=int, default=12, help="population per parameter")
    args = parser.parse_args(argv)
    if args.mirror is None or not Path(args.mirror).is_dir():
        print(
            "error: --mirror (or $OPTSCALE_DATA_MIRROR) must name the upstream data folder",
            file=sys.stderr,
        )
        return 2
    datasets = args.dataset or list(DATASETS)
    if not args.table:
        args.out.mkdir(parents=True, exist_ok=True)
        for dataset in datasets:
            params = fit(Path(args.mirror), dataset, maxiter=args.maxiter, popsize=args.popsize)
            path = args.out / f"{dataset}.json"
            write_text_atomic(path, json.dumps(params.to_json(), indent=1) + "\n")
            print(f"{dataset}: wrote {path}", flush=True)
    print(residual_table(Path(args.mirror), datasets, args.out))
    return 0


def _read(path: Path) -> Any:
    """Parse an upstream JSON file."""
    return jsonread.loads(path.read_bytes(), str(path))


def _normalise(text: str) -> str:
    """Whitespace-normalised problem text, for alignment by text."""
    return " ".join(text.split())


if __name__ == "__main__":
    raise SystemExit(main())
