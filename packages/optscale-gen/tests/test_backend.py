from __future__ import annotations

import sys
from typing import Any

import pytest
from optscale_gen import (
    GenerationBackend,
    SamplingConfig,
    TransformersBackend,
    VLLMBackend,
    count_tokens,
    question_prompt,
    sample_seed,
)


def test_upstream_sampling_defaults() -> None:
    assert SamplingConfig() == SamplingConfig(temperature=0.7, top_p=0.95, max_new_tokens=10000)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": 0.0}, "temperature"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
    ],
)
def test_bad_sampling_parameters_are_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SamplingConfig(**kwargs)


def test_sample_seeds_depend_on_position_only() -> None:
    seeds = {sample_seed(7, i, j) for i in range(20) for j in range(20)}
    assert len(seeds) == 400
    assert sample_seed(7, 3, 4) == sample_seed(7, 3, 4)
    assert sample_seed(7, 3, 4) != sample_seed(8, 3, 4)
    assert all(0 <= s < 2**31 for s in seeds)
    with pytest.raises(ValueError, match=">= 0"):
        sample_seed(0, -1, 0)


def test_a_sample_does_not_depend_on_its_batch(generator: TransformersBackend) -> None:
    prompts = [question_prompt("What is 2 + 3?"), question_prompt("Compute 3 * 3.")]
    together = generator.generate(prompts * 2, [11, 12, 13, 14])
    alone = [
        generator.generate([p], [s])[0] for p, s in zip(prompts * 2, [11, 12, 13, 14], strict=True)
    ]
    reversed_order = generator.generate((prompts * 2)[::-1], [14, 13, 12, 11])[::-1]
    assert together == alone == reversed_order
    assert len(set(together)) == 4  # different seeds, different samples


def test_token_counts_are_the_generator_tokenizers(generator: TransformersBackend) -> None:
    texts = ["", "What is 2 + 3?", "So the answer is \\boxed{5}.\n\nDone"]
    expected = [len(generator.tokenizer.encode(t)) for t in texts]
    assert generator.count_tokens(texts) == count_tokens(generator.tokenizer, texts) == expected
    assert expected[0] == 0
    assert expected[2] > expected[1] > 0


def test_backends_satisfy_the_protocol(generator: TransformersBackend) -> None:
    assert isinstance(generator, GenerationBackend)


def test_mismatched_seeds_are_refused(generator: TransformersBackend) -> None:
    with pytest.raises(ValueError, match="2 prompts but 1 seeds"):
        generator.generate(["a", "b"], [1])


def test_tokenizer_without_chat_template_is_refused(generator: TransformersBackend) -> None:
    class Bare:
        chat_template = None

    with pytest.raises(ValueError, match="chat template"):
        TransformersBackend(generator.model, Bare())


def test_missing_vllm_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    with pytest.raises(ImportError, match="pip install vllm"):
        VLLMBackend("any-model")
