r"""SIMULATED completion pools, calibrated on the published figures of the five datasets.

No model is run. Per problem, the simulator draws K samples with a PRM score, a correctness flag,
an answer (the gold, one of a few distractors, or none when the completion was cut) and a token
count, from a model whose parameters are fitted offline (`optscale_pools.calibrate`) and
committed as ``data/simulation/<dataset>.json``. At run time the simulator only reads them.

Model, per problem ``i`` and sample ``j``
-----------------------------------------
* Score law: ``s_ij ~ TN_[0,1](mu_i, sigma_i)``, the truncated normal of the paper, with the
  per-problem parameters stored in the file (fitted on the real pools, see the calibration).
* Difficulty: problems are ranked by the mean of their score law, at quantile
  ``q_i = (r_i + 1/2) / P``; a sample of problem ``i`` is correct with probability
  ``p_i = expit(g(q_i))``, ``g`` non-decreasing and piecewise linear through fitted knots, so a
  higher mean score means an easier problem.
* Verifier quality: with a latent ``u_ij ~ N(0, 1)`` setting the score
  (``s_ij = F_i^{-1}(\Phi(u_ij))``) and an independent ``e_ij ~ N(0, 1)``, the sample is correct
  when ``\rho u_ij + \sqrt{1 - \rho^2} e_ij > \Phi^{-1}(1 - p_i)``: correct samples score higher
  by an amount set by ``rho``.
* Sequential pool: ``e_ij`` is an AR(1) process along ``j`` (the previous answer is in the
  prompt), and the number of correct samples in column ``j`` is the published MR-Thinking count at
  ``N = j + 1`` (the samples with the largest margins are the correct ones). In the parallel pool
  only column 0 is pinned, to the published accuracy at ``N = 1``.
* Wrong answers: no answer (cut at the token limit) with probability ``none_rate``, else
  distractor ``d`` of ``D`` with probability proportional to ``exp(-concentration * d)``.
* Tokens: a log-normal per-sample factor, longer for harder problems and for cut samples, scaled
  so that every column's mean over problems equals the published mean of that sample position.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import expit, ndtr, ndtri
from scipy.stats import truncnorm

from optscale_pools import jsonread

DATASETS: dict[str, tuple[str, str]] = {
    "aime24": ("AIME24", "data/test_prompts/aime24.json"),
    "aime25": ("AIME25", "data/test_prompts/aime25.json"),
    "amc23": ("AMC23", "data/test_prompts/amc23.json"),
    "math500": ("MATH500", "data/test_prompts/math500_test.json"),
    "gsm8k": ("GSM8K", "data/test_prompts/gsm8k_test.json"),
}
"""Dataset key -> (upstream name, prompts file relative to the upstream data root)."""

N_DISTRACTORS = 8
"""Distinct wrong answers per problem."""

NONE = -1
"""Answer kind of a sample cut without a ``\\boxed{}``; 0 is the gold, ``1..D`` distractors."""

LAST_SCORE_CORRELATION = 0.8
"""Correlation of the latents of ``last_scores`` and ``scores`` (an assumption, not fitted)."""

TOKEN_SPREAD = 0.35
"""Log-normal sigma of the per-sample token factor (an assumption; only means are fitted)."""

PARAMS_DIR = Path(__file__).resolve().parents[4] / "data" / "simulation"
"""Where the fitted parameter files live in a checkout of the repository."""


@dataclass(frozen=True)
class SimulationParams:
    """Fitted parameters of one dataset (the content of ``data/simulation/<dataset>.json``).

    Attributes
    ----------
    dataset
        Dataset key (``aime24``, ...).
    score_mu, score_sigma
        Per-problem truncated-normal score law, shape ``[P]``.
    difficulty_logits
        Logit of the success probability at equally spaced quantiles of the score-mean rank
        (non-decreasing); linear in between.
    rho
        Correlation between the score latent and the correctness latent.
    none_rate
        Probability that a wrong sample carries no answer.
    concentration
        Decay rate of the distractor weights ``exp(-concentration * d)``.
    first_correct
        Number of problems whose sample 0 is correct in the parallel pool (published ``N = 1``).
    token_means
        Published mean tokens of each sample position of the parallel pool, ``[K]``.
    seq_correct
        Published MR-Thinking correct counts at ``N = 1..K``, ``[K]``.
    seq_token_means
        Published mean tokens of each sample position of the sequential pool, ``[K]``.
    persistence
        AR(1) coefficient of the correctness latent along the sequential pool (an assumption).
    """

    dataset: str
    score_mu: npt.NDArray[np.float64]
    score_sigma: npt.NDArray[np.float64]
    difficulty_logits: npt.NDArray[np.float64]
    rho: float
    none_rate: float
    concentration: float
    first_correct: int
    token_means: npt.NDArray[np.float64]
    seq_correct: npt.NDArray[np.int64]
    seq_token_means: npt.NDArray[np.float64]
    persistence: float

    @property
    def n_problems(self) -> int:
        """Number of problems P."""
        return int(self.score_mu.size)

    @property
    def n_samples(self) -> int:
        """Samples per problem K."""
        return int(self.token_means.size)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (what [`load_params`][optscale_pools.load_params] reads)."""
        return {
            "simulated": True,
            "dataset": self.dataset,
            "score_mu": [round(float(x), 6) for x in self.score_mu],
            "score_sigma": [round(float(x), 6) for x in self.score_sigma],
            "difficulty_logits": [round(float(x), 6) for x in self.difficulty_logits],
            "rho": self.rho,
            "none_rate": self.none_rate,
            "concentration": self.concentration,
            "first_correct": self.first_correct,
            "token_means": [round(float(x), 4) for x in self.token_means],
            "seq_correct": [int(x) for x in self.seq_correct],
            "seq_token_means": [round(float(x), 4) for x in self.seq_token_means],
            "persistence": self.persistence,
        }


def load_params(dataset: str, params_dir: Path | None = None) -> SimulationParams:
    """Read the fitted parameters of ``dataset`` from ``params_dir`` (default: the repo's)."""
    path = (PARAMS_DIR if params_dir is None else params_dir) / f"{dataset_key(dataset)}.json"
    try:
        raw = jsonread.loads(path.read_bytes(), str(path))
        return SimulationParams(
            dataset=str(raw["dataset"]),
            score_mu=np.asarray(raw["score_mu"], dtype=np.float64),
            score_sigma=np.asarray(raw["score_sigma"], dtype=np.float64),
            difficulty_logits=np.asarray(raw["difficulty_logits"], dtype=np.float64),
            rho=float(raw["rho"]),
            none_rate=float(raw["none_rate"]),
            concentration=float(raw["concentration"]),
            first_correct=int(raw["first_correct"]),
            token_means=np.asarray(raw["token_means"], dtype=np.float64),
            seq_correct=np.asarray(raw["seq_correct"], dtype=np.int64),
            seq_token_means=np.asarray(raw["seq_token_means"], dtype=np.float64),
            persistence=float(raw["persistence"]),
        )
    except (OSError, ValueError, KeyError, TypeError, ArithmeticError) as error:
        msg = f"{path}: cannot read simulation parameters ({error}); run optscale_pools.calibrate"
        raise ValueError(msg) from error


@dataclass(frozen=True)
class Latents:
    """The random draws behind one simulated pool (independent of the fitted parameters)."""

    score: npt.NDArray[np.float64]
    noise: npt.NDArray[np.float64]
    last: npt.NDArray[np.float64]
    none: npt.NDArray[np.float64]
    distractor: npt.NDArray[np.float64]
    tokens: npt.NDArray[np.float64]

    @classmethod
    def draw(cls, rng: np.random.Generator, shape: tuple[int, int]) -> Latents:
        """Draw every latent of a ``[P, K]`` pool, in a fixed order."""
        return cls(
            score=rng.standard_normal(shape),
            noise=rng.standard_normal(shape),
            last=rng.standard_normal(shape),
            none=rng.random(shape),
            distractor=rng.random(shape),
            tokens=rng.standard_normal(shape),
        )


@dataclass(frozen=True)
class SimulatedSamples:
    """Per-sample arrays ``[P, K]`` of a simulated pool."""

    scores: npt.NDArray[np.float64]
    last_scores: npt.NDArray[np.float64]
    correct: npt.NDArray[np.bool_]
    kind: npt.NDArray[np.int64]
    tokens: npt.NDArray[np.int64]


def success_probability(params: SimulationParams) -> npt.NDArray[np.float64]:
    """Per-problem probability that a sample is correct (see the module docstring)."""
    mean_score = score_law_mean(params.score_mu, params.score_sigma)
    rank = np.argsort(np.argsort(mean_score, kind="stable"), kind="stable")
    quantile = (rank + 0.5) / rank.size
    knots = np.linspace(0.0, 1.0, params.difficulty_logits.size)
    result: npt.NDArray[np.float64] = expit(np.interp(quantile, knots, params.difficulty_logits))
    return result


def score_law_mean(
    mu: npt.NDArray[np.float64], sigma: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Mean of ``TN_[0,1](mu, sigma)``, elementwise."""
    return np.asarray(truncnorm.mean((0 - mu) / sigma, (1 - mu) / sigma, mu, sigma), np.float64)


def score_from_latent(
    mu: npt.NDArray[np.float64], sigma: npt.NDArray[np.float64], latent: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Scores ``F_i^{-1}(Phi(latent))`` for per-problem laws ``[P]`` and latents ``[P, K]``."""
    m, s = mu[:, np.newaxis], sigma[:, np.newaxis]
    result: npt.NDArray[np.float64] = np.clip(
        truncnorm.ppf(ndtr(latent), (0 - m) / s, (1 - m) / s, m, s), 0.0, 1.0
    )
    return result


def correctness(
    p: npt.NDArray[np.float64],
    rho: float,
    latents: Latents,
    pinned: npt.NDArray[np.int64] | None,
    persistence: float = 0.0,
) -> npt.NDArray[np.bool_]:
    """Correctness ``[P, K]``; columns with ``pinned[j] >= 0`` hold exactly that many successes."""
    noise = latents.noise
    if persistence:
        noise = noise.copy()
        for column in range(1, noise.shape[1]):
            noise[:, column] = (
                persistence * noise[:, column - 1]
                + np.sqrt(1 - persistence**2) * latents.noise[:, column]
            )
    margin = rho * latents.score + np.sqrt(1 - rho**2) * noise - ndtri(1 - p)[:, np.newaxis]
    correct = margin > 0
    if pinned is not None:
        columns = np.flatnonzero(pinned >= 0)
        top = np.argsort(-margin[:, columns], axis=0, kind="stable")
        rank = np.empty_like(top)
        np.put_along_axis(rank, top, np.arange(margin.shape[0])[:, np.newaxis], axis=0)
        correct[:, columns] = rank < pinned[columns][np.newaxis, :]
    return np.asarray(correct, dtype=np.bool_)


def answer_kinds(
    correct: npt.NDArray[np.bool_], none_rate: float, concentration: float, latents: Latents
) -> npt.NDArray[np.int64]:
    """Answer kind per sample: 0 gold, ``1..D`` distractor, ``NONE`` for no answer."""
    weights = np.exp(-concentration * np.arange(N_DISTRACTORS))
    cumulative = np.cumsum(weights) / weights.sum()
    distractor = 1 + np.minimum(np.searchsorted(cumulative, latents.distractor), N_DISTRACTORS - 1)
    wrong = np.where(latents.none < none_rate, NONE, distractor)
    return np.where(correct, 0, wrong).astype(np.int64)


def token_counts(
    p: npt.NDArray[np.float64],
    kind: npt.NDArray[np.int64],
    column_means: npt.NDArray[np.float64],
    latents: Latents,
) -> npt.NDArray[np.int64]:
    """Token counts whose column means over problems match ``column_means``."""
    raw = np.exp(TOKEN_SPREAD * latents.tokens) * (2.0 - p)[:, np.newaxis]
    raw = np.where(kind == NONE, 2.0 * raw, raw)
    scaled = raw * (column_means / raw.mean(axis=0))[np.newaxis, :]
    return np.asarray(np.maximum(np.rint(scaled), 1), dtype=np.int64)


def simulate_samples(
    params: SimulationParams, seed: int = 0, *, sequential: bool = False
) -> SimulatedSamples:
    """Draw the per-sample arrays of a simulated parallel (or sequential) pool."""
    shape = (params.n_problems, params.n_samples)
    rng = np.random.default_rng([seed, list(DATASETS).index(params.dataset), int(sequential)])
    latents = Latents.draw(rng, shape)
    p = success_probability(params)
    if sequential:
        pinned, persistence, means = params.seq_correct, params.persistence, params.seq_token_means
    else:
        pinned = np.full(shape[1], -1, dtype=np.int64)
        pinned[0] = params.first_correct
        persistence, means = 0.0, params.token_means
    correct = correctness(p, params.rho, latents, pinned, persistence)
    kind = answer_kinds(correct, params.none_rate, params.concentration, latents)
    mixed = LAST_SCORE_CORRELATION * latents.score
    mixed = mixed + np.sqrt(1 - LAST_SCORE_CORRELATION**2) * latents.last
    return SimulatedSamples(
        scores=score_from_latent(params.score_mu, params.score_sigma, latents.score),
        last_scores=score_from_latent(params.score_mu, params.score_sigma, mixed),
        correct=correct,
        kind=kind,
        tokens=token_counts(p, kind, means, latents),
    )


def dataset_key(dataset: str) -> str:
    """Return the validated dataset key."""
    key = dataset.lower()
    if key not in DATASETS:
        msg = f"dataset must be one of {sorted(DATASETS)}, got {dataset!r}"
        raise ValueError(msg)
    return key
