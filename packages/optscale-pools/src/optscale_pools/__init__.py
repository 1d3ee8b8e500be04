"""Completion pools: read, write, grade, replay and simulate.

The public API is what this module exports in ``__all__``. ``simulate_dataset`` is imported on
first use: the simulator needs ``scipy.stats``, whose import costs seconds, and every grading
worker process imports this package.
"""

from typing import TYPE_CHECKING

from optscale_pools.answers import extract_boxed
from optscale_pools.crossfit import CrossFitResult, cross_fit, select_cell
from optscale_pools.fetch import ChecksumError, cache_root, data_file, fetch, load_manifest
from optscale_pools.grading import GRADER_VERSION, Grades, grade_pool
from optscale_pools.jsonl import PoolJsonlWriter, read_pool_jsonl, read_search_and_learn
from optscale_pools.oracle import OracleCurve, oracle_bound
from optscale_pools.pool import Pool, PoolFormatError
from optscale_pools.prompts import Prompts, normalise_text, read_prompts
from optscale_pools.protocol import NO_ANSWER, Decisions, DecisionsLike, Policy, PoolView
from optscale_pools.replay import ReplayResult, correctness_for, replay
from optscale_pools.upstream import read_upstream_pool, upstream_record, write_upstream_pool
from optscale_pools.view import make_view

if TYPE_CHECKING:
    from optscale_pools.simulate import simulate_dataset


def __getattr__(name: str) -> object:
    """Import ``simulate_dataset`` lazily (see the module docstring)."""
    if name == "simulate_dataset":
        from optscale_pools.simulate import simulate_dataset

        return simulate_dataset
    msg = f"module 'optscale_pools' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "GRADER_VERSION",
    "NO_ANSWER",
    "ChecksumError",
    "CrossFitResult",
    "Decisions",
    "DecisionsLike",
    "Grades",
    "OracleCurve",
    "Policy",
    "Pool",
    "PoolFormatError",
    "PoolJsonlWriter",
    "PoolView",
    "Prompts",
    "ReplayResult",
    "cache_root",
    "correctness_for",
    "cross_fit",
    "data_file",
    "extract_boxed",
    "fetch",
    "grade_pool",
    "load_manifest",
    "make_view",
    "normalise_text",
    "oracle_bound",
    "read_pool_jsonl",
    "read_prompts",
    "read_search_and_learn",
    "read_upstream_pool",
    "replay",
    "select_cell",
    "simulate_dataset",
    "upstream_record",
    "write_upstream_pool",
]
