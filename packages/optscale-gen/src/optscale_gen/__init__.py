"""Make OptScale pools: generation, PRM scoring and adaptive sampling, resumable.

Generation runs behind one small interface, [`GenerationBackend`][optscale_gen.GenerationBackend]:
[`VLLMBackend`][optscale_gen.VLLMBackend] on GPUs (vLLM is installed separately) and
[`TransformersBackend`][optscale_gen.TransformersBackend] on CPU.
[`PrmScorer`][optscale_gen.PrmScorer] scores completions as upstream does with Qwen2.5-Math-PRM.
[`generate_samples`][optscale_gen.generate_samples] runs waves of samples through both, journaling
every finished chunk in a [`Journal`][optscale_gen.Journal], and stops problems early when given
optscale-math Allocators. Importing this package imports neither torch nor transformers nor vllm;
they load when a model does. The command line is ``optscale-gen``.
"""

from importlib.metadata import version as _version

from optscale_gen._backend import (
    GenerationBackend,
    SamplingConfig,
    TransformersBackend,
    count_tokens,
    sample_seed,
)
from optscale_gen._journal import Journal, JournalError, SampleRecord
from optscale_gen._output import pool_items, write_pool
from optscale_gen._prm import PrmScorer
from optscale_gen._prompts import (
    PRM_SYSTEM_PROMPT,
    QUESTION_TEMPLATE,
    RETRY_TEMPLATE,
    STEP_TAG,
    previous_answer,
    prm_messages,
    question_prompt,
    split_steps,
)
from optscale_gen._runner import RunPlan, Scorer, generate_samples, score_samples
from optscale_gen._vllm import VLLMBackend

__all__ = [
    "PRM_SYSTEM_PROMPT",
    "QUESTION_TEMPLATE",
    "RETRY_TEMPLATE",
    "STEP_TAG",
    "GenerationBackend",
    "Journal",
    "JournalError",
    "PrmScorer",
    "RunPlan",
    "SampleRecord",
    "SamplingConfig",
    "Scorer",
    "TransformersBackend",
    "VLLMBackend",
    "count_tokens",
    "generate_samples",
    "pool_items",
    "previous_answer",
    "prm_messages",
    "question_prompt",
    "sample_seed",
    "score_samples",
    "split_steps",
    "write_pool",
]

__version__ = _version("optscale-gen")
"""The installed distribution's version (from its metadata)."""
