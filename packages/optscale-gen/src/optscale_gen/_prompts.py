"""The upstream prompts: generator questions, MR-Thinking retries and the PRM's step format.

Everything here is plain string work, so it is importable without torch. The texts are the
upstream ones character for character (those of the upstream generation and PRM-scoring scripts):
a pool generated with them is comparable with the published pools.
"""

from __future__ import annotations

QUESTION_TEMPLATE = (
    "Answer the following questions. You should think step-by-step and put your final answer "
    "within $\\boxed{{answer}}$, where [answer] is just the final number or expression that "
    "solves the problem.\n Question: {problem}"
)
"""User message for a problem (``str.format`` with ``problem``)."""

RETRY_TEMPLATE = (
    "\nThe assistant's previous answer is: $\\boxed{{{previous}}}$, and please re-answer."
)
"""Suffix of a sequential (MR-Thinking) round after the first (``str.format`` with ``previous``)."""

PRM_SYSTEM_PROMPT = "Please reason step by step, and put your final answer within \\boxed{}."
"""System message of every PRM conversation."""

STEP_TAG = "<extra_0>"
"""Token the PRM reads a step reward at; it closes every step."""

STEP_SEPARATOR = "\n\n"
"""A completion's steps are its blank-line-separated paragraphs."""


def question_prompt(problem: str, previous_answer: str | None = None) -> str:
    r"""User message asking ``problem``; with ``previous_answer``, a sequential retry.

    Parameters
    ----------
    problem
        Problem text, as in the prompts file.
    previous_answer
        ``None`` for a parallel sample or the first sequential round; otherwise the previous
        round's answer as [`previous_answer`][optscale_gen.previous_answer] extracts it (possibly
        ``""``: upstream then still writes ``$\boxed{}$``).

    Returns
    -------
    str
        The single user message; the backend wraps it in the generator's chat template.
    """
    prompt = QUESTION_TEMPLATE.format(problem=problem)
    if previous_answer is not None:
        prompt += RETRY_TEMPLATE.format(previous=previous_answer)
    return prompt


def previous_answer(completion: str) -> str:
    r"""Answer that upstream's sequential rounds feed back: upstream's own rule, quirks included.

    This is not the grader's last-``\boxed{}`` extraction. Upstream takes the text between the
    FIRST ``\boxed{`` and the next ``\boxed{`` (or the end), and keeps it up to whichever comes
    first of its first newline and its last ``}``. No ``\boxed{``, or no ``}`` after it, gives
    ``""``. Nested braces therefore survive (``\boxed{\frac{1}{2}}`` gives ``\frac{1}{2}``),
    but trailing text with a brace is kept too. Matching it keeps generated sequential pools
    comparable with the published ones.

    Parameters
    ----------
    completion
        The previous round's completion text.

    Returns
    -------
    str
        The answer to quote in the next round's prompt.
    """
    pieces = completion.split("\\boxed{")
    if len(pieces) < 2:
        return ""
    segment = pieces[1]
    last_brace = segment.rfind("}")
    if last_brace < 0:
        return ""
    newline = segment.find("\n")
    end = last_brace if newline < 0 else min(newline, last_brace)
    return segment[:end]


def split_steps(completion: str) -> list[str]:
    r"""Split a completion into steps: its pieces between blank lines (``"\n\n"``), empty ones kept.

    Parameters
    ----------
    completion
        Completion text.

    Returns
    -------
    list of str
        At least one step (``[""]`` for an empty completion), as upstream's ``str.split``.
    """
    return completion.split(STEP_SEPARATOR)


def prm_messages(problem: str, completion: str) -> list[dict[str, str]]:
    """Chat messages the PRM reads: system prompt, the problem, the tagged steps.

    Parameters
    ----------
    problem
        Problem text (the raw problem, not the generator's templated question).
    completion
        Completion to score.

    Returns
    -------
    list of dict
        ``[system, user, assistant]``; the assistant message is the steps joined with
        [`STEP_TAG`][optscale_gen.STEP_TAG] plus one more [`STEP_TAG`][optscale_gen.STEP_TAG] at the
        end, so a completion with ``s`` steps carries exactly ``s`` tags (when its text holds none
        itself).
    """
    response = STEP_TAG.join(split_steps(completion)) + STEP_TAG
    return [
        {"role": "system", "content": PRM_SYSTEM_PROMPT},
        {"role": "user", "content": problem},
        {"role": "assistant", "content": response},
    ]
