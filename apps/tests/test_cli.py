from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from optscale_apps.reproduce import main

Inputs = tuple[Path, Path, Path, Path]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err


def _common(hand_pool: Inputs, tmp_path: Path, mode: str, cache: Path) -> list[str]:
    par, seq, prompts, priors = hand_pool
    return [
        "--dataset", "aime24", "--mode", mode, "--out", str(tmp_path / "out"),
        "--pool", str(par), "--seq-pool", str(seq), "--prompts", str(prompts),
        "--priors", str(priors), "--cache-dir", str(cache),
    ]  # fmt: skip


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.usefixtures("mirror")
def test_paper_mode_end_to_end(
    hand_pool: Inputs, tmp_path: Path, shared_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = _run(capsys, *_common(hand_pool, tmp_path, "paper", shared_cache))
    assert status == 0
    assert out[0] == f"REAL pool at {hand_pool[0]}"
    folder = tmp_path / "out" / "paper"
    expected = {"table.csv", "table.md", "table.tex", "curves.csv", "optscale_cells.csv"}
    assert expected | {"accuracy_vs_tokens.png"} == {p.name for p in folder.iterdir()}
    table = _csv(folder / "table.csv")
    methods = {row["method"] for row in table}
    assert methods == {"BoN", "SC", "MR-Thinking", "ESC", "ASC", "DSC", "OptScale^0", "OptScale^t"}
    assert {row["N"] for row in table} == {"8", "16", "32", "64"}
    assert {row["pool"] for row in table} == {"REAL"}
    table_md = (folder / "table.md").read_text()
    assert table_md.strip() in "\n".join(out), "the main table is printed at the end of the run"
    for row in table:  # the difference column is this run minus the published number
        diff = float(row["accuracy (%)"]) - float(row["published (%)"])
        assert abs(diff - float(row["diff (pts)"])) < 0.051
    curves = _csv(folder / "curves.csv")
    assert {row["selection"] for row in curves} == {"test-set"}  # the paper's rule, labelled
    dsc_default = "overhead_prefix=5"
    by_method: dict[str, list[int]] = {}
    for row in curves:
        if row["settings"] != dsc_default:
            by_method.setdefault(row["method"], []).append(int(row["n"]))
    bounds = ("oracle", "oracle-stop BoN", "oracle-stop SC", "hindsight BoN")
    every_n = ("BoN", "SC", "ESC", "ASC", "DSC", *bounds)
    assert by_method == {
        **{m: list(range(1, 65)) for m in (*every_n, "MR-Thinking")},
        **{m: [8, 16, 32, 64] for m in ("OptScale^0", "OptScale^t")},
    }
    default = [(row["method"], row["n"]) for row in curves if row["settings"] == dsc_default]
    assert default == [("DSC", "64")]  # upstream's default run, kept beside its sweep
    for row in table:  # the table's OptScale rows are the engine's choice on the test set
        if row["method"].startswith("OptScale"):
            (chosen,) = [c for c in curves if (c["method"], c["n"]) == (row["method"], row["N"])]
            assert chosen["rule"] == "test-set"
            assert f"{float(chosen['accuracy_pct']):.1f}" == row["accuracy (%)"]
    cells = _csv(folder / "optscale_cells.csv")
    assert len(cells) == 2 * 4 * 48
    assert {(row["max_N"], row["peek"]) for row in cells} == {
        ("8", "3"), ("16", "5"), ("32", "10"), ("64", "20")
    }  # fmt: skip
    for row in cells:
        n_per_problem = json.loads(row["n_per_problem"])
        assert len(n_per_problem) == 5
        assert all(int(row["peek"]) <= n <= int(row["max_N"]) for n in n_per_problem)
    caption = (folder / "table.md").read_text().splitlines()[0]
    assert caption.startswith("**REAL pool: AIME24, paper mode")


@pytest.mark.usefixtures("mirror")
def test_fair_mode_end_to_end(
    hand_pool: Inputs, tmp_path: Path, shared_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = _run(
        capsys, *_common(hand_pool, tmp_path, "fair", shared_cache), "--orders", "3"
    )
    assert status == 0
    assert out[0] == f"REAL pool at {hand_pool[0]}"
    folder = tmp_path / "out" / "fair"
    assert {p.name for p in folder.iterdir()} == {
        "table.csv", "table.md", "table.tex", "accuracy_vs_tokens.png", "curves.csv",
        "optscale_cells.csv",
    }  # fmt: skip
    curves = _csv(folder / "curves.csv")
    assert {row["pool"] for row in curves} == {"AIME24"}
    assert {row["pool_kind"] for row in curves} == {"REAL"}
    assert all(0 <= float(row["accuracy_pct"]) <= 100 for row in curves)
    cells = _csv(folder / "optscale_cells.csv")
    assert {row["variant"] for row in cells} == {"MLE", "MAP"}
    assert {row["pool_kind"] for row in cells} == {"REAL"}
    assert not (tmp_path / "out" / "paper").exists()
    table = _csv(folder / "table.csv")
    assert {row["method"] for row in table} >= {"BoN", "SC", "ESC", "ASC", "DSC", "MR-Thinking"}
    for row in table:
        low, high = (float(v) for v in row["95% CI (%)"].strip("[]").split(","))
        assert 0 <= low <= high <= 100
    assert "3 random sample orders" in (folder / "table.md").read_text().splitlines()[0]


def test_missing_pool_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.json"
    status, out, err = _run(
        capsys, "--dataset", "aime24", "--mode", "paper", "--out", str(tmp_path / "out"),
        "--pool", str(missing),
    )  # fmt: skip
    assert status == 1
    assert out == []
    assert err.strip() == f"optscale-reproduce: error: --pool {missing}: no such file"
    assert not (tmp_path / "out").exists()


def test_prompts_without_pool_are_rejected(
    hand_pool: Inputs, tmp_path: Path, shared_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = _run(
        capsys, "--dataset", "aime24", "--mode", "paper", "--out", str(tmp_path / "out"),
        "--prompts", str(hand_pool[2]), "--pools-dir", str(tmp_path / "empty"),
    )  # fmt: skip
    assert status == 1
    assert "--seq-pool and --prompts need a real parallel pool" in err


def test_malformed_pool_names_file_record_and_field(
    hand_pool: Inputs, tmp_path: Path, shared_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    par = hand_pool[0]
    items = json.loads(par.read_text())
    del items[2]["score"]["scores"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(items))
    args = _common(hand_pool, tmp_path, "paper", shared_cache)
    args[args.index(str(par))] = str(broken)
    status, _, err = _run(capsys, *args)
    assert status == 1
    assert err.count("\n") == 1
    assert str(broken) in err
    assert "2" in err
    assert "scores" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.usefixtures("mirror")
def test_priors_of_the_wrong_length_are_rejected(
    hand_pool: Inputs, tmp_path: Path, shared_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "priors.json"
    bad.write_text(json.dumps([[0.5, 0.1]] * 4))
    args = _common(hand_pool, tmp_path, "paper", shared_cache)
    args[args.index(str(hand_pool[3]))] = str(bad)
    status, _, err = _run(capsys, *args)
    assert status == 1
    assert f"{bad}: 4 priors for a pool of 5 problems" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--orders", "0"], "--orders must be at least 1"),
        (["--dataset", "aime26"], "invalid choice"),
        (["--priors", "p.json", "--published-priors"], "not allowed with argument"),
    ],
)
def test_bad_arguments_exit_with_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "aime24", "--mode", "fair", "--out", str(tmp_path), *extra])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.usefixtures("mirror")
def test_a_run_failing_midway_leaves_the_old_set_untouched(
    hand_pool: Inputs,
    tmp_path: Path,
    shared_cache: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import optscale_apps.run

    folder = tmp_path / "out" / "fair"
    folder.mkdir(parents=True)
    (folder / "table.csv").write_text("old table")
    (folder / "accuracy_vs_tokens.png").write_bytes(b"old plot")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    staged: list[str] = []

    def plot_then_fail(path: Path, **_: object) -> None:
        staged.extend(sorted(p.name for p in path.parent.iterdir()))
        raise OSError(f"{path}: no space left on device")

    monkeypatch.setattr(optscale_apps.run, "plot_fair", plot_then_fail)
    status, _, err = _run(
        capsys, *_common(hand_pool, tmp_path, "fair", shared_cache), "--orders", "1"
    )
    assert status == 1
    assert err.count("\n") == 1
    assert "no space left on device" in err
    assert "table.csv" in staged  # the tables were written before the plot failed
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["fair"]  # no staging folder left
