"""Completion pools: read, write, grade, replay and simulate.

The public API is what this module exports in ``__all__``. The simulator (``simulate_dataset``,
``simulate_pool``, ``SimulationParams``, ``load_params``) is imported on first use: it needs
``scipy.stats``, whose import costs seconds, and every grading worker process imports this
package.
"""

import importlib
from importlib.metadata import version as _version
from typing import TYPE_CHECKING

from optscale_pools.answers import extract_boxed
from optscale_pools.atomic import (
    UnsafePathError,
    atomic_folder,
    atomic_output,
    atomic_path,
    check_relative_name,
    contained_path,
    write_bytes_atomic,
    write_text_atomic,
)
from optscale_pools.bootstrap import Resampling, draw_resampling
from optscale_pools.crossfit import CrossFitResult, best_setting, cross_fit, select_cell
from optscale_pools.download import ChecksumError, FetchError
from optscale_pools.engine import Method, check_budgets, evaluate
from optscale_pools.evaluation import CurvePoint, EvalPool, Evaluation, SettingPoint
from optscale_pools.fetch import (
    NoSourceError,
    cache_root,
    data_file,
    fetch,
    load_manifest,
)
from optscale_pools.grading import GRADER_VERSION, Grades, grade_pool
from optscale_pools.jsonl import PoolJsonlWriter, read_pool_jsonl, read_search_and_learn
from optscale_pools.oracle import OracleCurve, oracle_bound
from optscale_pools.oracle_stop import (
    first_correct_prefix,
    hindsight_stop,
    running_best,
    running_majority,
)
from optscale_pools.pool import Pool, PoolFormatError
from optscale_pools.prompts import Prompts, normalise_text, read_prompts
from optscale_pools.protocol import NO_ANSWER, PoolView
from optscale_pools.replay import (
    ReplayResult,
    SampleOrders,
    correctness_for,
    draw_orders,
    replay,
)
from optscale_pools.selection import Selected, select_setting
from optscale_pools.summary import Estimate, Headline, HeadlineRow, headline
from optscale_pools.tidy import TidySamples, read_tidy, tidy_pool
from optscale_pools.upstream import read_upstream_pool, upstream_record, write_upstream_pool
from optscale_pools.view import make_view

if TYPE_CHECKING:
    from optscale_pools.simulate import simulate_dataset, simulate_pool
    from optscale_pools.simulation_model import SimulationParams, load_params

_LAZY = {
    "simulate_dataset": "optscale_pools.simulate",
    "simulate_pool": "optscale_pools.simulate",
    "SimulationParams": "optscale_pools.simulation_model",
    "load_params": "optscale_pools.simulation_model",
}


def __getattr__(name: str) -> object:
    """Import the simulator lazily (see the module docstring)."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    msg = f"module 'optscale_pools' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "GRADER_VERSION",
    "NO_ANSWER",
    "ChecksumError",
    "CrossFitResult",
    "CurvePoint",
    "Estimate",
    "EvalPool",
    "Evaluation",
    "FetchError",
    "Grades",
    "Headline",
    "HeadlineRow",
    "Method",
    "NoSourceError",
    "OracleCurve",
    "Pool",
    "PoolFormatError",
    "PoolJsonlWriter",
    "PoolView",
    "Prompts",
    "ReplayResult",
    "Resampling",
    "SampleOrders",
    "Selected",
    "SettingPoint",
    "SimulationParams",
    "TidySamples",
    "UnsafePathError",
    "atomic_folder",
    "atomic_output",
    "atomic_path",
    "best_setting",
    "cache_root",
    "check_budgets",
    "check_relative_name",
    "contained_path",
    "correctness_for",
    "cross_fit",
    "data_file",
    "draw_orders",
    "draw_resampling",
    "evaluate",
    "extract_boxed",
    "fetch",
    "first_correct_prefix",
    "grade_pool",
    "headline",
    "hindsight_stop",
    "load_manifest",
    "load_params",
    "make_view",
    "normalise_text",
    "oracle_bound",
    "read_pool_jsonl",
    "read_prompts",
    "read_search_and_learn",
    "read_tidy",
    "read_upstream_pool",
    "replay",
    "running_best",
    "running_majority",
    "select_cell",
    "select_setting",
    "simulate_dataset",
    "simulate_pool",
    "tidy_pool",
    "upstream_record",
    "write_bytes_atomic",
    "write_text_atomic",
    "write_upstream_pool",
]

__version__ = _version("optscale-pools")
"""The installed distribution's version (from its metadata)."""
