"""The paper's prior network: a backbone, softmax attention pooling, two MLP heads.

This module imports torch at the top; the package imports it only when a network is built.
"""

from __future__ import annotations

import math
from typing import cast

import torch
from torch import nn
from transformers import PreTrainedModel

HIDDEN = (512, 256, 128)
"""Hidden widths of each head (upstream ``train_predictor``)."""
DROPOUT = (0.2, 0.2, 0.1)
"""Dropout after each hidden layer of each head (upstream)."""


def _head(width: int, hidden: tuple[int, ...], dropout: tuple[float, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for size, rate in zip(hidden, dropout, strict=True):
        layers += [nn.Linear(width, size), nn.GELU(), nn.Dropout(rate)]
        width = size
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def _layer_stack(backbone: nn.Module) -> nn.ModuleList:
    """Find the backbone's list of transformer blocks: its largest ``ModuleList``."""
    stacks = [module for module in backbone.modules() if isinstance(module, nn.ModuleList)]
    if not stacks:
        raise ValueError(f"{type(backbone).__name__} has no list of layers to unfreeze")
    return max(stacks, key=len)


class PriorNet(nn.Module):
    r"""Backbone + attention pooling + separate heads for mu and sigma.

    Parameters
    ----------
    backbone : PreTrainedModel
        Any Hugging Face model whose output has ``last_hidden_state`` (encoder or decoder).
    trainable_layers : int
        How many of the backbone's last layers are trained; all others are frozen (0: none).
    label_mean : tuple of float
        Mean training ``(mu, sigma)``: the heads start out predicting it.
    hidden, dropout : tuple
        Head widths and dropout rates.

    Notes
    -----
    With token states $h_t$ and mask $m_t$, the pooled state is
    $\bar h = \sum_t a_t h_t$ with $a = \operatorname{softmax}_t(w^\top h_t)$ over $m_t = 1$.
    Then $\mu = f_\mu(\bar h)$ and $\sigma = \operatorname{softplus}(f_\sigma(\bar h))$, so
    $\sigma > 0$.
    """

    def __init__(
        self,
        backbone: PreTrainedModel,
        *,
        trainable_layers: int,
        label_mean: tuple[float, float] = (0.5, 0.1),
        hidden: tuple[int, ...] = HIDDEN,
        dropout: tuple[float, ...] = DROPOUT,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        width = int(backbone.config.hidden_size)
        self.attention = nn.Linear(width, 1)
        self.mu_head = _head(width, hidden, dropout)
        self.sigma_head = _head(width, hidden, dropout)
        mu, sigma = label_mean
        with torch.no_grad():
            cast(nn.Linear, self.mu_head[-1]).bias.fill_(mu)
            cast(nn.Linear, self.sigma_head[-1]).bias.fill_(math.log(math.expm1(max(sigma, 1e-6))))
        self.backbone.requires_grad_(False)
        layers = _layer_stack(self.backbone)
        if not 0 <= trainable_layers <= len(layers):
            raise ValueError(
                f"trainable_layers must be in 0..{len(layers)} for this backbone, "
                f"got {trainable_layers}"
            )
        for layer in list(layers)[len(layers) - trainable_layers :]:
            layer.requires_grad_(True)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Predict ``[mu, sigma]`` per row: a tensor of shape ``(batch, 2)``."""
        states = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        scores = self.attention(states).squeeze(-1)
        scores = scores.masked_fill(attention_mask == 0, torch.finfo(scores.dtype).min)
        weights = torch.softmax(scores, dim=-1)
        pooled = torch.einsum("bt,btd->bd", weights, states)
        mu = self.mu_head(pooled).squeeze(-1)
        sigma = nn.functional.softplus(self.sigma_head(pooled).squeeze(-1))
        return torch.stack([mu, sigma], dim=-1)
