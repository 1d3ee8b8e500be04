"""Training the full variant: AdamW, warm-up + linear decay, clipping, early stopping, resume.

Checkpoint directory layout (``out``):

- ``predictor.json``: variant, settings, training mean of the labels, history, best epoch.
- ``backbone/``: the backbone's config and tokenizer (the weights live in ``model.safetensors``),
  so a checkpoint loads without the original backbone directory.
- ``model.safetensors``: the network with the lowest validation loss so far.
- ``state-<epoch>/``: everything needed to resume after that epoch (model, optimizer, scheduler,
  RNG states: ``accelerate``'s ``save_state``) plus ``progress.json``; ``state.json`` names the
  latest complete one and is replaced atomically, so a crash at any point leaves a consistent
  checkpoint.

Batches (length-bucketed) come from ``numpy.random.default_rng([seed, epoch])`` and the torch
RNG is restored on resume, so an interrupted run that resumes ends where the uninterrupted run ends.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from optscale_pools import atomic_path
from safetensors.torch import load_model, save_model
from tqdm.auto import tqdm
from transformers import AutoConfig, AutoModel, AutoTokenizer, PreTrainedTokenizerBase

from optscale_predictor._backbone import load_backbone, pad_batch, tokenize
from optscale_predictor._config import FullConfig
from optscale_predictor._network import PriorNet
from optscale_predictor._records import Split, read_json, write_json

MANIFEST = "predictor.json"
WEIGHTS = "model.safetensors"


def predict_rows(
    net: PriorNet,
    tokenizer: PreTrainedTokenizerBase,
    rows: list[list[int]],
    batch_size: int,
    *,
    progress: bool = False,
) -> NDArray[np.float64]:
    """``[mu, sigma]`` per token-id row, batched by length (less padding), in row order."""
    device = next(net.parameters()).device
    order = np.argsort([len(row) for row in rows], kind="stable")
    out = np.empty((len(rows), 2))
    net.eval()
    with torch.no_grad():
        for start in tqdm(range(0, len(rows), batch_size), disable=not progress, desc="predict"):
            index = order[start : start + batch_size]
            batch = pad_batch(tokenizer, [rows[i] for i in index], device)
            out[index] = net(**batch).double().cpu().numpy()
    return out


def _validation_loss(
    net: PriorNet,
    tokenizer: PreTrainedTokenizerBase,
    rows: list[list[int]],
    split: Split,
    size: int,
) -> float:
    predictions = predict_rows(net, tokenizer, rows, size)
    return float(np.mean((predictions - split.labels) ** 2))


def epoch_batches(
    lengths: NDArray[np.int_], batch_size: int, seed: list[int], pool: int = 50
) -> list[NDArray[np.int_]]:
    """Shuffled batches of similar-length rows: the epoch's order, fixed by ``seed``.

    Rows are shuffled, cut into pools of ``pool`` batches, sorted by length inside each pool
    (so a batch pads to little more than its own longest row), batched, and the batches are
    shuffled again. On a CPU this cuts the padded tokens, hence the time, several-fold.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths))
    span = batch_size * pool
    batches: list[NDArray[np.int_]] = []
    for start in range(0, len(order), span):
        chunk = order[start : start + span]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _latest_state(out: Path) -> tuple[Path, dict[str, Any]] | None:
    pointer = out / "state.json"
    if not pointer.is_file():
        return None
    state_dir = out / json.loads(pointer.read_text(encoding="utf-8"))["latest"]
    progress = json.loads((state_dir / "progress.json").read_text(encoding="utf-8"))
    return state_dir, progress


def _save_state(accelerator: Any, out: Path, progress: dict[str, Any]) -> None:
    state_dir = out / f"state-{progress['epoch']}"
    accelerator.save_state(str(state_dir))
    write_json(progress, state_dir / "progress.json")
    write_json({"latest": state_dir.name}, out / "state.json")
    for old in out.glob("state-*"):
        if old != state_dir:
            shutil.rmtree(old)


def _save_best(net: PriorNet, out: Path, manifest: dict[str, Any]) -> None:
    with atomic_path(out / WEIGHTS) as temporary:
        save_model(net, str(temporary))
    write_json(manifest, out / MANIFEST)


def fit_full(
    train: Split, val: Split, out: Path, config: FullConfig, *, progress: bool = True
) -> dict[str, Any]:
    """Train (or resume training) the full variant into ``out``; return its manifest.

    Raises
    ------
    ValueError
        If ``out`` holds a run made with other settings.
    """
    # accelerate ships no type information (no py.typed); only these two names come from it.
    from accelerate import Accelerator  # type: ignore[import-untyped]
    from accelerate.utils import set_seed  # type: ignore[import-untyped]
    from transformers import get_linear_schedule_with_warmup

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = asdict(config)
    resumed = _latest_state(out)
    if resumed is not None and resumed[1]["config"] != json.loads(json.dumps(settings)):
        raise ValueError(f"{out} holds a run with other settings: resume it or use a new --out")

    set_seed(config.seed)
    accelerator = Accelerator()
    backbone, tokenizer = load_backbone(config.backbone)
    label_mean = (float(train.labels[:, 0].mean()), float(train.labels[:, 1].mean()))
    net = PriorNet(
        backbone,
        trainable_layers=config.trainable_layers,
        label_mean=label_mean,
        hidden=config.hidden,
        dropout=config.dropout,
    )
    train_rows = tokenize(tokenizer, train.problems, config.max_length)
    val_rows = tokenize(tokenizer, val.problems, config.max_length)
    parameters = [p for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        parameters, lr=config.learning_rate, weight_decay=config.weight_decay
    )
    steps = math.ceil(len(train_rows) / config.batch_size) * config.epochs
    scheduler = get_linear_schedule_with_warmup(  # type: ignore[no-untyped-call]
        optimizer, round(config.warmup_fraction * steps), steps
    )
    net, optimizer, scheduler = accelerator.prepare(net, optimizer, scheduler)
    state: dict[str, Any] = {
        "config": settings,
        "epoch": 0,
        "best_loss": math.inf,
        "bad_epochs": 0,
        "history": [],
        "done": False,
    }
    if resumed is None:
        backbone.config.save_pretrained(out / "backbone")
        tokenizer.save_pretrained(out / "backbone")
    else:
        accelerator.load_state(str(resumed[0]))
        state = resumed[1]
    targets = torch.tensor(train.labels, dtype=torch.float32)
    lengths = np.array([len(row) for row in train_rows])
    while not state["done"]:
        epoch = state["epoch"]
        batches = epoch_batches(lengths, config.batch_size, [config.seed, epoch])
        net.train()
        total = 0.0
        bar = tqdm(batches, disable=not progress, desc=f"epoch {epoch + 1}/{config.epochs}")
        for index in bar:
            batch = pad_batch(tokenizer, [train_rows[i] for i in index], accelerator.device)
            loss = torch.nn.functional.mse_loss(net(**batch), targets[index].to(accelerator.device))
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(parameters, config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            total += float(loss.detach()) * len(index)
            bar.set_postfix(loss=f"{float(loss.detach()):.5f}")
        val_loss = _validation_loss(net, tokenizer, val_rows, val, config.batch_size)
        state["history"].append(
            {"epoch": epoch + 1, "train_loss": total / len(train_rows), "val_loss": val_loss}
        )
        state["epoch"] = epoch + 1
        if val_loss < state["best_loss"]:
            state["best_loss"], state["bad_epochs"] = val_loss, 0
            best = {
                "variant": "full",
                "config": settings,
                "label_mean": label_mean,
                "best_epoch": epoch + 1,
                "best_val_loss": val_loss,
            }
            _save_best(accelerator.unwrap_model(net), out, best)
        else:
            state["bad_epochs"] += 1
        state["done"] = state["bad_epochs"] >= config.patience or state["epoch"] >= config.epochs
        _save_state(accelerator, out, state)
    manifest: dict[str, Any] = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    manifest["history"] = state["history"]
    write_json(manifest, out / MANIFEST)
    return manifest


def load_full(path: Path) -> tuple[PriorNet, PreTrainedTokenizerBase, FullConfig]:
    """Load a full-variant checkpoint (best weights) for prediction, on CPU or the GPU."""
    manifest_path = Path(path) / MANIFEST
    manifest = read_json(manifest_path)
    try:
        settings = manifest["config"]
        config = FullConfig(
            **{
                **settings,
                "hidden": tuple(settings["hidden"]),
                "dropout": tuple(settings["dropout"]),
            }
        )
        mean_mu, mean_sigma = manifest["label_mean"]
        label_mean = (float(mean_mu), float(mean_sigma))
    except (TypeError, KeyError, ValueError) as error:
        raise ValueError(f"{manifest_path}: field 'config' or 'label_mean': {error}") from None
    config_of_backbone = AutoConfig.from_pretrained(Path(path) / "backbone")
    backbone = AutoModel.from_config(config_of_backbone)  # type: ignore[no-untyped-call]
    tokenizer = AutoTokenizer.from_pretrained(Path(path) / "backbone", local_files_only=True)
    net = PriorNet(
        backbone,
        trainable_layers=config.trainable_layers,
        label_mean=label_mean,
        hidden=config.hidden,
        dropout=config.dropout,
    )
    load_model(net, str(Path(path) / WEIGHTS))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return net.to(device).eval(), tokenizer, config
