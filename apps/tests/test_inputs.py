from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from optscale_apps.datasets import DATASETS
from optscale_apps.inputs import choose_priors, read_priors_file, resolve_pools
from optscale_apps.loaded import pool_line
from optscale_apps.published import Published

SPEC = DATASETS["aime24"]
Inputs = tuple[Path, Path, Path, Path]


def test_real_pools_under_pools_dir_are_found_by_their_upstream_names(
    hand_pool: Inputs, tmp_path: Path
) -> None:
    par, seq, prompts, _ = hand_pool
    pools_dir = tmp_path / "pools"
    pools_dir.mkdir()
    shutil.copy(par, pools_dir / "scored_qwen7b_par_aime24_64.json")
    shutil.copy(seq, pools_dir / "scored_qwen7b_seq_aime24_64.json")
    found = resolve_pools(
        SPEC, pool=None, seq_pool=None, prompts=prompts, pools_dir=pools_dir,
        cache_dir=tmp_path / "cache", seed=0,
    )  # fmt: skip
    assert found.parallel == pools_dir / "scored_qwen7b_par_aime24_64.json"
    assert found.sequential == pools_dir / "scored_qwen7b_seq_aime24_64.json"
    assert not found.simulated
    assert pool_line(found, simulated=False) == f"REAL pool at {found.parallel}"
    assert not (tmp_path / "cache").exists()


def test_given_pool_without_sequential_pool_leaves_it_out(
    hand_pool: Inputs, tmp_path: Path
) -> None:
    par, _, prompts, _ = hand_pool
    found = resolve_pools(
        SPEC, pool=par, seq_pool=None, prompts=prompts, pools_dir=tmp_path,
        cache_dir=tmp_path / "cache", seed=0,
    )  # fmt: skip
    assert (found.parallel, found.sequential, found.simulated) == (par, None, False)


def test_simulated_file_given_as_pool_is_called_simulated(
    hand_pool: Inputs, tmp_path: Path
) -> None:
    par, _, prompts, _ = hand_pool
    found = resolve_pools(
        SPEC, pool=par, seq_pool=None, prompts=prompts, pools_dir=tmp_path,
        cache_dir=tmp_path, seed=0,
    )  # fmt: skip
    assert pool_line(found, simulated=True).startswith(f"SIMULATED pool at {par} (the file says")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[[0.5, 0.1], [0.5", "not valid JSON"),
        ('{"mu": 0.5}', "expected a JSON list"),
        ("[[0.5, 0.1], [0.5]]", "record 1: expected [mu, sigma]"),
        ('[[0.5, 0.1], [0.5, "x"]]', "record 1: expected [mu, sigma]"),
        ("[[0.5, 0.1], [NaN, 0.1]]", "record 1: expected [mu, sigma]"),
        ("[[0.5, 0.1]]", "1 priors for a pool of 2 problems"),
    ],
)
def test_bad_priors_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "priors.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=r"priors\.json") as error:
        read_priors_file(path, 2)
    assert message in str(error.value)


def test_priors_file_accepts_any_finite_sigma(tmp_path: Path) -> None:
    path = tmp_path / "priors.json"
    path.write_text("[[0.5, -0.02], [0.4, 0.0]]")
    np.testing.assert_array_equal(read_priors_file(path, 2), [[0.5, -0.02], [0.4, 0.0]])


def test_priors_file_takes_the_papers_own_priors(mirror: Path, tmp_path: Path) -> None:
    # BoN_OptScale/MATH500_train_mu_sigma.json holds negative sigmas; --published-priors
    # takes them as they are, and --priors the same file gives the same priors.
    path = mirror / "BoN_OptScale/MATH500_train_mu_sigma.json"
    published = json.loads(path.read_text())
    assert sum(sigma < 0 for _, sigma in published) == 3
    priors = read_priors_file(path, len(published))
    np.testing.assert_array_equal(priors, published)


def test_priors_file_wins_and_published_priors_are_length_checked(tmp_path: Path) -> None:
    path = tmp_path / "priors.json"
    path.write_text(json.dumps([[0.6, 0.2], [0.7, 0.3]]))
    priors = choose_priors(SPEC, ["a", "b"], priors_file=path, published=None, cache_dir=tmp_path)
    np.testing.assert_array_equal(priors, [[0.6, 0.2], [0.7, 0.3]])

    published = Published(table={}, curves=[], cells=[], priors=np.ones((30, 2)), dataset="AIME24")
    with pytest.raises(ValueError, match="published priors of AIME24 hold 30 problems, the pool 2"):
        choose_priors(SPEC, ["a", "b"], priors_file=None, published=published, cache_dir=tmp_path)
