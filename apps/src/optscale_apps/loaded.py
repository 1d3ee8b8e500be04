"""Pools read, graded and turned into views, and handed to the evaluation engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from optscale_apps.inputs import PoolInputs, Priors
from optscale_apps.records import CurvePoint

if TYPE_CHECKING:
    from optscale_pools import EvalPool


@dataclass(frozen=True)
class LoadedPools:
    """A run's graded pools and the views its policies see.

    Attributes
    ----------
    view, grades
        The parallel pool's view (in the run's mode, with the OptScale^t priors) and grades.
    seq_view, seq_grades
        The same for the sequential pool, or None without one (MR-Thinking is then left out).
    simulated
        True when the parallel pool is simulated (read from the pool itself).
    problems
        The problem texts, in pool order (paper-mode DSC ranks equal difficulties by text, as
        upstream does; a view carries no text).
    """

    view: Any
    grades: Any
    seq_view: Any | None
    seq_grades: Any | None
    simulated: bool
    problems: tuple[str, ...] = ()

    @property
    def n_problems(self) -> int:
        """Problems in the pool."""
        return int(self.view.n_problems)

    def eval_pool(self, name: str, *, sequential: bool = False) -> EvalPool:
        """Return the parallel (or sequential) pool as the engine takes it, named ``name``.

        Raises
        ------
        ValueError
            If ``sequential`` and this run has no sequential pool.
        """
        from optscale_pools import EvalPool

        view, grades = (self.seq_view, self.seq_grades) if sequential else (self.view, self.grades)
        if view is None or grades is None:
            raise ValueError("this run has no sequential pool")
        return EvalPool(
            name=name,
            view=view,
            correct=np.asarray(grades.correct, dtype=np.bool_),
            correct_swapped=np.asarray(grades.correct_swapped, dtype=np.bool_),
            simulated=self.simulated,
        )


def _grade_and_view(
    pool: Any, mode: str, priors: Priors | None, cache_dir: Path
) -> tuple[Any, Any]:
    from optscale_pools import grade_pool, make_view

    grades = grade_pool(pool, cache=cache_dir / "grades")
    prior_mu = None if priors is None else priors[:, 0]
    prior_sigma = None if priors is None else priors[:, 1]
    view_mode: Literal["paper", "fair"] = "paper" if mode == "paper" else "fair"
    view = make_view(pool, grades, mode=view_mode, prior_mu=prior_mu, prior_sigma=prior_sigma)
    return grades, view


def pool_line(inputs: PoolInputs, simulated: bool) -> str:
    """Return the first output line: which pool this run uses."""
    if not simulated:
        return f"REAL pool at {inputs.parallel}"
    if inputs.simulated:
        return (
            f"SIMULATED pool at {inputs.parallel} (no real pool at {inputs.looked_for}; "
            "see docs/reproduce.md)"
        )
    return f"SIMULATED pool at {inputs.parallel} (the file says it is simulated)"


def load_pools(
    inputs: PoolInputs,
    mode: str,
    priors_for: Callable[[list[str]], Priors | None],
    cache_dir: Path,
) -> LoadedPools:
    """Read the pools, print the first output line, then grade (cached) and view them.

    Reading checks every pool item against its prompt. ``priors_for(problems)`` gives the
    OptScale^t priors of the problem texts. Grades are cached under ``cache_dir/grades``. The
    first line says REAL or SIMULATED from the pool itself, so a simulated file passed with
    ``--pool`` is still called SIMULATED.
    """
    from optscale_pools import read_prompts, read_upstream_pool

    prompts = read_prompts(inputs.prompts)
    pool = read_upstream_pool(
        inputs.parallel, prompts=prompts, keep_completions=False, sequential=False
    )
    simulated = bool(inputs.simulated or pool.simulated)
    print(pool_line(inputs, simulated), flush=True)
    if inputs.sequential is None:
        print("no sequential pool: MR-Thinking is left out", flush=True)
    grades, view = _grade_and_view(pool, mode, priors_for(list(pool.problems)), cache_dir)
    seq_view = seq_grades = None
    if inputs.sequential is not None:
        seq_pool = read_upstream_pool(
            inputs.sequential, prompts=prompts, keep_completions=False, sequential=True
        )
        seq_grades, seq_view = _grade_and_view(seq_pool, mode, None, cache_dir)
    return LoadedPools(view, grades, seq_view, seq_grades, simulated, tuple(pool.problems))


def oracle_curve(
    loaded: LoadedPools, *, orders: int | None = None, seed: int = 0
) -> list[CurvePoint]:
    """Return the oracle bound on the parallel pool (``verify(gold, pred)``), N = 1..K."""
    from optscale_pools import oracle_bound

    bound = oracle_bound(
        np.asarray(loaded.grades.correct), np.asarray(loaded.view.tokens), orders=orders, seed=seed
    )
    return [
        CurvePoint("oracle", "", int(n), float(acc), float(tokens))
        for n, acc, tokens in zip(bound.n, bound.accuracy, bound.mean_tokens, strict=True)
    ]
