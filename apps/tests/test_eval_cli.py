"""``optscale-eval`` end to end on small tidy pools, and every kind of bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from optscale_apps.eval_cli import main, parse_budgets
from optscale_apps.eval_output import FILES

N_PROBLEMS, K = 12, 6


def tidy_rows(seed: int = 0, *, k: int = K, scores: bool = True) -> list[dict[str, object]]:
    """A tidy pool: correct answers score higher; a few samples have no answer."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(N_PROBLEMS):
        rate = (p + 1) / (N_PROBLEMS + 1)
        for j in range(k):
            right = bool(rng.random() < rate)
            answer = "" if rng.random() < 0.1 else ("42" if right else str(rng.integers(3)))
            row: dict[str, object] = {
                "problem_id": f"q{p}",
                "sample_index": j,
                "answer": answer,
                "tokens": int(rng.integers(50, 400)),
                "correct": str(right and answer == "42").lower(),
            }
            if scores:
                row["score"] = float(np.clip((0.8 if right else 0.5) + 0.1 * rng.normal(), 0, 1))
            rows.append(row)
    return rows


def write_tidy(path: Path, rows: list[dict[str, object]]) -> Path:
    columns = list(dict.fromkeys(key for row in rows for key in row)) or list(tidy_rows()[0])
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(tmp_path: Path, pool: Path, *extra: str) -> int:
    return main([str(pool), "--out", str(tmp_path / "out"), "--orders", "3", "--no-progress",
                 "--cache-dir", str(tmp_path / "cache"), *extra])  # fmt: skip


def read_curves(out: Path) -> list[dict[str, str]]:
    with (out / "curves.csv").open() as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("eval")
    pool = write_tidy(tmp / "my-pool.csv", tidy_rows())
    assert run(tmp, pool, "--methods", "BoN", "SC", "ESC", "OptScale^0") == 0
    return tmp / "out"


def test_every_file_is_written_with_the_pool_name_and_kind(evaluated: Path) -> None:
    assert sorted(p.name for p in evaluated.iterdir()) == sorted(FILES)
    curves = read_curves(evaluated)
    assert {row["pool"] for row in curves} == {"my-pool"}
    assert {row["pool_kind"] for row in curves} == {"REAL"}
    assert (evaluated / "summary.md").read_text().startswith("# my-pool: REAL pool")


def test_every_method_and_oracle_has_every_budget(evaluated: Path) -> None:
    curves = read_curves(evaluated)
    budgets: dict[str, set[int]] = {}
    for row in curves:
        budgets.setdefault(row["method"], set()).add(int(row["n"]))
    bounds = {"oracle", "oracle-stop BoN", "oracle-stop SC", "hindsight BoN"}
    expected = {"BoN", "SC", "ESC", "OptScale^0", *bounds}
    assert set(budgets) == expected
    assert all(ns == set(range(1, K + 1)) for ns in budgets.values())


def test_bon_at_k_is_the_best_score_in_percent(evaluated: Path) -> None:
    # every order holds the same K samples, so BoN@K picks the best-scored sample of each row
    rows = tidy_rows()
    best: dict[str, tuple[float, bool]] = {}
    for row in rows:
        usable = row["answer"] != ""  # a sample without an answer still has a score
        key = str(row["problem_id"])
        score = float(row["score"])  # type: ignore[arg-type]
        if key not in best or score > best[key][0]:
            best[key] = (score, row["correct"] == "true" and usable)
    expected = 100 * np.mean([hit for _, hit in best.values()])
    (bon,) = [r for r in read_curves(evaluated) if r["method"] == "BoN" and r["n"] == str(K)]
    assert float(bon["accuracy_pct"]) == pytest.approx(expected)
    assert float(bon["accuracy_low_pct"]) <= expected <= float(bon["accuracy_high_pct"])


def test_budget_one_pays_one_sample_and_stop_rules_stay_within_the_budget(evaluated: Path) -> None:
    for row in read_curves(evaluated):
        assert float(row["mean_samples"]) <= int(row["n"]) + 1e-12
        if row["n"] == "1":
            assert float(row["mean_samples"]) == 1.0


def test_budget_ranges_parse() -> None:
    assert parse_budgets(["1-3", "8,16"]) == [1, 2, 3, 8, 16]
    assert parse_budgets(None) is None


def test_scores_absent_skips_score_methods_with_a_notice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = write_tidy(tmp_path / "votes.csv", tidy_rows(scores=False))
    assert run(tmp_path, pool, "--methods", "BoN", "SC", "--budgets", "1-3") == 0
    assert "BoN: skipped, the pool has no scores" in capsys.readouterr().err
    assert {r["method"] for r in read_curves(tmp_path / "out")} == {
        "SC",
        "oracle",
        "oracle-stop SC",
    }


def test_scores_outside_the_unit_interval_skip_optscale_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{**r, "score": 10 * float(r["score"]) - 3} for r in tidy_rows()]  # type: ignore[arg-type]
    pool = write_tidy(tmp_path / "logits.csv", rows)
    assert run(tmp_path, pool, "--methods", "BoN", "OptScale^0", "--budgets", "1-2") == 0
    assert "OptScale^0: skipped, its score model needs scores in [0, 1]" in capsys.readouterr().err
    assert "BoN" in {r["method"] for r in read_curves(tmp_path / "out")}


def test_ragged_pool_evaluates_each_problem_at_its_own_k(tmp_path: Path) -> None:
    rows = [r for r in tidy_rows() if not (r["problem_id"] == "q0" and int(r["sample_index"]) >= 2)]
    pool = write_tidy(tmp_path / "ragged.csv", rows)
    assert run(tmp_path, pool, "--methods", "SC") == 0
    with (tmp_path / "out" / "per_problem.csv").open() as handle:
        q0 = [r for r in csv.DictReader(handle) if r["problem_id"] == "q0" and r["method"] == "SC"]
    assert {float(r["samples"]) for r in q0 if int(r["n"]) >= 2} == {2.0}


def assert_refused(
    capsys: pytest.CaptureFixture[str], status: int, expected: int, *fragments: str
) -> None:
    err = capsys.readouterr().err.strip()
    assert status == expected, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("optscale-eval: error: ")
    for fragment in fragments:
        assert fragment in err


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--methods", "BoN", "Magic"], ["unknown method 'Magic'"]),
        (["--budgets", "0"], ["--budgets", "outside 1..6"]),
        (["--budgets", f"{K + 1}"], ["--budgets", "outside 1..6"]),
        (["--budgets", "x"], ["--budgets", "'x'"]),
        (["--orders", "0"], ["--orders"]),
        (["--selection", "best"], ["--selection"]),
    ],
)
def test_usage_errors_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], fragments: list[str]
) -> None:
    pool = write_tidy(tmp_path / "pool.csv", tidy_rows())
    try:
        status = run(tmp_path, pool, *extra)
    except SystemExit as exit_:  # argparse's own checks
        status = int(exit_.code or 0)
    assert_refused(capsys, status, 2, *fragments)
    assert not (tmp_path / "out").exists()


def edited(field: str, value: object) -> list[dict[str, object]]:
    rows = tidy_rows()
    rows[7][field] = value
    return rows


@pytest.mark.parametrize(
    ("rows", "fragments"),
    [
        (tidy_rows(k=1), ["K = 1"]),
        ([{**r, "score": 0.5} for r in tidy_rows()], ["field 'score'", "all", "equal"]),
        (edited("score", "nan"), ["record 7", "field 'score'", "finite"]),
        (edited("tokens", "-3"), ["record 7", "field 'tokens'"]),
        (edited("correct", "maybe"), ["record 7", "field 'correct'"]),
        (edited("sample_index", 0), ["field 'sample_index'", "repeated"]),
        ([], ["empty pool"]),
    ],
    ids=["k1", "equal-scores", "nan-score", "tokens", "correct", "repeated-index", "empty"],
)
def test_bad_data_exits_1_naming_file_record_field(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    rows: list[dict[str, object]],
    fragments: list[str],
) -> None:
    pool = write_tidy(tmp_path / "bad.csv", rows)
    assert_refused(capsys, run(tmp_path, pool), 1, str(pool), *fragments)
    assert not (tmp_path / "out").exists()


def test_mismatched_prompts_say_so_and_suggest_prompts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], hand_pool: tuple[Path, ...]
) -> None:
    parallel = hand_pool[0]
    n_problems = len(json.loads(hand_pool[2].read_text()))
    other = tmp_path / "other_prompts.json"
    other.write_text(
        json.dumps([{"problem": f"Other {i}?", "answer": "1"} for i in range(n_problems)])
    )
    status = run(tmp_path, parallel, "--prompts", str(other))
    assert_refused(capsys, status, 1, "--prompts")
    assert_refused(capsys, run(tmp_path, parallel), 1, "--prompts")


def test_a_failed_run_leaves_the_previous_output_intact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_tidy(tmp_path / "good.csv", tidy_rows())
    assert run(tmp_path, good, "--methods", "SC", "--budgets", "1-2") == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    bad = write_tidy(tmp_path / "bad.csv", edited("score", "nan"))
    assert run(tmp_path, bad, "--methods", "SC") == 1
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    capsys.readouterr()


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_summary_points_follow_from_the_curves(evaluated: Path) -> None:
    curves: dict[str, list[tuple[float, float]]] = {}
    for row in sorted(read_curves(evaluated), key=lambda r: int(r["n"])):
        curves.setdefault(row["method"], []).append(
            (float(row["accuracy_pct"]), float(row["mean_tokens"]))
        )
    bon = curves["BoN"]
    summary = {row["method"]: row for row in read_csv(evaluated / "summary.csv")}
    assert set(summary) == set(curves)
    at_tokens = read_csv(evaluated / "accuracy_at_tokens.csv")
    assert len(at_tokens) == len(curves) * K
    for method, curve in curves.items():
        row = summary[method]
        assert (row["reference"], row["majority"]) == (f"BoN@{K}", f"SC@{K}")
        assert float(row["reference_accuracy_pct"]) == bon[-1][0]
        reached = [t for a, t in curve if a >= bon[-1][0] - 1e-9]
        expected = min(reached) / bon[-1][1] if reached else float("inf")
        assert float(row["ratio_match_reference"]) == pytest.approx(expected)
        low, high = (
            float(row["ratio_match_reference_low"]),
            float(row["ratio_match_reference_high"]),
        )
        assert low <= expected <= high
        for entry in (r for r in at_tokens if r["method"] == method):
            limit = bon[int(entry["n"]) - 1][1]
            assert float(entry["reference_tokens"]) == limit
            best = max((a for a, t in curve if t <= limit * (1 + 1e-9)), default=float("nan"))
            np.testing.assert_allclose(float(entry["accuracy_pct"]), best)
    assert "## Accuracy at BoN@N's tokens" in (evaluated / "summary.md").read_text()


def test_without_bon_or_sc_there_is_no_headline(tmp_path: Path) -> None:
    pool = write_tidy(tmp_path / "pool.csv", tidy_rows())
    assert run(tmp_path, pool, "--methods", "ESC", "--budgets", "1-2") == 0
    assert read_csv(tmp_path / "out" / "summary.csv") == []
    assert "no headline" in (tmp_path / "out" / "summary.md").read_text()
