import warnings
from fractions import Fraction

import numpy as np
import pytest
from baselines_oracles import answer_of, answers, asc, beta_tail, esc, make_view, random_view
from optscale_baselines import AdaptiveSC, EarlyStoppingSC
from optscale_baselines._votes import beta_stop_table
from scipy import integrate


def run(policy, view):
    d = policy.run(view)
    return d.n_used.tolist(), d.pick.tolist()


def test_esc_stops_after_the_first_agreeing_window():
    # windows [1, 2] and [3, 3] (w = 2): stop after 4; majority of 1, 2, 3, 3 is 3 (sample 2).
    view = make_view([[1, 2, 3, 3, 3, 3]])
    assert run(EarlyStoppingSC(2, 6), view) == ([4], [2])


def test_esc_window_that_never_agrees_uses_max_n():
    # windows [0, 3) and [3, 6) disagree; the partial window [6, 7) is never checked.
    view = make_view([[1, 2, 3, 4, 5, 6, 6, 6]])
    assert run(EarlyStoppingSC(3, 7), view) == ([7], [5])


def test_esc_fewer_answers_than_a_window_uses_them_all():
    view = make_view([[1, 1, 1, 1, 1]])
    assert run(EarlyStoppingSC(5, 3), view) == ([3], [0])


def test_esc_no_answer_window_agrees_in_paper_mode_only():
    view = make_view([[-1, -1, 1, 1, 2, 2]])
    assert run(EarlyStoppingSC(2, 6), view) == ([2], [0])
    assert run(EarlyStoppingSC(2, 6, "fair"), view) == ([4], [2])


def test_esc_n_one():
    view = make_view([[7, 8]])
    assert run(EarlyStoppingSC(1, 2), view) == ([1], [0])


def test_asc_unanimous_stops_at_four():
    # P(X > 1/2) for Beta(a + 1, 1) is 1 - 2^-(a+1): 0.9375 at a = 3, 0.96875 at a = 4.
    view = make_view([[5] * 8])
    assert run(AdaptiveSC(0.95, 8), view) == ([4], [0])


def test_asc_one_dissent_stops_at_seven():
    # a = 5, b = 1: P(Bin(7, 1/2) >= 2) = 120/128 < 0.95; a = 6, b = 1: 1 - 9/256 >= 0.95.
    view = make_view([[1, 2, 1, 1, 1, 1, 1, 1, 1]])
    assert run(AdaptiveSC(0.95, 9), view) == ([7], [0])


def test_asc_never_confident_uses_max_n_and_n_one():
    view = make_view([[1, 2, 3, 4]])
    assert run(AdaptiveSC(0.95, 4), view) == ([4], [0])
    assert run(AdaptiveSC(0.5, 1), view) == ([1], [0])


def test_asc_low_threshold_never_stops_on_one_sample():
    # a = 1, b = 0 gives 0.75 >= 0.7, but upstream needs two answers before judging.
    view = make_view([[1, 1, 2]])
    assert run(AdaptiveSC(0.7, 3), view) == ([2], [0])


def test_asc_no_answers_do_not_count_in_fair_mode():
    view = make_view([[-1, -1, -1, -1, 2, 2, 2, 2]])
    assert run(AdaptiveSC(0.95, 8), view) == ([4], [0])
    assert run(AdaptiveSC(0.95, 8, "fair"), view) == ([8], [4])


@pytest.mark.parametrize("seed", range(3))
def test_esc_and_asc_match_oracles(seed):
    rng = np.random.default_rng(seed)
    view = random_view(rng, 40, 20)
    for max_n in range(1, 21):
        for mode in ("paper", "fair"):
            fair = mode == "fair"
            for window in (1, 3, 5):
                d = EarlyStoppingSC(window, max_n, mode).run(view)
                for p in range(40):
                    n, ans = esc(answers(view, p), window, max_n, fair)
                    assert (d.n_used[p], answer_of(view, p, d.pick[p])) == (n, ans)
            for threshold in (0.9, 0.95, 0.99):
                d = AdaptiveSC(threshold, max_n, mode).run(view)
                for p in range(40):
                    n, ans, _ = asc(answers(view, p), threshold, max_n, fair)
                    assert (d.n_used[p], answer_of(view, p, d.pick[p])) == (n, ans)


def test_closed_form_tail_is_exact():
    table = beta_stop_table(0.0, 30)  # all True: just shape
    assert table.shape == (31, 31)
    for a in range(31):
        for b in range(31 - a):
            exact = beta_tail(a, b)
            for threshold in (0.9, 0.95, 0.99):
                assert beta_stop_table(threshold, 30)[a, b] == (exact >= Fraction(threshold))


def integrand(x, a, b):
    return x**a * (1 - x) ** b


def test_upstream_integration_takes_the_same_decisions():
    # esc_and_asc.py / dsc.py integrate x^a (1 - x)^b with quad; check every count pair it can
    # meet with 64 samples against the closed form, at upstream's thresholds.
    tables = {t: beta_stop_table(t, 64) for t in (0.9, 0.95, 0.99)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        for a in range(1, 65):
            for b in range(min(a, 64 - a) + 1):
                num = integrate.quad(integrand, 0.5, 1, args=(a, b))[0]
                den = integrate.quad(integrand, 0, 1, args=(a, b))[0]
                for threshold, table in tables.items():
                    assert table[a, b] == (num / den >= threshold)


def test_grids_names_and_bad_threshold():
    assert [g["window"] for g in EarlyStoppingSC.grid()] == [3, 5, 7, 10]
    assert [g["threshold"] for g in AdaptiveSC.grid()] == [0.90, 0.95, 0.99]
    assert EarlyStoppingSC(5, 64).name == "esc-w5@64"
    assert AdaptiveSC(0.95, 64).name == "asc-t0.95@64"
    with pytest.raises(ValueError, match="threshold"):
        AdaptiveSC(1.0, 8)
