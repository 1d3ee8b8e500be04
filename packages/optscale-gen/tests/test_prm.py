from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from optscale_gen import STEP_TAG, PrmScorer, prm_messages

COMPLETIONS = [
    "First add.\n\nSo the answer is \\boxed{5}.",
    "",
    "x\n\n\n\ny\n\nz 1 2 3\n\n\\boxed{3}",
    "one step only",
    "a\n\nb",
]
PROBLEMS = ["What is 2 + 3?", "What is 7 - 4?", "Compute 3 * 3.", "What is 1 + 0?", "P"]


def oracle_rewards(scorer: PrmScorer, problem: str, completion: str) -> np.ndarray:
    """One unpadded conversation through the model, tags found by decoding each token."""
    import torch

    tokenizer = scorer.tokenizer
    text = tokenizer.apply_chat_template(
        prm_messages(problem, completion), tokenize=False, add_generation_prompt=False
    )
    ids = tokenizer.encode(text)
    with torch.no_grad():
        logits = scorer.model(input_ids=torch.tensor([ids])).logits[0].double()
    probabilities = torch.softmax(logits, dim=-1)[:, 1].numpy()
    return np.array(
        [p for p, t in zip(probabilities, ids, strict=True) if tokenizer.decode([t]) == STEP_TAG]
    )


@pytest.mark.parametrize("batch_size", [1, 2, 5])
def test_batched_step_rewards_match_one_at_a_time(scorer: PrmScorer, batch_size: int) -> None:
    batched = PrmScorer(scorer.model, scorer.tokenizer, batch_size=batch_size)
    rewards = batched.step_rewards(PROBLEMS, COMPLETIONS)
    for problem, completion, got in zip(PROBLEMS, COMPLETIONS, rewards, strict=True):
        expected = oracle_rewards(scorer, problem, completion)
        assert got.shape == (len(completion.split("\n\n")),)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_scores_are_mean_and_last_step_reward(scorer: PrmScorer) -> None:
    scores, last = scorer.score(PROBLEMS, COMPLETIONS)
    rewards = [oracle_rewards(scorer, p, c) for p, c in zip(PROBLEMS, COMPLETIONS, strict=True)]
    np.testing.assert_allclose(scores, [r.mean() for r in rewards], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(last, [r[-1] for r in rewards], rtol=1e-5, atol=1e-6)
    assert np.all((scores >= 0) & (scores <= 1))
    assert not np.allclose(scores[2], last[2])  # several steps: the mean is not the last


def test_no_step_scores_zero(scorer: PrmScorer) -> None:
    class DropsTheResponse:
        """A chat template that leaves the assistant's message out: no tag reaches the PRM."""

        chat_template = "system+user only"
        pad_token_id = scorer.tokenizer.pad_token_id
        eos_token_id = scorer.tokenizer.eos_token_id

        def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
            return list(scorer.tokenizer.encode(text, add_special_tokens=add_special_tokens))

        def apply_chat_template(self, messages: list[dict[str, str]], **_: Any) -> str:
            return messages[0]["content"] + messages[1]["content"]

        def __call__(self, text: str) -> dict[str, list[int]]:
            return {"input_ids": self.encode(text)}

    blind = PrmScorer(scorer.model, DropsTheResponse())
    scores, last = blind.score(["P"], ["a\n\nb"])
    assert scores.tolist() == [0.0]
    assert last.tolist() == [0.0]


def test_step_tag_must_be_one_token(scorer: PrmScorer) -> None:
    class SplitsTheTag:
        chat_template = "x"

        def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
            return [1, 2, 3]

    with pytest.raises(ValueError, match="splits '<extra_0>' into 3 tokens"):
        PrmScorer(scorer.model, SplitsTheTag())


def test_bad_arguments_are_refused(scorer: PrmScorer) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        PrmScorer(scorer.model, scorer.tokenizer, batch_size=0)
    with pytest.raises(ValueError, match="2 problems but 1 completions"):
        scorer.score(["a", "b"], ["c"])
