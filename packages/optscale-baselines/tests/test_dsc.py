import random

import numpy as np
import pytest
from baselines_oracles import answer_of, dsc_fair, dsc_paper, make_view, random_view
from optscale_baselines import DifficultyAdaptiveSC


def graded_view(seed, problems, k):
    """A pool where better-scored problems agree more, so the easy boundary falls inside."""
    rng = np.random.default_rng(seed)
    agreement = rng.random((problems, 1))
    ids = np.where(rng.random((problems, k)) < agreement, 0, rng.integers(1, 5, (problems, k)))
    ids = np.where(rng.random((problems, k)) < 0.05, -1, ids)
    scores = np.clip(agreement + rng.normal(0, 0.05, (problems, k)), 0, 1)
    return make_view(ids, scores, tokens=rng.integers(10, 100, (problems, k)))


def two_easy_two_hard(k=8):
    # Rows 1 and 3 are unanimous and best scored (easiest); rows 0 and 2 never repeat an answer.
    ids = [list(range(10, 10 + k)), [7] * k, list(range(20, 20 + k)), [4] * k]
    scores = [[0.3] * k, [0.9] * k, [0.2] * k, [0.8] * k]
    return make_view(ids, scores, prior_mu=[0.3, 0.9, 0.2, 0.8])


def test_paper_partition_by_hand():
    # Sorted easy -> hard: rows 1, 3, 0, 2. Midpoint 2 judges sorted 1 (easy) and 2 (not):
    # go left. Midpoint 1 judges sorted 0 and 1, both easy: rows 1 and 3 are easy. One easy
    # midpoint: overhead 1 x 3 x 4 x 10 tokens. Hard rows run ASC to the cap without stopping.
    d = DifficultyAdaptiveSC(6).run(two_easy_two_hard())
    assert d.easy.tolist() == [False, True, False, True]
    assert d.n_used.tolist() == [6, 1, 6, 1]
    assert d.pick.tolist() == [0, 0, 0, 0]
    assert d.stopped.tolist() == [False] * 4
    assert d.easy_midpoints == 1
    assert d.extra_tokens == 120.0


def test_paper_ranking_reads_unpaid_scores():
    # Upstream's DSC ranks with scores it never paid for. Row 3 is easy and pays for sample 0
    # only, yet lowering its unpaid scores makes it rank hardest: the search then stops before
    # it (sorted 1, 0, 2, 3: midpoint 2 fails, midpoint 1 fails, midpoint 0 passes), and it
    # pays the full cap.
    view = two_easy_two_hard()
    assert DifficultyAdaptiveSC(6).run(view).n_used[3] == 1
    scores = view.scores.copy()
    scores[3, 1:] = 0.0
    d = DifficultyAdaptiveSC(6).run(make_view(view.answer_ids, scores))
    assert d.easy.tolist() == [False, True, False, False]
    assert d.n_used[3] == 4  # ASC stops at 4 on its unanimous answers


def test_paper_cap_five_makes_everything_easy():
    # upstream's judge returns the cap itself when the cap equals the sampling window.
    d = DifficultyAdaptiveSC(5).run(two_easy_two_hard())
    assert d.easy.all()
    assert d.n_used.tolist() == [1, 1, 1, 1]
    assert d.easy_midpoints == 2  # midpoints 2 and 3
    assert d.extra_tokens == 240.0


def test_paper_cap_below_five_is_plain_asc():
    d = DifficultyAdaptiveSC(4).run(two_easy_two_hard())
    assert not d.easy.any()
    assert d.n_used.tolist() == [4, 4, 4, 4]
    assert d.stopped.tolist() == [False, True, False, True]  # a stop at the cap still counts
    assert d.extra_tokens == 0.0


def test_overhead_prefix_averages_that_many_tokens():
    view = two_easy_two_hard()
    tokens = np.tile(np.arange(1, 9), (4, 1))
    view = make_view(view.answer_ids, view.scores, tokens=tokens)
    assert DifficultyAdaptiveSC(6).run(view).extra_tokens == 12 * 2.5
    assert DifficultyAdaptiveSC(6, overhead_prefix=5).run(view).extra_tokens == 12 * 3.0


def test_fair_partition_by_hand():
    # Same ranking from the prior; judged rows (sorted 1, 2, 0, 1 = rows 3, 0, 1) pay 5 samples.
    d = DifficultyAdaptiveSC(8, "fair", difficulty="prior").run(two_easy_two_hard())
    assert d.easy.tolist() == [False, True, False, True]
    assert d.n_used.tolist() == [8, 5, 8, 5]
    assert d.pick.tolist() == [0, 0, 0, 0]
    assert d.easy_midpoints == 1
    assert d.extra_tokens == 0.0


def test_fair_no_answer_row_is_never_easy():
    # Sorted: row 0 (no answers, best scored) then row 1 (unanimous). Midpoint 1 judges both:
    # row 0 fails (no votes), so go left; midpoint 0 judges row 0 alone and fails again.
    # Both rows paid 5 judged samples; row 1's ASC stops at 4 but keeps the 5 it paid.
    view = make_view([[-1] * 8, [3] * 8], [[0.9] * 8, [0.1] * 8])
    d = DifficultyAdaptiveSC(8, "fair").run(view)
    assert d.easy.tolist() == [False, False]
    assert d.n_used.tolist() == [8, 5]
    assert d.pick.tolist() == [-1, 0]
    assert d.stopped.tolist() == [False, True]


def test_fair_prior_needs_every_prior():
    with pytest.raises(ValueError, match=r"view\.prior_mu"):
        DifficultyAdaptiveSC(8, "fair", difficulty="prior").run(make_view([[1] * 8]))


@pytest.mark.parametrize("seed", range(2))
def test_paper_sweep_matches_upstream_loop(seed):
    view = graded_view(seed, 30, 24)
    default, sweep = DifficultyAdaptiveSC.paper_sweep(view, range(1, 25), default_size=24)
    oracle_rng = random.Random(42)
    expected = [dsc_paper(view, 24, oracle_rng, 5)] + [
        dsc_paper(view, m, oracle_rng, 4) for m in range(1, 25)
    ]
    assert len(sweep) == 24
    for got, want in zip([default, *sweep], expected, strict=True):
        assert got.n_used.tolist() == want.n_used
        assert [answer_of(view, p, got.pick[p]) for p in range(30)] == want.answers
        assert got.easy.tolist() == want.easy
        assert got.stopped.tolist() == want.stopped
        assert got.easy_midpoints == want.easy_midpoints
        assert got.extra_tokens == want.overhead
    assert any(d.easy.any() and not d.easy.all() for d in sweep)


@pytest.mark.parametrize("seed", range(2))
def test_sweep_stream_gives_each_size_its_place_in_upstreams_loop(seed):
    """Each sweep size alone, on the sweep stream, equals that size of upstream's one-stream run."""
    view = tied_view(seed, 30, 24)
    texts = [f"problem {(11 * p) % 30:02d}" for p in range(30)]
    oracle_rng = random.Random(42)
    dsc_paper(view, 24, oracle_rng, 5, texts)  # the default run comes first on the stream
    for m in range(1, 25):
        want = dsc_paper(view, m, oracle_rng, 4, texts)
        got = DifficultyAdaptiveSC(m, "paper", problems=texts, stream="sweep").run(view)
        assert got.n_used.tolist() == want.n_used
        assert [answer_of(view, p, got.pick[p]) for p in range(30)] == want.answers
        assert got.easy.tolist() == want.easy
        assert got.extra_tokens == want.overhead


def test_stream_must_be_named():
    with pytest.raises(ValueError, match="stream must be 'fresh' or 'sweep'"):
        DifficultyAdaptiveSC(8, stream="shared")


def tied_view(seed, problems, k):
    """``graded_view`` with scores on a coarse grid: many problems share a mean score."""
    view = graded_view(seed, problems, k)
    scores = np.repeat(np.round(view.scores[:, :1] * 4) / 4, k, axis=1)
    return make_view(view.answer_ids, scores, tokens=view.tokens)


def test_paper_breaks_difficulty_ties_by_problem_text():
    view = tied_view(3, 30, 24)
    means = view.scores.mean(axis=1)
    assert len(set(means.tolist())) < 10  # ties everywhere
    texts = [f"problem {(7 * p) % 30:02d}" for p in range(30)]  # text order != row order
    default, sweep = DifficultyAdaptiveSC.paper_sweep(
        view, range(1, 25), default_size=24, problems=texts
    )
    _, by_row = DifficultyAdaptiveSC.paper_sweep(view, range(1, 25), default_size=24)
    oracle_rng = random.Random(42)
    expected = [dsc_paper(view, 24, oracle_rng, 5, texts)] + [
        dsc_paper(view, m, oracle_rng, 4, texts) for m in range(1, 25)
    ]
    for got, want in zip([default, *sweep], expected, strict=True):
        assert got.n_used.tolist() == want.n_used
        assert [answer_of(view, p, got.pick[p]) for p in range(30)] == want.answers
        assert got.easy.tolist() == want.easy
        assert got.extra_tokens == want.overhead
    assert any(
        a.easy.tolist() != b.easy.tolist() for a, b in zip(sweep, by_row, strict=True)
    )  # the tie-break matters on this pool


def test_problem_texts_must_match_the_rows():
    with pytest.raises(ValueError, match="2 texts for a view of 4 rows"):
        DifficultyAdaptiveSC(6, problems=("a", "b")).run(two_easy_two_hard())


def test_run_uses_a_fresh_seeded_stream():
    view = random_view(np.random.default_rng(5), 30, 16)
    default, _ = DifficultyAdaptiveSC.paper_sweep(view, [], default_size=16)
    again = DifficultyAdaptiveSC(16, overhead_prefix=5).run(view)
    assert again.easy.tolist() == default.easy.tolist()


@pytest.mark.parametrize("difficulty", ["first_score", "prior"])
def test_fair_matches_oracle(difficulty):
    view = graded_view(11, 30, 16)
    view = make_view(view.answer_ids, view.scores, prior_mu=view.scores.mean(axis=1))
    for m in range(1, 17):
        got = DifficultyAdaptiveSC(m, "fair", difficulty=difficulty).run(view)
        want = dsc_fair(view, m, difficulty)
        assert got.n_used.tolist() == want.n_used
        assert [answer_of(view, p, got.pick[p]) for p in range(30)] == want.answers
        assert got.easy.tolist() == want.easy
        assert got.stopped.tolist() == want.stopped
        assert got.easy_midpoints == want.easy_midpoints
    assert got.easy.any()
    assert not got.easy.all()


def test_grid_and_name():
    assert DifficultyAdaptiveSC(16).name == "dsc@16"
    assert DifficultyAdaptiveSC.grid() == [{"difficulty": "first_score"}, {"difficulty": "prior"}]
    with pytest.raises(ValueError, match="difficulty"):
        DifficultyAdaptiveSC(8, "fair", difficulty="oracle")  # type: ignore[arg-type]
