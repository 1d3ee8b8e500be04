"""The vLLM backend: the real thing on GPUs, with vLLM's own tensor and pipeline parallelism.

vLLM is not a dependency of optscale-gen (its wheels pin their own torch and CUDA stack); install
it next to optscale-gen with ``pip install vllm``. Importing this module never imports vllm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from optscale_gen._backend import SamplingConfig, chat_prompt, count_tokens

VLLM_MISSING = (
    "the vLLM backend needs vllm, which optscale-gen does not install (it pins its own torch): "
    "run `pip install vllm` in this environment, or use --backend transformers"
)


def import_vllm() -> Any:
    """Import vllm, or fail with a message saying how to install it."""
    try:
        import vllm  # type: ignore[import-not-found,unused-ignore]
    except ImportError as error:
        raise ImportError(VLLM_MISSING) from error
    return vllm


class VLLMBackend:
    """Generation with a vLLM engine (``vllm.LLM``), one request per sample, seeded per sample.

    All prompts of a call go to the engine at once and vLLM batches them continuously. Each
    request carries its own ``seed``, so a sample does not depend on the others in the call
    (up to the floating-point effects of batching on GPU kernels, which vLLM does not promise
    to remove).

    Parameters
    ----------
    model
        Model directory or hub name.
    sampling
        Sampling parameters (upstream defaults when None).
    tensor_parallel_size
        GPUs each layer is split over (vLLM ``tensor_parallel_size``).
    pipeline_parallel_size
        Stages the layers are split into (vLLM ``pipeline_parallel_size``); across nodes with Ray.
    distributed_executor_backend
        ``None`` (vLLM chooses), ``"mp"`` (one node) or ``"ray"`` (a Ray cluster, several nodes).
    gpu_memory_utilization
        Share of each GPU vLLM may take; lower it when a PRM shares the GPU.
    max_model_len
        Context length (prompt + completion); upstream 10000.
    dtype
        Weights dtype (``"auto"``, ``"bfloat16"``, ...).
    engine_kwargs
        Any other ``vllm.LLM`` keyword argument, passed through unchanged.
    """

    def __init__(
        self,
        model: str,
        sampling: SamplingConfig | None = None,
        *,
        tensor_parallel_size: int = 1,
        pipeline_parallel_size: int = 1,
        distributed_executor_backend: str | None = None,
        gpu_memory_utilization: float = 0.9,
        max_model_len: int = 10000,
        dtype: str = "auto",
        engine_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self._vllm = import_vllm()
        self.sampling = sampling or SamplingConfig()
        self.llm = self._vllm.LLM(
            model=model,
            tensor_parallel_size=tensor_parallel_size,
            pipeline_parallel_size=pipeline_parallel_size,
            distributed_executor_backend=distributed_executor_backend,
            gpu_memory_utilization=gpu_memory_utilization,
            max_model_len=max_model_len,
            dtype=dtype,
            **dict(engine_kwargs or {}),
        )
        self.tokenizer = self.llm.get_tokenizer()

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[str]:
        """Complete each user message with its own seed, all in one engine call."""
        if len(prompts) != len(seeds):
            raise ValueError(f"{len(prompts)} prompts but {len(seeds)} seeds")
        params = [
            self._vllm.SamplingParams(
                temperature=self.sampling.temperature,
                top_p=self.sampling.top_p,
                max_tokens=self.sampling.max_new_tokens,
                seed=seed,
            )
            for seed in seeds
        ]
        texts = [chat_prompt(self.tokenizer, prompt) for prompt in prompts]
        outputs = self.llm.generate(texts, params, use_tqdm=False)
        return [str(output.outputs[0].text) for output in outputs]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token counts with the generator's tokenizer (see `count_tokens`)."""
        return count_tokens(self.tokenizer, texts)
