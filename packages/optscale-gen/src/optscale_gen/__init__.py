"""Make OptScale pools: generation, PRM scoring and adaptive sampling, resumable.

Generation runs behind one small interface, [`GenerationBackend`][optscale_gen.GenerationBackend]:
[`VLLMBackend`][optscale_gen.VLLMBackend] on GPUs (vLLM is installed separately) and
[`TransformersBackend`][optscale_gen.TransformersBackend] on CPU.
[`PrmScorer`][optscale_gen.PrmScorer] scores completions as upstream does with Qwen2.5-Math-PRM.
[`generate_samples`][optscale_gen.generate_samples] runs waves of samples through both, journaling
every finished chunk in a [`Journal`][optscale_gen.Journal], and stops problems early when given
optscale-math Allocators. [`adaptive_sample`][optscale_gen.adaptive_sample] runs the same adaptive
loop over the caller's own async generator and scorer, and [`create_app`][optscale_gen.create_app]
(``optscale-gen serve``) puts it behind an OpenAI-compatible HTTP server, scoring with
[`LocalPrmScorer`][optscale_gen.LocalPrmScorer] or
[`HttpRewardScorer`][optscale_gen.HttpRewardScorer]. Importing this package imports neither torch
nor transformers nor vllm; they load when a model does. The command line is ``optscale-gen``.
"""

from importlib.metadata import version as _version

from optscale_gen._adaptive import AdaptiveResult, Scored, Wave, adaptive_sample
from optscale_gen._backend import (
    GenerationBackend,
    SamplingConfig,
    TransformersBackend,
    count_tokens,
    sample_seed,
)
from optscale_gen._chat import RuleDefaults
from optscale_gen._errors import ServeError
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
from optscale_gen._scoring import HttpRewardScorer, LocalPrmScorer
from optscale_gen._server import ServeConfig, create_app
from optscale_gen._vllm import VLLMBackend

__all__ = [
    "PRM_SYSTEM_PROMPT",
    "QUESTION_TEMPLATE",
    "RETRY_TEMPLATE",
    "STEP_TAG",
    "AdaptiveResult",
    "GenerationBackend",
    "HttpRewardScorer",
    "Journal",
    "JournalError",
    "LocalPrmScorer",
    "PrmScorer",
    "RuleDefaults",
    "RunPlan",
    "SampleRecord",
    "SamplingConfig",
    "Scored",
    "Scorer",
    "ServeConfig",
    "ServeError",
    "TransformersBackend",
    "VLLMBackend",
    "Wave",
    "adaptive_sample",
    "count_tokens",
    "create_app",
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
