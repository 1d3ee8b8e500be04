"""The finished pool: journaled samples assembled into upstream items, written atomically."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from optscale_pools import upstream_record, write_text_atomic

from optscale_gen._journal import SampleRecord


def pool_items(
    problems: Sequence[str], records: Mapping[int, Sequence[SampleRecord]]
) -> list[dict[str, Any]]:
    """Upstream items, one per problem in prompts order, from each problem's samples.

    ``output`` and ``score["pred"]`` hold the best-scoring completion (first on ties), as
    upstream's scoring script writes them; ``n`` is the number of samples, which differs between
    problems in adaptive mode.

    Raises
    ------
    ValueError
        When a problem has no samples, or its samples are not numbered ``0..n-1``.
    """
    items = []
    for index, problem in enumerate(problems):
        samples = list(records.get(index, ()))
        if [r.sample for r in samples] != list(range(len(samples))) or not samples:
            raise ValueError(f"problem {index}: samples missing (journal incomplete)")
        best = max(range(len(samples)), key=lambda j: (samples[j].score, -j))
        items.append(
            upstream_record(
                index + 1,
                problem,
                [r.completion for r in samples],
                [r.score for r in samples],
                [r.last_score for r in samples],
                [r.tokens for r in samples],
                output=samples[best].completion,
                pred=samples[best].completion,
            )
        )
    return items


def write_pool(path: str | Path, items: Sequence[dict[str, Any]]) -> Path:
    """Write items as an upstream pool (a JSON list) via a temporary file and ``os.replace``."""
    target = Path(path)
    body = ",\n".join(json.dumps(item, ensure_ascii=False, allow_nan=False) for item in items)
    return write_text_atomic(target, f"[\n{body}\n]\n")
