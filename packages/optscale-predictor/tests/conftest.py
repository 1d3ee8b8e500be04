"""Fixtures: a tiny random BERT and a tokenizer trained on the spot (no downloads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from optscale_predictor import Split

WORDS = [
    "find",
    "the",
    "value",
    "of",
    "x",
    "if",
    "two",
    "plus",
    "three",
    "equals",
    "y",
    "compute",
    "sum",
    "product",
    "of",
    "all",
    "integers",
    "between",
    "one",
    "and",
    "ten",
    "what",
    "is",
    "largest",
    "prime",
    "factor",
    "triangle",
    "has",
    "sides",
    "circle",
    "radius",
    "area",
    "probability",
    "that",
    "a",
    "fair",
    "coin",
    "lands",
    "heads",
    "how",
    "many",
    "ways",
    "can",
    "we",
    "arrange",
    "letters",
]


def make_problems(count: int, rng: np.random.Generator) -> list[str]:
    """Random short 'problems' from the fixed vocabulary, all distinct."""
    problems: set[str] = set()
    while len(problems) < count:
        length = int(rng.integers(3, 12))
        problems.add(" ".join(rng.choice(WORDS, size=length)) + f" {len(problems)}?")
    return sorted(problems)


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> None:
    """Tiny models gain nothing from threads, and OpenMP spinning on a busy machine costs a lot."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide BERT and a 120-token WordPiece tokenizer saved to a directory."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    corpus = [" ".join(WORDS[i:] + WORDS[:i]) for i in range(len(WORDS))] + list("0123456789?")
    tokenizer.train_from_iterator(
        corpus, trainers.WordPieceTrainer(vocab_size=120, special_tokens=specials)
    )
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=64,
    )
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(fast),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    path = tmp_path_factory.mktemp("tiny-bert")
    BertModel(config).save_pretrained(path)
    fast.save_pretrained(path)
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261129)


@pytest.fixture
def tiny_splits(rng: np.random.Generator) -> tuple[Split, Split]:
    """12 training and 4 validation problems with labels in the range the real ones take."""
    problems = make_problems(16, rng)
    labels = np.column_stack([rng.uniform(0.6, 1.0, 16), rng.uniform(0.01, 0.2, 16)])
    levels: list[int | None] = [int(level) for level in rng.integers(1, 6, 16)]
    train = Split(problems=problems[:12], labels=labels[:12], levels=levels[:12])
    val = Split(problems=problems[12:], labels=labels[12:], levels=levels[12:])
    return train, val


@pytest.fixture
def light_checkpoint(tmp_path: Path, tiny_backbone: Path, tiny_splits: tuple[Split, Split]) -> Path:
    """A light predictor trained on the tiny splits (max_length 60)."""
    from optscale_predictor import LightConfig, train

    config = LightConfig(backbone=str(tiny_backbone), max_length=60, folds=3, alphas=(1.0, 10.0))
    train(tmp_path / "light", config=config, data=tiny_splits, progress=False)
    return tmp_path / "light"
