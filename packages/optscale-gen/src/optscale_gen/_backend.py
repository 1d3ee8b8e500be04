"""Generation backends behind one small interface, and per-sample seeds that make runs resumable.

A backend turns user messages into completions. Each completion has its own seed, derived from
(run seed, problem index, sample index) only, so a sample does not depend on which other samples
shared its batch: a run resumed after a crash produces the samples an uninterrupted run would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class SamplingConfig:
    r"""Sampling parameters; the defaults are upstream's (vLLM, DeepSeek-R1-Distill-Qwen-7B).

    Attributes
    ----------
    temperature
        Softmax temperature, > 0.
    top_p
        Nucleus mass in (0, 1]. Top-k filtering is off, as in vLLM's default.
    max_new_tokens
        Completion length cap; upstream's 10000 cuts some AIME answers before their ``\boxed{}``.
    """

    temperature: float = 0.7
    top_p: float = 0.95
    max_new_tokens: int = 10000

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")


def sample_seed(seed: int, problem: int, sample: int) -> int:
    """Seed of one sample: a function of the run seed and the sample's position only.

    Parameters
    ----------
    seed
        Run seed (>= 0).
    problem, sample
        0-based problem index and sample index within the problem.

    Returns
    -------
    int
        A 31-bit seed, well mixed (``numpy.random.SeedSequence``), so neighbouring samples get
        unrelated streams.
    """
    if min(seed, problem, sample) < 0:
        raise ValueError(f"seed, problem and sample must be >= 0, got {(seed, problem, sample)}")
    state = np.random.SeedSequence([seed, problem, sample]).generate_state(1)[0]
    return int(state) & 0x7FFFFFFF


@runtime_checkable
class GenerationBackend(Protocol):
    """What the runner needs from a generator.

    Implementations: [`TransformersBackend`][optscale_gen.TransformersBackend] (CPU, tests, small
    runs) and [`VLLMBackend`][optscale_gen.VLLMBackend] (GPUs). Anything with these two methods
    works, e.g. a client for a remote server.
    """

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[str]:
        """Complete each user message (the backend applies the chat template) with its seed."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token count of each text with the generator's tokenizer, as upstream counts them."""
        ...


def count_tokens(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    """Upstream's token count: ``len(tokenizer.encode(text))``, special tokens included.

    Parameters
    ----------
    tokenizer
        A Hugging Face tokenizer.
    texts
        Completion texts.

    Returns
    -------
    list of int
        Counts; a tokenizer that adds a BOS token (DeepSeek-R1-Distill) counts it, as upstream.
    """
    return [len(tokenizer(text)["input_ids"]) for text in texts]


def chat_prompt(tokenizer: Any, message: str) -> str:
    """Wrap one user message in the generator's chat template, ready for the assistant's turn."""
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": message}], tokenize=False, add_generation_prompt=True
    )
    return str(text)


class TransformersBackend:
    """Generation with Hugging Face transformers, one sample at a time, each under its own seed.

    Slow, but exact per sample: ``torch.manual_seed(seed)`` inside a forked RNG state, batch of
    one, so a sample is the same whichever samples are generated before or after it. Meant for
    CPU tests and small models; use [`VLLMBackend`][optscale_gen.VLLMBackend] for real runs.

    Parameters
    ----------
    model
        A causal LM (``transformers.PreTrainedModel``), already on its device.
    tokenizer
        Its tokenizer, with a chat template.
    sampling
        Sampling parameters.
    """

    def __init__(self, model: Any, tokenizer: Any, sampling: SamplingConfig | None = None) -> None:
        if getattr(tokenizer, "chat_template", None) is None:
            raise ValueError("the generator's tokenizer has no chat template")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.sampling = sampling or SamplingConfig()

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        sampling: SamplingConfig | None = None,
        *,
        device: str = "cpu",
        dtype: str = "auto",
    ) -> TransformersBackend:
        """Load a model directory (or hub name) with ``AutoModelForCausalLM``.

        Parameters
        ----------
        path
            Model directory holding weights, config and tokenizer.
        sampling
            Sampling parameters (upstream defaults when None).
        device
            Torch device string.
        dtype
            ``"auto"`` (the checkpoint's) or a torch dtype name such as ``"bfloat16"``.
        """
        import transformers

        tokenizer = transformers.AutoTokenizer.from_pretrained(str(path))
        model: Any = transformers.AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype)
        return cls(model.to(device), tokenizer, sampling)

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[str]:
        """Complete each user message with its own seed; see the class docstring."""
        if len(prompts) != len(seeds):
            raise ValueError(f"{len(prompts)} prompts but {len(seeds)} seeds")
        return [
            self._generate_one(prompt, seed) for prompt, seed in zip(prompts, seeds, strict=True)
        ]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token counts with the generator's tokenizer (see `count_tokens`)."""
        return count_tokens(self.tokenizer, texts)

    def _generate_one(self, prompt: str, seed: int) -> str:
        import torch
        import transformers

        device = self.model.device
        encoded = self.tokenizer(
            chat_prompt(self.tokenizer, prompt), return_tensors="pt", add_special_tokens=False
        ).to(device)
        pad_id = self.tokenizer.pad_token_id
        config_class: Any = transformers.GenerationConfig
        config = config_class(
            do_sample=True,
            temperature=self.sampling.temperature,
            top_p=self.sampling.top_p,
            top_k=0,
            max_new_tokens=self.sampling.max_new_tokens,
            eos_token_id=self.tokenizer.eos_token_id,
            pad_token_id=self.tokenizer.eos_token_id if pad_id is None else pad_id,
        )
        devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.inference_mode():
            torch.manual_seed(seed)
            output = self.model.generate(**encoded, generation_config=config)
        new_tokens = output[0, encoded["input_ids"].shape[1] :]
        return str(self.tokenizer.decode(new_tokens, skip_special_tokens=True))
