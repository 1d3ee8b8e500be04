r"""Paper mode equals upstream's rules in full precision on a pool with nested boxes and ties.

The expected numbers are computed here from the raw pool file with upstream's rules, written
from their description and sharing nothing with the package code: its extraction (the last
top-level ``\boxed{}`` match, so ``\boxed{\boxed{7}}`` answers ``\boxed{7}``), math-verify
grading, raw-string votes (the per-problem loops of ``baselines_oracles``), DSC's sort of
``(difficulty, problem text, ...)`` tuples, and OptScale's per-problem L-BFGS-B fits (the
notebooks' objective, ``upstream_as_written``) with its 1000-point grid rule, under priors that
hold a negative sigma as the paper's do. Every accuracy, mean token count and per-problem N of
every budget and grid cell must be equal as floats, not close.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import upstream_as_written
from baselines_oracles import View, asc, dsc_paper, esc, majority
from optscale_apps.inputs import PoolInputs
from optscale_apps.loaded import LoadedPools, load_pools
from optscale_apps.paper import DSC_DEFAULT, baseline_curves, optscale_cells
from optscale_apps.published import Published
from optscale_apps.records import CurvePoint, OptScaleCell
from scipy.stats import norm

K = 16
GOLDS = ["7", "12", "3", "5", "9", "40", "2", "8", "6"]
TEXTS = ["Zeta?", "Alpha?", "Mid?", "Beta?", "Omega?", "Delta?", "Kappa?", "Gamma?", "Eta?"]
"""Problem texts whose sorted order differs from the pool order; 9 problems, so that dividing
by their number rounds (mean tokens must be upstream's total / P to the last bit)."""
SCORE_ROWS = [
    [0.75, 0.5, 1.0, 0.25],
    [0.5, 0.75, 0.25, 1.0],  # the same multiset: the same mean, exactly (quarters add exactly)
    [0.875, 0.625, 0.75, 0.75],
    [0.0, 0.25, 0.5, 0.25],
]


def completion(answer: str, style: int) -> str:
    """A completion ending in ``answer``: plain box, nested box, or one more box inside text."""
    if style == 0:
        return f"Work.\n\nSo $\\boxed{{{answer}}}$."
    if style == 1:
        return f"Work.\n\nFinal: $\\boxed{{\\boxed{{{answer}}}}}$"
    return f"Try \\boxed{{1}}.\n\nNo: \\boxed{{ {answer} }} and \\boxed{{"


def write_nested_pool(folder: Path) -> tuple[Path, Path]:
    """Write the pool (upstream format) and its prompts; return (pool, prompts)."""
    rng = np.random.default_rng(14)
    prompts = [{"problem": t, "answer": g} for t, g in zip(TEXTS, GOLDS, strict=True)]
    items = []
    for p, (text, gold) in enumerate(zip(TEXTS, GOLDS, strict=True)):
        unanimous = p in (1, 4, 6)
        texts = []
        for j in range(K):
            kind = 0 if unanimous else int(rng.integers(4))
            answer = gold if kind < 2 else str(int(gold) + kind)
            if kind == 3 and j % 5 == 4:
                texts.append("" if j % 2 else "Cut off at \\boxed{")  # empty, or no closed box
            else:
                texts.append(completion(answer, 1 if unanimous else int(rng.integers(3))))
        scores = [SCORE_ROWS[p % 4][j % 4] for j in range(K)]
        items.append(
            {
                "id": p + 1,
                "output": texts[0],
                "n": K,
                "score": {
                    "problem": [text],
                    "completions": [texts],
                    "scores": [scores],
                    "last_scores": [scores],
                    "pred": [""],
                    "completion_tokens": [rng.integers(50, 900, K).tolist()],
                },
            }
        )
    pool, prompts_path = folder / "pool.json", folder / "prompts.json"
    pool.write_text(json.dumps(items))
    prompts_path.write_text(json.dumps(prompts))
    return pool, prompts_path


PRIORS = np.array([[0.7, 0.1], [0.9, -0.02], [0.5, 0.2]] * 3)
"""OptScale^t priors, one negative sigma among them as in the paper's own files."""


def upstream_extract(text: str) -> str | None:
    """Upstream's extraction: left-to-right balanced ``\\boxed{`` matches, the last one."""
    found, i = None, 0
    while i < len(text):
        if not text.startswith("\\boxed{", i):
            i += 1
            continue
        depth, j = 1, i + len("\\boxed{")
        while j < len(text) and depth:
            depth += (text[j] == "{") - (text[j] == "}")
            j += 1
        if depth:
            i += 1  # no match here: go on from the next character
        else:
            found, i = text[i + len("\\boxed{") : j - 1], j
    return found


def upstream_verify(first: str | None, second: str | None) -> bool:
    """``verify(parse(first), parse(second))`` with both wrapped in a box; None is wrong."""
    from math_verify import parse, verify  # type: ignore[import-untyped]

    if first is None or second is None:
        return False
    boxed = [t if "\\boxed" in t else f"\\boxed{{{t}}}" for t in (first, second)]
    try:
        return bool(verify(parse(boxed[0]), parse(boxed[1])))
    except Exception:
        return False


class Upstream:
    """Upstream's scripts on the raw pool file: answers, grading, votes and token sums."""

    def __init__(self, pool: Path) -> None:
        items = json.loads(pool.read_text())
        self.texts = [item["score"]["completions"][0] for item in items]
        self.answers = [[upstream_extract(t) for t in row] for row in self.texts]
        self.scores = [item["score"]["scores"][0] for item in items]
        self.tokens = [item["score"]["completion_tokens"][0] for item in items]
        self.fits: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}

    def curve(self, method: str, n: int, decide: Callable[[int], tuple[int, Any]]) -> CurvePoint:
        """Accuracy and mean tokens of per-problem ``(samples used, answer)`` decisions."""
        correct, total = 0, 0
        for p, gold in enumerate(GOLDS):
            used, answer = decide(p)
            correct += upstream_verify(gold, answer)
            total += sum(self.tokens[p][:used])
        return CurvePoint(method, "", n, correct / len(GOLDS), total / len(GOLDS))

    def bon(self, n: int) -> CurvePoint:
        """bon.py: argmax, empty completions re-scored 0, ``verify(pred, gold)``."""
        correct, total = 0, 0
        for p, gold in enumerate(GOLDS):
            correct += upstream_verify(self.answers[p][self.best_of(p, n)], gold)
            total += sum(self.tokens[p][:n])
        return CurvePoint("BoN", "", n, correct / len(GOLDS), total / len(GOLDS))

    def optscale_n(
        self, variant: str, peek: int, max_n: int, target: float, pct: float
    ) -> list[int]:
        """The notebooks' per-problem N: L-BFGS-B fit of the peeks, 1000-point grid quantile."""
        if (variant, peek) not in self.fits:  # the fit depends on the peeked scores only
            peeks = np.asarray(self.scores)[:, :peek]
            priors = () if variant == "MLE" else (PRIORS[:, 0], PRIORS[:, 1])
            self.fits[variant, peek] = upstream_as_written.fit(peeks, *priors)
        mu, sigma = self.fits[variant, peek]
        x = np.linspace(0, 1, 1000)
        chosen = []
        for m, s in zip(mu, sigma, strict=True):
            with np.errstate(all="ignore"):
                mass = norm.cdf((1 - m) / s) - norm.cdf(-m / s)
                pdf = norm.pdf(x, m, s) / mass
                cdf = (norm.cdf((x - m) / s) - norm.cdf(-m / s)) / mass
            n_star = max_n
            for n in range(1, max_n + 1):
                with np.errstate(all="ignore"):
                    law = np.cumsum(n * pdf * cdf ** (n - 1)) * (x[1] - x[0])
                    law = law / law[-1]
                if x[min(int(np.searchsorted(law, pct)), x.size - 1)] >= target:
                    n_star = n
                    break
            chosen.append(max(n_star, peek))
        return chosen

    def best_of(self, p: int, n: int) -> int:
        """Best-of-N among the first ``n``: argmax, empty completions re-scored 0."""
        scores = list(self.scores[p][:n])
        best = scores.index(max(scores))
        while self.texts[p][best] == "":
            scores[best] = 0
            if max(scores) == 0:
                break
            best = scores.index(max(scores))
        return best

    def view(self) -> View:
        """The oracle view of ``baselines_oracles``: answer ids of the raw strings."""
        ids = [
            [-1 if a is None else sorted(set(r) - {None}).index(a) for a in r] for r in self.answers
        ]
        return View(
            np.asarray(self.scores, dtype=np.float64),
            np.asarray(self.scores, dtype=np.float64),
            np.asarray(ids, dtype=np.int64),
            np.asarray(self.tokens, dtype=np.int64),
            np.asarray([[t == "" for t in row] for row in self.texts]),
            np.full(len(GOLDS), np.nan),
            np.full(len(GOLDS), np.nan),
        )

    def dsc(self, sizes: Sequence[int]) -> list[CurvePoint]:
        """dsc.py: the default run (overhead over 5 tokens), then the sweep, one random stream."""
        rng = random.Random(42)
        view, points = self.view(), []
        for m, prefix, setting in [(sizes[-1], 5, DSC_DEFAULT), *((m, 4, "") for m in sizes)]:
            result = dsc_paper(view, m, rng, prefix, TEXTS)
            correct, total = 0, 0
            for p, gold in enumerate(GOLDS):
                used, pick_id = result.n_used[p], result.answers[p]
                answer = None if pick_id is None else sorted(set(self.answers[p]) - {None})[pick_id]
                correct += upstream_verify(gold, answer)
                total += sum(self.tokens[p][:used])
            total += result.overhead
            points.append(CurvePoint("DSC", setting, m, correct / len(GOLDS), total / len(GOLDS)))
        return points[1:] + points[:1]


@pytest.fixture(scope="module")
def loaded_and_upstream(
    tmp_path_factory: pytest.TempPathFactory, shared_cache: Path
) -> tuple[LoadedPools, Upstream]:
    folder = tmp_path_factory.mktemp("nested")
    pool, prompts = write_nested_pool(folder)
    inputs = PoolInputs(pool, pool, prompts, simulated=False, looked_for=pool)
    loaded = load_pools(inputs, "paper", lambda problems: PRIORS, shared_cache)
    return loaded, Upstream(pool)


def test_the_fixture_has_nested_boxes_and_tied_difficulties(
    loaded_and_upstream: tuple[LoadedPools, Upstream],
) -> None:
    _, upstream = loaded_and_upstream
    nested = [a for row in upstream.answers for a in row if a is not None and "\\boxed" in a]
    assert len(nested) > K
    means = [float(np.mean(row)) for row in upstream.scores]
    assert len(set(means)) < len(means)
    assert sorted(TEXTS) != TEXTS


def test_every_paper_number_equals_upstreams(
    loaded_and_upstream: tuple[LoadedPools, Upstream],
) -> None:
    loaded, upstream = loaded_and_upstream
    curves, dsc_default = baseline_curves(loaded)
    ns = range(1, K + 1)
    answers = upstream.answers
    expected = [upstream.bon(n) for n in ns]
    expected += [
        upstream.curve("SC", n, lambda p, n=n: (n, majority(answers[p][:n], False))) for n in ns
    ]
    expected += [upstream.curve("ESC", n, lambda p, n=n: esc(answers[p], 5, n, False)) for n in ns]
    expected += [
        upstream.curve("ASC", n, lambda p, n=n: asc(answers[p], 0.95, n, False)[:2]) for n in ns
    ]
    expected += upstream.dsc(list(ns))
    expected += [
        upstream.curve("MR-Thinking", n, lambda p, n=n: (n, answers[p][n - 1])) for n in ns
    ]
    got = {
        (c.method, c.n, c.setting if c.method == "DSC" else ""): c for c in [*curves, dsc_default]
    }
    for want in expected:
        point = got[(want.method, want.n, want.setting)]
        assert (point.accuracy, point.mean_tokens) == (want.accuracy, want.mean_tokens), want
    assert len(got) == len(expected)


def test_every_optscale_cell_and_its_per_problem_n_equal_upstreams(
    loaded_and_upstream: tuple[LoadedPools, Upstream],
) -> None:
    loaded, upstream = loaded_and_upstream
    published = Published(table={}, curves=[], cells=[], priors=PRIORS, dataset="AIME24")
    cells = optscale_cells(loaded, published, progress=False)
    assert {(c.variant, c.max_n) for c in cells} == {
        (v, n) for v in ("MLE", "MAP") for n in (8, 16)
    }
    for cell in cells:
        args = (cell.variant, cell.peek, cell.max_n, cell.target, cell.percentile)
        n = upstream.optscale_n(*args)
        picks = [upstream.best_of(p, n[p]) for p in range(len(GOLDS))]
        correct = sum(
            upstream_verify(g, upstream.answers[p][k])
            for p, (g, k) in enumerate(zip(GOLDS, picks, strict=True))
        )
        total = sum(sum(upstream.tokens[p][: n[p]]) for p in range(len(GOLDS)))
        want = OptScaleCell(
            cell.variant,
            cell.max_n,
            cell.peek,
            cell.target,
            cell.percentile,
            correct / len(GOLDS),
            total / len(GOLDS),
            tuple(n),
        )
        assert cell == want
