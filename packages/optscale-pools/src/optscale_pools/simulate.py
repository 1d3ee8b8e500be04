r"""Write SIMULATED pools in the upstream format (model: `optscale_pools.simulation_model`).

Completions are synthetic text labelled SIMULATED, ending in ``\boxed{answer}`` (the gold, or a
distractor different from it) or cut without a box; every item carries ``"simulated": true``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from optscale_pools.fetch import data_file
from optscale_pools.pool import Pool
from optscale_pools.prompts import read_prompts
from optscale_pools.simulation_model import DATASETS as DATASETS  # re-exported for the CLI
from optscale_pools.simulation_model import (
    N_DISTRACTORS,
    NONE,
    dataset_key,
    load_params,
    simulate_samples,
)
from optscale_pools.upstream import write_upstream_pool


def gold_answer(answer: str) -> str:
    """Return the final answer of a gold field (GSM8K's worked solution ends in ``#### 18``)."""
    match = re.search(r"####\s*(.+?)\s*$", answer)
    return match.group(1).replace(",", "") if match else answer.strip()


def distractors(gold: str) -> list[str]:
    """``N_DISTRACTORS`` answers different from ``gold`` (shifted integers when gold is one)."""
    try:
        value = int(gold)
    except ValueError:
        return [f"{gold}+{d}" for d in range(1, N_DISTRACTORS + 1)]
    offsets = [1, -1, 2, 10, -2, 3, 100, 5]
    return [str(value + d) for d in offsets[:N_DISTRACTORS]]


def completion_text(answer: str | None, sample: int) -> str:
    """Synthetic completion: labelled SIMULATED, ending in a box, or cut without one."""
    head = f"SIMULATED completion {sample} (no model was run).\n\nStep 1: set up.\n\nStep 2: solve."
    if answer is None:
        return head + "\n\nStep 3: [cut at the 10000-token limit]"
    return head + f"\n\nThe final answer is $\\boxed{{{answer}}}$."


def simulate_pool(
    dataset: str,
    *,
    seed: int = 0,
    sequential: bool = False,
    prompts: Path | None = None,
    params_dir: Path | None = None,
) -> Pool:
    """Build a SIMULATED pool in memory (``pool.simulated`` is True).

    Parameters are as for [`simulate_dataset`][optscale_pools.simulate_dataset]; ``sequential``
    selects the MR-Thinking pool.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        msg = f"seed must be an integer >= 0, got {seed!r}"
        raise ValueError(msg)
    key = dataset_key(dataset)
    params = load_params(key, params_dir)
    source = data_file(DATASETS[key][1]) if prompts is None else prompts
    problems = read_prompts(source)
    if len(problems.problems) != params.n_problems:
        msg = (
            f"{source}: {len(problems.problems)} prompts, but the simulation parameters of "
            f"{key} cover {params.n_problems} problems"
        )
        raise ValueError(msg)
    samples = simulate_samples(params, seed, sequential=sequential)
    preds: list[list[str | None]] = []
    for index, gold in enumerate(problems.golds):
        options = [gold_answer(gold), *distractors(gold_answer(gold))]
        preds.append([None if k == NONE else options[k] for k in samples.kind[index].tolist()])
    completions = [[completion_text(a, j) for j, a in enumerate(row)] for row in preds]
    return Pool(
        problems=list(problems.problems),
        golds=list(problems.golds),
        ids=list(range(1, params.n_problems + 1)),
        scores=samples.scores,
        last_scores=samples.last_scores,
        tokens=samples.tokens,
        preds=preds,
        empty=np.zeros(samples.scores.shape, dtype=bool),
        completions=completions,
        outputs=[""] * params.n_problems,
        final_preds=[""] * params.n_problems,
        simulated=True,
        sequential=sequential,
    )


def simulate_dataset(
    dataset: str,
    *,
    seed: int = 0,
    out_dir: Path,
    prompts: Path | None = None,
    params_dir: Path | None = None,
) -> tuple[Path, Path]:
    r"""Write a SIMULATED parallel pool and a sequential pool in the upstream format.

    Parameters
    ----------
    dataset
        One of ``aime24``, ``aime25``, ``amc23``, ``math500``, ``gsm8k``.
    seed
        Seed of the draws; the same seed gives byte-identical files.
    out_dir
        Folder receiving ``simulated_par_<dataset>_<K>.json`` and
        ``simulated_seq_<dataset>_<K>.json`` (created if needed).
    prompts
        The dataset's upstream prompts file (problem texts and gold answers, in pool order);
        default the verified upstream file from [`data_file`][optscale_pools.data_file].
    params_dir
        Folder of the fitted parameter files; default the repository's ``data/simulation``.

    Returns
    -------
    tuple of Path
        Paths of the parallel and sequential pool files.

    Notes
    -----
    Items keep the upstream shape and add ``"simulated": true``. Completions are synthetic text
    ending in ``\boxed{answer}``, or cut without a box; ``output`` and ``score["pred"]`` are empty
    strings (nothing reads them).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for label, sequential in (("par", False), ("seq", True)):
        pool = simulate_pool(
            dataset, seed=seed, sequential=sequential, prompts=prompts, params_dir=params_dir
        )
        name = f"simulated_{label}_{dataset_key(dataset)}_{pool.scores.shape[1]}.json"
        paths.append(write_upstream_pool(pool, out_dir / name))
    return paths[0], paths[1]
