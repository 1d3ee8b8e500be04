from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from optscale_predictor import Split

torch = pytest.importorskip("torch")

from optscale_predictor._backbone import load_backbone, pad_batch, tokenize  # noqa: E402
from optscale_predictor._network import PriorNet  # noqa: E402


def _net(backbone: Path, trainable_layers: int, **kwargs: object) -> tuple[PriorNet, object]:
    torch.manual_seed(0)
    model, tokenizer = load_backbone(backbone)
    return PriorNet(model, trainable_layers=trainable_layers, **kwargs), tokenizer  # type: ignore[arg-type]


def test_output_shape_and_positive_sigma(
    tiny_backbone: Path, tiny_splits: tuple[Split, Split]
) -> None:
    net, tokenizer = _net(tiny_backbone, 1)
    problems = tiny_splits[0].problems[:5]
    batch = pad_batch(tokenizer, tokenize(tokenizer, problems, 32))  # type: ignore[arg-type]
    out = net(**batch)
    assert out.shape == (5, 2)
    assert bool((out[:, 1] > 0).all())


def test_padding_does_not_change_a_prediction(
    tiny_backbone: Path, tiny_splits: tuple[Split, Split]
) -> None:
    net, tokenizer = _net(tiny_backbone, 1)
    net.eval()
    short, long = sorted(tiny_splits[0].problems, key=len)[:: len(tiny_splits[0].problems) - 1]
    rows = tokenize(tokenizer, [short, long], 32)  # type: ignore[arg-type]
    together = net(**pad_batch(tokenizer, rows))  # type: ignore[arg-type]
    alone = net(**pad_batch(tokenizer, rows[:1]))  # type: ignore[arg-type]
    torch.testing.assert_close(together[:1], alone, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("k", [0, 1, 2])
def test_only_the_last_k_layers_and_the_heads_train(tiny_backbone: Path, k: int) -> None:
    net, _ = _net(tiny_backbone, k)
    trainable = {name for name, p in net.named_parameters() if p.requires_grad}
    backbone = {name for name in trainable if name.startswith("backbone.")}
    expected_layers = {f"backbone.encoder.layer.{i}." for i in range(2 - k, 2)}
    assert {name[: len("backbone.encoder.layer.0.")] for name in backbone} == expected_layers
    assert any(name.startswith("mu_head.") for name in trainable)
    assert any(name.startswith("sigma_head.") for name in trainable)
    assert "attention.weight" in trainable


def test_too_many_trainable_layers_is_refused(tiny_backbone: Path) -> None:
    with pytest.raises(ValueError, match=r"trainable_layers must be in 0\.\.2"):
        _net(tiny_backbone, 3)


def test_heads_start_at_the_label_mean(
    tiny_backbone: Path, tiny_splits: tuple[Split, Split]
) -> None:
    net, tokenizer = _net(tiny_backbone, 0, label_mean=(0.9, 0.05))
    # Zero the last layer weights: the output is then exactly the initial bias.
    with torch.no_grad():
        net.mu_head[-1].weight.zero_()
        net.sigma_head[-1].weight.zero_()
    batch = pad_batch(tokenizer, tokenize(tokenizer, tiny_splits[0].problems[:3], 32))  # type: ignore[arg-type]
    out = net(**batch).detach().numpy()
    np.testing.assert_allclose(out, [[0.9, 0.05]] * 3, rtol=1e-5)


def test_a_tiny_batch_overfits(tiny_backbone: Path, tiny_splits: tuple[Split, Split]) -> None:
    net, tokenizer = _net(tiny_backbone, 2, dropout=(0.0, 0.0, 0.0))
    train = tiny_splits[0]
    batch = pad_batch(tokenizer, tokenize(tokenizer, train.problems[:4], 32))  # type: ignore[arg-type]
    targets = torch.tensor(train.labels[:4], dtype=torch.float32)
    optimizer = torch.optim.AdamW(
        [p for p in net.parameters() if p.requires_grad], lr=3e-3, weight_decay=0.0
    )
    start = float(torch.nn.functional.mse_loss(net(**batch), targets).detach())
    for _ in range(60):
        loss = torch.nn.functional.mse_loss(net(**batch), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    end = float(torch.nn.functional.mse_loss(net(**batch), targets).detach())
    assert end < 1e-4 < start


def test_long_problems_are_cut_to_max_length_keeping_the_end_token(tiny_backbone: Path) -> None:
    _, tokenizer = load_backbone(tiny_backbone)
    long = " ".join(["find the value of x"] * 20)
    with pytest.warns(UserWarning, match=r"1 of 2 problems are longer than 16 tokens"):
        rows = tokenize(tokenizer, ["find x", long], 16)
    assert len(rows[1]) == 16
    assert rows[1][-1] == tokenizer.sep_token_id
    assert rows[0] == tokenizer("find x")["input_ids"]
    with pytest.raises(ValueError, match="problem 1 is empty"):
        tokenize(tokenizer, ["find x", ""], 16)
