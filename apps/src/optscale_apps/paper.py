"""Paper mode: the paper's methods, grids and selection, evaluated by the engine of optscale-pools.

Every number comes from [`evaluate`][optscale_pools.evaluate] in pool order (``orders=None``)
with the policies' ``mode="paper"`` (upstream's rules), the paper's grids and peeks, and the
paper's choice of OptScale's setting on the test set (labelled ``test-set`` in every output).
DSC's ``max_sample_size`` sweep draws from upstream's shared random stream (the policy's
``stream="sweep"``); its default run, first on that stream, is one more evaluation at ``N = K``.
This module only builds the engine's inputs and turns its output into the table's records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from optscale_math import OptScalePolicy, Policy
from optscale_pools import CurvePoint as EngineCurve
from optscale_pools import EvalPool, Evaluation, Method, evaluate

from optscale_apps.eval_report import is_oracle
from optscale_apps.loaded import LoadedPools
from optscale_apps.published import Published
from optscale_apps.records import OPTSCALE_VARIANTS, CurvePoint, OptScaleCell
from optscale_apps.report import setting_text

Setting = Mapping[str, object]

DSC_DEFAULT = "dsc_default"
"""Setting name of upstream's default DSC run in the records (its JSON key)."""


@dataclass(frozen=True)
class PaperResult:
    """Everything paper mode computed on one pool.

    Attributes
    ----------
    curves
        BoN, SC, ESC, ASC, DSC (its sweep) and MR-Thinking at every N in 1..K.
    cells
        Every OptScale grid cell of every panel, with its per-problem N.
    selected
        OptScale's setting chosen per variant and panel by the paper's rule on the test set.
    oracle
        The oracle bound at every N.
    dsc_default
        Upstream's ``dsc_default`` run (max_sample_size = K, overhead over the first 5 token
        counts, first on the random stream).
    evaluations
        The engine's evaluations behind all of the above, in the order of ``curves.csv``.
    """

    curves: list[CurvePoint]
    cells: list[OptScaleCell]
    selected: list[CurvePoint]
    oracle: list[CurvePoint]
    dsc_default: CurvePoint
    evaluations: list[Evaluation]


def _evaluate(
    pool: EvalPool,
    methods: Sequence[Method],
    budgets: Sequence[int] | None = None,
    *,
    progress: bool = False,
    keep_per_problem: bool = False,
) -> Evaluation:
    """Run the engine in paper mode: pool order, the paper's selection on the test set."""
    return evaluate(
        pool,
        methods,
        budgets=budgets,
        orders=None,
        selection="test-set",
        progress=progress,
        keep_per_problem=keep_per_problem,
    )


def _method(
    name: str, make: Callable[..., Policy], setting: Setting | None = None, scores: bool = False
) -> Method:
    """Return a method of one setting: ``make(n, **setting)`` at budget ``n``."""
    grid = {} if setting is None else setting
    return Method(name, lambda n, s: make(n, **s), (grid,), uses_scores=scores)


def _records(evaluation: Evaluation) -> list[CurvePoint]:
    """Every method's points (no oracle), with the text of its one setting."""
    return [_record(p, p.settings[0]) for p in _methods_of(evaluation)]


def _record(point: EngineCurve, setting: str) -> CurvePoint:
    s = point.selected
    return CurvePoint(point.method, setting, point.n, s.accuracy, s.mean_tokens)


def _methods_of(evaluation: Evaluation) -> list[EngineCurve]:
    return [p for p in evaluation.curves if not is_oracle(p)]


def baseline_evaluations(
    loaded: LoadedPools, name: str, progress: bool = False
) -> tuple[Evaluation, Evaluation, Evaluation | None]:
    """BoN, SC, ESC, ASC and DSC's sweep at N = 1..K; DSC's default run; MR-Thinking.

    Returns the evaluation of the parallel pool's curves (with the oracle curves), that of
    upstream's default DSC run at N = K, and MR-Thinking's on the sequential pool (None
    without one).
    """
    from optscale_baselines import (
        AdaptiveSC,
        BestOfN,
        DifficultyAdaptiveSC,
        EarlyStoppingSC,
        MRThinking,
        SelfConsistency,
    )

    texts = loaded.problems or None
    pool = loaded.eval_pool(name)
    curves = [
        _method("BoN", lambda n: BestOfN(n, mode="paper"), scores=True),
        _method("SC", lambda n: SelfConsistency(n, mode="paper")),
        _method("ESC", lambda n, **s: EarlyStoppingSC(max_n=n, mode="paper", **s), {"window": 5}),
        _method("ASC", lambda n, **s: AdaptiveSC(max_n=n, mode="paper", **s), {"threshold": 0.95}),
        _method(
            "DSC",
            lambda n: DifficultyAdaptiveSC(n, "paper", problems=texts, stream="sweep"),
            scores=True,
        ),
    ]
    default = _method(  # upstream's default run: first on the stream, overhead over 5 counts
        "DSC",
        lambda n, **s: DifficultyAdaptiveSC(n, "paper", problems=texts, **s),
        {"overhead_prefix": 5},
        scores=True,
    )
    seq = None
    if loaded.seq_view is not None:
        mr = _method("MR-Thinking", lambda n: MRThinking(n, mode="paper"))
        seq = _evaluate(loaded.eval_pool(name, sequential=True), [mr])
    return (
        _evaluate(pool, curves, progress=progress),
        _evaluate(pool, [default], budgets=[pool.max_k]),
        seq,
    )


def baseline_curves(loaded: LoadedPools, name: str = "") -> tuple[list[CurvePoint], CurvePoint]:
    """BoN, SC, ESC, ASC, DSC (upstream's ``max_sample_size`` sweep) and MR-Thinking, N = 1..K.

    Also returns upstream's default DSC run, which comes first on DSC's random stream.
    """
    main, default, seq = baseline_evaluations(loaded, name)
    return _baseline_records(main, default, seq)


def _baseline_records(
    main: Evaluation, default: Evaluation, seq: Evaluation | None
) -> tuple[list[CurvePoint], CurvePoint]:
    curves = _records(main) + ([] if seq is None else _records(seq))
    return curves, _record(_methods_of(default)[0], DSC_DEFAULT)


def optscale_evaluation(
    loaded: LoadedPools, published: Published, name: str, progress: bool = False
) -> Evaluation:
    """Both OptScale variants on every panel up to K over the paper's grid, chosen on the test set.

    The panels (``max_N`` with its peek) and the target-score and percentile grids are read from
    upstream's notebook output, so each dataset gets the grid upstream actually used. Every
    cell's per-problem N is kept (``optscale_cells.csv``).
    """
    pool = loaded.eval_pool(name)
    peeks = dict(published.panels)
    grid = [
        {"target": t, "percentile": p} for t in published.targets for p in published.percentiles
    ]

    def method(label: str, variant: str) -> Method:
        def make(n: int, setting: Setting) -> Policy:
            return OptScalePolicy(
                variant="mle" if variant == "MLE" else "map",
                peek=peeks[n],
                max_n=n,
                target=float(setting["target"]),  # type: ignore[arg-type]
                percentile=float(setting["percentile"]),  # type: ignore[arg-type]
                mode="paper",
            )

        return Method(label, make, grid)

    methods = [method(label, variant) for label, variant in OPTSCALE_VARIANTS.items()]
    budgets = [max_n for max_n, _ in published.panels if max_n <= pool.max_k]
    return _evaluate(pool, methods, budgets, progress=progress, keep_per_problem=True)


def _cells(evaluation: Evaluation, published: Published) -> list[OptScaleCell]:
    """Every replayed OptScale setting as a grid cell of its panel."""
    peeks = dict(published.panels)
    cells = []
    for s in evaluation.settings:
        target, percentile = _grid_of(published)[s.index]
        n_used = () if s.per_problem_samples is None else s.per_problem_samples
        cells.append(
            OptScaleCell(
                OPTSCALE_VARIANTS[s.method],
                s.n,
                peeks[s.n],
                target,
                percentile,
                s.accuracy,
                s.mean_tokens,
                tuple(int(n) for n in n_used),
            )
        )
    return cells


def _grid_of(published: Published) -> list[tuple[float, float]]:
    return [(t, p) for t in published.targets for p in published.percentiles]


def _selected(evaluation: Evaluation, published: Published) -> list[CurvePoint]:
    """OptScale's test-set choice per variant and panel, with the paper's setting text."""
    peeks, grid = dict(published.panels), _grid_of(published)
    points = []
    for point in _methods_of(evaluation):
        target, percentile = grid[point.selected.chosen[0]]
        points.append(_record(point, setting_text(peeks[point.n], target, percentile)))
    return points


def optscale_cells(
    loaded: LoadedPools, published: Published, progress: bool = True, name: str = ""
) -> list[OptScaleCell]:
    """Every OptScale grid cell of every panel upstream evaluated, for both variants.

    Panels whose max_N exceeds the pool's K are left out.
    """
    return _cells(optscale_evaluation(loaded, published, name, progress), published)


def run_paper(loaded: LoadedPools, published: Published, name: str) -> PaperResult:
    """Paper mode on one loaded pool: curves, OptScale grid and its choice, the oracle bound."""
    main, default, seq = baseline_evaluations(loaded, name, progress=True)
    curves, dsc_default = _baseline_records(main, default, seq)
    optscale = optscale_evaluation(loaded, published, name, progress=True)
    oracle = [_record(p, "") for p in main.curves if p.method == "oracle"]  # the bound
    return PaperResult(
        curves=curves,
        cells=_cells(optscale, published),
        selected=_selected(optscale, published),
        oracle=oracle,
        dsc_default=dsc_default,
        evaluations=[main, *([] if seq is None else [seq]), optscale, default],
    )
