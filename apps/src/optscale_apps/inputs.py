"""Find the pools (real or simulated), load and grade them, and get the OptScale^t priors."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from optscale_pools import write_text_atomic

from optscale_apps.datasets import DatasetSpec
from optscale_apps.published import Published, default_locate

Priors = npt.NDArray[np.float64]
"""Per-problem prior ``[P, 2]``: (mu, sigma) of the score law."""


@dataclass(frozen=True)
class PoolInputs:
    """Where this run's pools and prompts are, and whether the pools are simulated.

    Attributes
    ----------
    parallel
        The parallel pool file (upstream format).
    sequential
        The sequential pool file for MR-Thinking, or None when there is none.
    prompts
        The prompts file the pools are aligned with.
    simulated
        True when the pools were simulated because no real pool was found.
    looked_for
        Where a real parallel pool was looked for.
    """

    parallel: Path
    sequential: Path | None
    prompts: Path
    simulated: bool
    looked_for: Path


def _existing(path: Path, flag: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{flag} {path}: no such file")
    return path


def resolve_pools(
    spec: DatasetSpec,
    *,
    pool: Path | None,
    seq_pool: Path | None,
    prompts: Path | None,
    pools_dir: Path,
    cache_dir: Path,
    seed: int,
) -> PoolInputs:
    """Pick the pools of this run: ``--pool``, else a real pool under ``pools_dir``, else simulate.

    A simulated pool is written under ``cache_dir/simulated/seed<seed>``; the same seed gives
    the same bytes, so its grades (cached by the pool's sha256) are reused by later runs. It is
    built on upstream's prompts, so ``--prompts`` and ``--seq-pool`` are only accepted together
    with a real parallel pool.
    """
    looked_for = pools_dir / spec.pool_file("par")
    if pool is not None:
        parallel: Path | None = _existing(pool, "--pool")
    else:
        parallel = spec.find_real_pool(pools_dir, "par")
    if parallel is not None:
        if seq_pool is not None:
            sequential: Path | None = _existing(seq_pool, "--seq-pool")
        else:
            sequential = spec.find_real_pool(pools_dir, "seq")
        prompts_path = (
            _existing(prompts, "--prompts") if prompts is not None else default_locate(spec.prompts)
        )
        return PoolInputs(parallel, sequential, prompts_path, False, looked_for)
    if seq_pool is not None or prompts is not None:
        raise ValueError(
            f"--seq-pool and --prompts need a real parallel pool (--pool, or {looked_for})"
        )
    from optscale_pools import simulate_dataset

    prompts_path = default_locate(spec.prompts)
    out_dir = cache_dir / "simulated" / f"seed{seed}"
    par, seq = simulate_dataset(spec.key, seed=seed, out_dir=out_dir, prompts=prompts_path)
    return PoolInputs(Path(par), Path(seq), prompts_path, True, looked_for)


def read_priors_file(path: Path, n_problems: int) -> Priors:
    """Read a priors file (JSON list of ``[mu, sigma]`` per problem) and check its shape.

    The rule is the one of ``--published-priors``: two finite numbers per problem, any sign.
    The paper's own priors hold sigma <= 0 (MATH500: 3 problems, GSM8K: 8), and OptScale^t
    reads the prior sigma only as the centre of its Gaussian prior on the fitted sigma, which
    stays >= 1e-6: paper mode passes it to upstream's objective as upstream does (L-BFGS-B
    starts from the prior clipped into the bound); fair mode's fit centres the prior there
    too, which pulls the fit towards the floor.
    """
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of [mu, sigma] pairs")
    for index, pair in enumerate(data):
        if not (
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(v, int | float) and np.isfinite(v) for v in pair)
        ):
            raise ValueError(f"{path}: record {index}: expected [mu, sigma] as two finite numbers")
    if len(data) != n_problems:
        raise ValueError(f"{path}: {len(data)} priors for a pool of {n_problems} problems")
    return np.asarray(data, dtype=np.float64).reshape(n_problems, 2)


def predictor_priors(spec: DatasetSpec, problems: list[str], cache_dir: Path) -> Priors:
    """Priors from optscale-predictor's shipped light checkpoint, cached per dataset.

    The backbone features are cached by the predictor under ``cache_dir/predictor``; the priors
    themselves under ``cache_dir/priors``, keyed by the problem texts, so a second run (and every
    dataset of ``reproduce-all`` after the first) does not run the backbone again.
    """
    digest = hashlib.sha256("\x00".join(problems).encode("utf-8")).hexdigest()[:16]
    path = cache_dir / "priors" / f"{spec.key}_predictor_{digest}.json"
    if path.is_file():
        return read_priors_file(path, len(problems))
    from optscale_predictor import PriorPredictor

    priors = PriorPredictor(cache=cache_dir / "predictor").predict(problems, progress=True)
    write_text_atomic(path, json.dumps(np.asarray(priors, dtype=np.float64).tolist()))
    return read_priors_file(path, len(problems))


def choose_priors(
    spec: DatasetSpec,
    problems: list[str],
    *,
    priors_file: Path | None,
    published: Published | None,
    cache_dir: Path,
) -> Priors:
    """Return the OptScale^t priors: ``--priors``, ``--published-priors`` or the predictor."""
    if priors_file is not None:
        return read_priors_file(_existing(priors_file, "--priors"), len(problems))
    if published is not None:
        if len(published.priors) != len(problems):
            raise ValueError(
                f"published priors of {spec.upstream} hold {len(published.priors)} problems, "
                f"the pool {len(problems)}"
            )
        return published.priors
    return predictor_priors(spec, problems, cache_dir)
