"""The five datasets of the paper: names, upstream file paths and where real pools are looked for.

Upstream spells a dataset in capitals in its result files (``AIME24_BoN_results.json``) and in
lower case in its prompt and pool files; this module is the one place that knows both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

POOL_FILE_PATTERN = "scored_qwen7b_{kind}_{key}_64.json"
"""Upstream pool file names (``kind``: ``par`` or ``seq``), as in the paper's Google Drive."""

PAPER_NS = (8, 16, 32, 64)
"""The sample budgets N of the paper's table."""


def table_budgets(k: int) -> list[int]:
    """Return a table's budgets for ``k`` samples per problem: the paper's up to ``k``, and ``k``.

    A pool of the paper's ``K = 64`` gets exactly ``PAPER_NS``; ``K = 10`` gets 8 and 10,
    ``K = 4`` gets 4, ``K = 128`` gets 8..64 and 128.
    """
    return [n for n in PAPER_NS if n <= k] + ([] if k in PAPER_NS else [k])


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset of the paper.

    Attributes
    ----------
    key
        Lower-case name used on the command line and in pool file names (``aime24``).
    upstream
        Capitalised name of upstream's result files (``AIME24``).
    prompts
        Path of the prompts file relative to the upstream data root.
    """

    key: str
    upstream: str
    prompts: str

    def pool_file(self, kind: str) -> str:
        """File name of the upstream pool of this dataset; ``kind`` is ``"par"`` or ``"seq"``."""
        return POOL_FILE_PATTERN.format(kind=kind, key=self.key)

    def find_real_pool(self, pools_dir: Path, kind: str) -> Path | None:
        """Return the real pool placed by the user under ``pools_dir``, or None when absent."""
        path = pools_dir / self.pool_file(kind)
        return path if path.is_file() else None


DATASETS: dict[str, DatasetSpec] = {
    spec.key: spec
    for spec in (
        DatasetSpec("aime24", "AIME24", "data/test_prompts/aime24.json"),
        DatasetSpec("aime25", "AIME25", "data/test_prompts/aime25.json"),
        DatasetSpec("amc23", "AMC23", "data/test_prompts/amc23.json"),
        DatasetSpec("math500", "MATH500", "data/test_prompts/math500_test.json"),
        DatasetSpec("gsm8k", "GSM8K", "data/test_prompts/gsm8k_test.json"),
    )
}
"""Every dataset of the paper, by command-line name."""
