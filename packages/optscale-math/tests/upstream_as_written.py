"""Upstream's fit exactly as its notebooks write it (``scipy.stats.norm`` in the objective).

Paper mode evaluates the same objective through ``scipy.special.ndtr`` and scipy's own logpdf
expression (same bits, less overhead). This slower original is the oracle of that claim in the
tests and the reference loop of the fit benchmark.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import optimize
from scipy.stats import norm


def nll(params: np.ndarray, data: np.ndarray) -> float:
    """Truncated-normal NLL with ``norm.cdf`` and ``norm.logpdf``; inf where invalid."""
    mu, sigma = params
    if sigma <= 0:
        return float(np.inf)
    z = norm.cdf((1 - mu) / sigma) - norm.cdf((0 - mu) / sigma)
    if z <= 0:
        return float(np.inf)
    log_p = np.sum(norm.logpdf((data - mu) / sigma) - np.log(sigma)) - len(data) * np.log(z)
    return float(-log_p)


def log_prior(params: np.ndarray, prior_mu: float, prior_sigma: float) -> float:
    """Gaussian log priors N(prior, 0.1) on mu and sigma, through ``norm.logpdf``."""
    return float(
        norm.logpdf(params[0], loc=prior_mu, scale=0.1)
        + norm.logpdf(params[1], loc=prior_sigma, scale=0.1)
    )


def neg_log_posterior(
    params: np.ndarray, data: np.ndarray, prior_mu: float, prior_sigma: float
) -> float:
    """The MAP objective: NLL minus the log priors (inf stays inf)."""
    value = nll(params, data)
    return value if not np.isfinite(value) else value - log_prior(params, prior_mu, prior_sigma)


def fit(
    scores: np.ndarray, prior_mu: np.ndarray | None = None, prior_sigma: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One L-BFGS-B per row, from upstream's start points, sigma >= 1e-6."""
    out = np.empty((2, scores.shape[0]))
    for i, data in enumerate(scores):
        if prior_mu is None or prior_sigma is None:
            start = np.array([np.mean(data), np.std(data)])
            args: tuple[Any, ...] = (data,)
            objective: Callable[..., float] = nll
        else:
            start = np.array([prior_mu[i], prior_sigma[i]])
            args = (data, float(prior_mu[i]), float(prior_sigma[i]))
            objective = neg_log_posterior
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            result = optimize.minimize(
                objective, start, args=args, bounds=[(None, None), (1e-6, None)], method="L-BFGS-B"
            )
        out[:, i] = result.x
    return out[0], out[1]
