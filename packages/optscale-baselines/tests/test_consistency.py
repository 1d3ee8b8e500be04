import numpy as np
import pytest
from baselines_oracles import answer_of, answers, majority, make_view, random_view, wsc
from optscale_baselines import MRThinking, SelfConsistency, WeightedSelfConsistency


def test_no_answer_is_a_candidate_in_paper_mode_only():
    # None and 3 both have two votes: None was seen first, so paper mode answers None (sample 0);
    # fair mode drops the no-answers and picks 3 (sample 2).
    view = make_view([[-1, -1, 3, 3, 5]])
    assert SelfConsistency(5).run(view).pick.tolist() == [0]
    assert SelfConsistency(5, "fair").run(view).pick.tolist() == [2]


def test_all_no_answer_row():
    view = make_view([[-1, -1, -1]])
    assert SelfConsistency(3).run(view).pick.tolist() == [0]
    assert SelfConsistency(3, "fair").run(view).pick.tolist() == [-1]


def test_first_seen_answer_wins_ties():
    view = make_view([[4, 7, 7, 4], [7, 4, 4, 7]])
    assert SelfConsistency(4).run(view).pick.tolist() == [0, 0]
    assert SelfConsistency(4, "fair").run(view).pick.tolist() == [0, 0]


def test_n_one_and_n_k():
    view = make_view([[9, 2, 2]])
    assert SelfConsistency(1).run(view).pick.tolist() == [0]
    assert SelfConsistency(3).run(view).pick.tolist() == [1]
    assert SelfConsistency(3).run(view).n_used.tolist() == [3]


@pytest.mark.parametrize("seed", range(3))
def test_self_consistency_matches_oracle(seed):
    rng = np.random.default_rng(seed)
    view = random_view(rng, 60, 16)
    for n in range(1, 17):
        for mode in ("paper", "fair"):
            pick = SelfConsistency(n, mode).run(view).pick
            for p in range(60):
                expected = majority(answers(view, p)[:n], fair=mode == "fair")
                assert answer_of(view, p, pick[p]) == expected
                assert pick[p] == -1 or answers(view, p).index(expected) == pick[p]


def test_weighted_sum_and_max_differ_by_hand():
    # answer 1: 0.6 (one sample); answer 2: 0.5 + 0.3 = 0.8 in sum, 0.5 in max.
    view = make_view([[1, 2, 2]], [[0.6, 0.5, 0.3]])
    assert WeightedSelfConsistency(3, "sum").run(view).pick.tolist() == [1]
    assert WeightedSelfConsistency(3, "max").run(view).pick.tolist() == [0]


def test_weighted_ties_and_no_answer():
    view = make_view([[-1, 4, 5]], [[0.9, 0.5, 0.5]])
    assert WeightedSelfConsistency(3, "sum").run(view).pick.tolist() == [0]
    assert WeightedSelfConsistency(3, "sum", "fair").run(view).pick.tolist() == [1]
    all_none = make_view([[-1, -1]], [[0.9, 0.5]])
    assert WeightedSelfConsistency(2, "max", "fair").run(all_none).pick.tolist() == [-1]


@pytest.mark.parametrize("seed", range(2))
def test_weighted_matches_oracle(seed):
    rng = np.random.default_rng(seed)
    view = random_view(rng, 50, 12)
    for n in range(1, 13):
        for agg in ("sum", "max"):
            for mode in ("paper", "fair"):
                pick = WeightedSelfConsistency(n, agg, mode).run(view).pick
                for p in range(50):
                    row = answers(view, p)
                    expected = wsc(row, list(view.scores[p]), n, agg, mode == "fair")
                    assert answer_of(view, p, pick[p]) == expected


def test_bad_aggregate():
    with pytest.raises(ValueError, match="aggregate must be"):
        WeightedSelfConsistency(3, "mean")  # type: ignore[arg-type]


def test_mr_thinking_answers_with_round_n():
    view = make_view([[1, -1, 3, 4]], tokens=[[5, 6, 7, 8]])
    decisions = MRThinking(2).run(view)
    assert decisions.pick.tolist() == [1]
    assert decisions.n_used.tolist() == [2]
    assert MRThinking(4).run(view).pick.tolist() == [3]
    assert MRThinking(1).verify_order == "gold_pred"


def test_names_and_grids():
    assert SelfConsistency(8).name == "sc@8"
    assert WeightedSelfConsistency(8, "max").name == "wsc-max@8"
    assert MRThinking(8).name == "mr-thinking@8"
    assert SelfConsistency.grid() == [{}]
    assert MRThinking.grid() == [{}]
    assert [g["aggregate"] for g in WeightedSelfConsistency.grid()] == ["sum", "max"]
