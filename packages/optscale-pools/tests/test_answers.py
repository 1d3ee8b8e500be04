r"""Answer extraction against slow oracles written from each rule's description.

Paper rule (upstream's): scan left to right for ``\boxed{`` whose braces balance; a match ends
at its closing brace and the scan resumes after it; an opening that never closes is passed over
(the scan resumes one character later); the answer is the content of the last match. Fair rule:
the content of the last ``\boxed{`` whose braces close.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_pools import extract_boxed

OPEN = "\\boxed{"


def close_of(text: str, start: int) -> int | None:
    """Index of the brace closing the ``\\boxed{`` at ``start``, counting depth forward."""
    depth = 0
    for index in range(start + len(OPEN) - 1, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return index
    return None


def paper_oracle(text: str) -> str | None:
    matches = []
    position = 0
    while (start := text.find(OPEN, position)) >= 0:
        close = close_of(text, start)
        if close is None:
            position = start + 1
        else:
            matches.append(text[start + len(OPEN) : close])
            position = close + 1
    return matches[-1] if matches else None


def fair_oracle(text: str) -> str | None:
    starts = [i for i in range(len(text)) if text.startswith(OPEN, i)]
    for start in reversed(starts):
        close = close_of(text, start)
        if close is not None:
            return text[start + len(OPEN) : close]
    return None


pieces = st.sampled_from([OPEN, OPEN, "{", "}", "}", "a", "7", " ", "\\", "\\box", "ed{", "\n"])
texts = st.lists(pieces, max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_both_rules_match_their_oracles(text: str) -> None:
    assert extract_boxed(text) == paper_oracle(text)
    assert extract_boxed(text, "fair") == fair_oracle(text)


@settings(max_examples=200, deadline=None)
@given(texts)
def test_fair_rule_is_the_paper_rule_applied_until_no_box_is_left(text: str) -> None:
    # the innermost box of the last top-level match
    answer = extract_boxed(text)
    while answer is not None and extract_boxed(answer) is not None:
        answer = extract_boxed(answer)
    assert extract_boxed(text, "fair") == answer


@pytest.mark.parametrize(
    ("text", "paper", "fair"),
    [
        ("\\boxed{\\boxed{a}}", "\\boxed{a}", "a"),
        ("\\boxed{x = \\boxed{5} so}", "x = \\boxed{5} so", "5"),
        ("\\boxed{1} and \\boxed{2 \\boxed{3}} \\boxed{4", "2 \\boxed{3}", "3"),
        ("\\boxed{ \\boxed{a}", "a", "a"),  # an open outer box is passed over
        ("\\boxed{\\frac{1}{2}} }} {{", "\\frac{1}{2}", "\\frac{1}{2}"),
        ("}\\boxed{}", "", ""),
        ("\\boxed{", None, None),
    ],
)
def test_nested_and_cut_boxes(text: str, paper: str | None, fair: str | None) -> None:
    assert (extract_boxed(text), extract_boxed(text, "fair")) == (paper, fair)


def test_unknown_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="rule must be"):
        extract_boxed("\\boxed{1}", "strict")  # type: ignore[arg-type]


def test_multi_megabyte_pathological_inputs_finish() -> None:
    # A scan from every opening is quadratic here (64 KB took 23 s); the timeout only bounds a
    # hang, the assertions are on the results.
    script = textwrap.dedent(
        r"""
        from optscale_pools import extract_boxed
        n = 400_000
        unclosed = "\\boxed{" * n
        assert extract_boxed(unclosed) is None
        assert extract_boxed(unclosed, "fair") is None
        one_close = unclosed + "x}"
        assert extract_boxed(one_close) == extract_boxed(one_close, "fair") == "x"
        nested = unclosed + "a" + "}" * n
        assert extract_boxed(nested) == "\\boxed{" * (n - 1) + "a" + "}" * (n - 1)
        assert extract_boxed(nested, "fair") == "a"
        braces = "{" * 3_000_000 + "\\boxed{b}" + "}" * 5
        assert extract_boxed(braces) == extract_boxed(braces, "fair") == "b"
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
