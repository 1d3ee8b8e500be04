"""Slow, obvious per-problem loops for the stop rules beyond the paper (test oracles).

One problem at a time, Python lists and dicts, no shared code with the vectorised cores: each
function re-reads the row's first ``n`` samples from scratch at every ``n``.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from optscale_math import TruncatedNormal01, fit_map, fit_mle

Row = tuple[list[float], list[int]]
"""A problem as the rules see it: usable scores (NaN when empty or unscored) and answer ids."""


def row_of(view, p: int) -> Row:
    """Row ``p`` of ``view`` with NaN for empty or non-finite scores."""
    scores = [
        math.nan if (e or not math.isfinite(s)) else float(s)
        for s, e in zip(view.scores[p], view.empty[p], strict=True)
    ]
    return scores, [int(a) for a in view.answer_ids[p]]


def best_so_far(scores: list[float], n: int) -> tuple[float, int]:
    """Best usable score among the first ``n`` and its first index (``-inf, -1`` if none)."""
    best, pick = -math.inf, -1
    for i in range(n):
        if not math.isnan(scores[i]) and scores[i] > best:
            best, pick = scores[i], i
    return best, pick


def threshold(row: Row, tau: float, min_n: int, max_n: int) -> tuple[int, int]:
    """(n_used, pick) of the best-score threshold."""
    scores, _ = row
    for n in range(1, max_n + 1):
        best, pick = best_so_far(scores, n)
        if n >= min_n and best >= tau:
            return n, pick
    return max_n, best_so_far(scores, max_n)[1]


def first_index(ids: list[int], answer: int) -> int:
    """Index of the first sample with ``answer``."""
    return ids.index(answer)


def weighted_leader(row: Row, n: int, keep) -> tuple[int, float, float, dict[int, list[float]]]:
    """Leader of the score-weighted vote over the first ``n`` samples that ``keep`` admits.

    Returns (leader's first index or -1, leader weight, total weight, weights per answer).
    """
    scores, ids = row
    votes: dict[int, list[float]] = {}
    for i in range(n):
        if ids[i] != -1 and not math.isnan(scores[i]) and keep(scores[i]):
            votes.setdefault(ids[i], []).append(max(scores[i], 0.0))
    if not votes:
        return -1, 0.0, 0.0, votes
    ranked = sorted(votes, key=lambda a: (-sum(votes[a]), first_index(ids, a)))
    lead = ranked[0]
    return first_index(ids, lead), sum(votes[lead]), sum(sum(v) for v in votes.values()), votes


def deepconf(row: Row, warmup: int, eta: float, tau: float, max_n: int) -> tuple[int, int]:
    """(n_used, pick) of online DeepConf (``tau = inf``: offline, ``warmup = max_n``)."""
    scores, _ = row
    warm = min(warmup, max_n)
    usable = [s for s in scores[:warm] if not math.isnan(s)]
    level = float(np.percentile(usable, 100.0 - eta)) if usable else -math.inf
    pick = -1
    for n in range(warm, max_n + 1):
        pick, lead, total, _ = weighted_leader(row, n, lambda s: s >= level)
        if total > 0 and lead >= tau * total:
            return n, pick
    return max_n, pick


def _overtake(d: float, mean: float, second: float, m: int, conc: float) -> float:
    var = max(second - mean * mean, 0.0)
    drift = d + m * mean
    if m == 0:
        return 0.0
    if var == 0:
        return 1.0 if drift <= 0 else 0.0
    sd = math.sqrt(m * var * (conc + m) / (conc + 1.0))
    return NormalDist().cdf(-drift / sd)


def hybrid(row: Row, min_n: int, alpha: float, delta: float, max_n: int) -> tuple[int, int]:
    """(n_used, pick) of the agreement hybrid, the flip bound summed rival by rival."""
    pick = -1
    for n in range(1, max_n + 1):
        pick, lead_w, _, votes = weighted_leader(row, n, lambda s: True)
        if n < min_n or pick == -1:
            continue
        m, conc = max_n - n, n + alpha
        lead = row[1][pick]
        q_l = sum(w * w for w in votes[lead])
        flip = 0.0
        for answer, ws in votes.items():
            if answer != lead:
                d = lead_w - sum(ws)
                flip += _overtake(d, d / conc, (q_l + sum(w * w for w in ws)) / conc, m, conc)
        if alpha > 0:
            all_w = [w for ws in votes.values() for w in ws]
            new_w = alpha * sum(all_w) / len(all_w)
            new_q = alpha * sum(w * w for w in all_w) / len(all_w)
            flip += _overtake(lead_w, (lead_w - new_w) / conc, (q_l + new_q) / conc, m, conc)
        if min(flip, 1.0) <= delta:
            return n, pick
    return max_n, pick


def fit_row(
    scores: list[float], fit: str, prior: tuple[float, float], width: int
) -> tuple[float, float]:
    """Fit one problem's usable scores (clipped to [0, 1], NaN-padded to ``width``)."""
    usable = [min(max(s, 0.0), 1.0) for s in scores if not math.isnan(s)]
    x = np.full((1, width), np.nan)
    x[0, : len(usable)] = usable
    if fit == "map" and all(math.isfinite(v) for v in prior):
        law = fit_map(x, prior[0], prior[1])
    else:
        law = fit_mle(x)
    return float(law.mu[0]), float(law.sigma[0])


def sequential(
    row: Row,
    peek: int,
    wave: int,
    epsilon: float,
    delta: float,
    fit: str,
    max_n: int,
    prior: tuple[float, float] = (math.nan, math.nan),
) -> tuple[int, int]:
    """(n_used, pick) of sequential OptScale: refit on schedule, test at every sample."""
    scores, _ = row
    law = None
    for n in range(1, max_n):
        best, pick = best_so_far(scores, n)
        if n < peek:
            continue
        if (n - peek) % wave == 0 and not math.isinf(best):
            law = fit_row(scores[:n], fit, prior, max_n)
        if law is None:
            continue
        log_f = float(TruncatedNormal01(*law).logcdf(best + epsilon))
        if -math.expm1((max_n - n) * log_f) < delta:
            return n, pick
    return max_n, best_so_far(scores, max_n)[1]


def batch(view, budget: float, peek: int, target: float, max_n: int) -> list[int]:
    """Samples per problem of batch budget allocation: one greedy step at a time."""
    problems = view.scores.shape[0]
    peek = min(peek, max_n)
    left = budget - float(np.asarray(view.tokens)[:, :peek].sum())
    rows = [row_of(view, p)[0] for p in range(problems)]
    laws, costs = {}, {}
    for p, scores in enumerate(rows):
        best, pick = best_so_far(scores, peek)
        if pick >= 0 and best < target:
            laws[p] = TruncatedNormal01(*fit_row(scores[:peek], "mle", (0, 0), peek))
            costs[p] = max(float(np.mean(view.tokens[p, :peek])), 1.0)
    extra = dict.fromkeys(laws, 0)
    while left > 0 and peek < max_n:
        best_gain, chosen = -math.inf, None
        for p, law in laws.items():
            if extra[p] >= max_n - peek or costs[p] > left:
                continue
            log_f, log_sf = float(law.logcdf(target)), float(law.logsf(target))
            # The first sample's gain is 1 - F even where F = 0 (log F = -inf).
            gain = (extra[p] * log_f if extra[p] else 0.0) + log_sf - math.log(costs[p])
            if math.isfinite(gain) and gain > best_gain:
                best_gain, chosen = gain, p
        if chosen is None:
            break
        extra[chosen] += 1
        left -= costs[chosen]
    return [peek + extra.get(p, 0) for p in range(problems)]
