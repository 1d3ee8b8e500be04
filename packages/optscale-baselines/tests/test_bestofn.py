import numpy as np
import pytest
from baselines_oracles import bon_fair, bon_paper, make_view, random_view
from optscale_baselines import BestOfN


def picks(policy, view):
    decisions = policy.run(view)
    assert (decisions.n_used == policy.n).all()
    assert decisions.extra_tokens == 0.0
    return decisions.pick.tolist()


def test_first_index_wins_ties():
    view = make_view([[0, 1, 2]], [[0.2, 0.9, 0.9]])
    assert picks(BestOfN(3), view) == [1]
    assert picks(BestOfN(3, "fair"), view) == [1]


def test_empty_top_completion_is_rescored_zero():
    # sample 1 is empty with the top score: upstream zeroes it and takes the next best, 2.
    view = make_view([[0, 1, 2]], [[0.5, 0.9, 0.7]], empty=[[False, True, False]])
    assert picks(BestOfN(3), view) == [2]
    assert picks(BestOfN(3, "fair"), view) == [2]


def test_all_empty_keeps_the_last_zeroed():
    # zeroing order 1 (0.8), 0 (0.3, first of the tie), 2 (0.3): the max is then 0, keep 2.
    view = make_view([[-1, -1, -1]], [[0.3, 0.8, 0.3]], empty=[[True, True, True]])
    assert picks(BestOfN(3), view) == [2]
    assert picks(BestOfN(3, "fair"), view) == [-1]


def test_zero_scored_answer_loses_to_an_empty_one_in_paper_mode():
    # empty sample 1 (0.4) is zeroed, the max is then 0: upstream stops and keeps the empty one.
    view = make_view([[5, -1]], [[0.0, 0.4]], empty=[[False, True]])
    assert picks(BestOfN(2), view) == [1]
    assert picks(BestOfN(2, "fair"), view) == [0]


def test_all_zero_scores_pick_the_first_sample():
    view = make_view([[-1, 4]], [[0.0, 0.0]], empty=[[True, False]])
    assert picks(BestOfN(2), view) == [0]
    assert picks(BestOfN(2, "fair"), view) == [1]


def test_n_one_and_n_k():
    view = make_view([[1, 2, 3]], [[0.1, 0.5, 0.3]])
    assert picks(BestOfN(1), view) == [0]
    assert picks(BestOfN(3), view) == [1]


def test_last_score_variant_reads_last_scores():
    view = make_view([[1, 2]], [[0.9, 0.1]], last_scores=[[0.2, 0.8]])
    assert picks(BestOfN(2, score="last"), view) == [1]
    assert BestOfN(2, score="last").name == "bon-last@2"


def test_verify_order_follows_bon_py_in_paper_mode():
    assert BestOfN(4).verify_order == "pred_gold"
    assert BestOfN(4, "fair").verify_order == "gold_pred"
    assert {tuple(g.items()) for g in BestOfN.grid()} == {
        (("score", "mean"),),
        (("score", "last"),),
    }


@pytest.mark.parametrize("seed", range(3))
def test_matches_loop_oracle_on_random_pools(seed):
    rng = np.random.default_rng(seed)
    view = random_view(rng, 60, 16)
    for n in range(1, 17):
        for score, field in (("mean", view.scores), ("last", view.last_scores)):
            paper = BestOfN(n, "paper", score).run(view).pick
            fair = BestOfN(n, "fair", score).run(view).pick
            for p in range(60):
                assert paper[p] == bon_paper(list(field[p]), list(view.empty[p]), n)
                assert fair[p] == bon_fair(list(field[p]), list(view.empty[p]), n)


def test_paper_mode_rejects_negative_scores():
    view = make_view([[1, 2]], [[-0.1, 0.5]])
    with pytest.raises(ValueError, match=r"view\.scores must be finite"):
        BestOfN(2).run(view)


def test_bad_score_kind():
    with pytest.raises(ValueError, match="score must be"):
        BestOfN(2, score="median")  # type: ignore[arg-type]
