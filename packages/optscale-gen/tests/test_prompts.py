from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from optscale_gen import (
    PRM_SYSTEM_PROMPT,
    STEP_TAG,
    previous_answer,
    prm_messages,
    question_prompt,
    split_steps,
)

UPSTREAM_QUESTION = (
    "Answer the following questions. You should think step-by-step and put your final answer "
    "within $\\boxed{answer}$, where [answer] is just the final number or expression that "
    "solves the problem.\n Question: What is 2 + 3?"
)


def upstream_previous_answer(output: str) -> str:
    """Upstream's character loop, written out literally (the oracle)."""
    if "\\boxed{" not in output:
        return ""
    rest = output.split("\\boxed{")[1]
    if "}" not in rest:
        return ""
    answer = ""
    while "}" in rest:
        if rest[0] == "\n" or (rest[0] == "}" and "}" not in rest[1:]):
            break
        answer += rest[0]
        rest = rest[1:]
    return answer


def test_question_prompt_is_upstreams_text() -> None:
    assert question_prompt("What is 2 + 3?") == UPSTREAM_QUESTION


def test_retry_prompt_quotes_the_previous_answer_boxed() -> None:
    expected = (
        UPSTREAM_QUESTION
        + "\nThe assistant's previous answer is: $\\boxed{5}$, and please re-answer."
    )
    assert question_prompt("What is 2 + 3?", "5") == expected
    assert question_prompt("What is 2 + 3?", "").endswith("$\\boxed{}$, and please re-answer.")


def test_previous_answer_examples() -> None:
    assert previous_answer("so \\boxed{\\frac{1}{2}}.") == "\\frac{1}{2}"
    assert previous_answer("no box here") == ""
    assert previous_answer("\\boxed{12") == ""
    assert previous_answer("\\boxed{3}\n then {x}") == "3}"
    assert previous_answer("\\boxed{3} and {x}") == "3} and {x"


@given(st.lists(st.sampled_from(["\\boxed{", "}", "{", "\n", "a", "7", " "]), max_size=14))
def test_previous_answer_matches_upstreams_loop(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert previous_answer(text) == upstream_previous_answer(text)


def test_split_steps_on_blank_lines_keeping_empty_steps() -> None:
    assert split_steps("a\n\nb\nc\n\n\n\nd") == ["a", "b\nc", "", "d"]
    assert split_steps("") == [""]


@given(st.lists(st.text(alphabet="ab\n ", max_size=6), min_size=1, max_size=5))
def test_prm_messages_tag_each_step_once(steps: list[str]) -> None:
    completion = "\n\n".join(steps)
    system, user, assistant = prm_messages("P?", completion)
    assert system == {"role": "system", "content": PRM_SYSTEM_PROMPT}
    assert user == {"role": "user", "content": "P?"}
    assert assistant["content"].count(STEP_TAG) == len(split_steps(completion))
    assert assistant["content"].endswith(STEP_TAG)
    assert assistant["content"].replace(STEP_TAG, "\n\n")[:-2] == completion
