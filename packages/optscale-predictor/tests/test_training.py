from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from optscale_predictor import FullConfig, PriorPredictor, Split, train

pytest.importorskip("torch")

from optscale_predictor import _training


def _config(backbone: Path, **changes: object) -> FullConfig:
    settings: dict[str, object] = {
        "backbone": str(backbone),
        "trainable_layers": 1,
        "max_length": 60,
        "batch_size": 4,
        "learning_rate": 1e-3,
        "epochs": 3,
        "patience": 5,
        "hidden": (16, 8, 4),
        "seed": 7,
    }
    return FullConfig(**{**settings, **changes})  # type: ignore[arg-type]


def test_checkpoint_round_trips_to_identical_predictions(
    tmp_path: Path, tiny_backbone: Path, tiny_splits: tuple[Split, Split]
) -> None:
    config = _config(tiny_backbone)
    predictor = train(
        tmp_path / "run", variant="full", config=config, data=tiny_splits, progress=False
    )
    manifest = json.loads((tmp_path / "run" / "predictor.json").read_text())
    history = manifest["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    best = min(history, key=lambda h: h["val_loss"])
    assert manifest["best_epoch"] == best["epoch"]
    # The validation loss measured in memory during training is reproduced from the files.
    val = tiny_splits[1]
    priors = predictor.predict(val.problems)
    assert priors.shape == (len(val.problems), 2)
    assert (priors[:, 1] > 0).all()
    assert np.mean((priors - val.labels) ** 2) == pytest.approx(best["val_loss"], rel=1e-6)
    np.testing.assert_array_equal(PriorPredictor(tmp_path / "run").predict(val.problems), priors)


def test_resume_ends_where_the_uninterrupted_run_ends(
    tmp_path: Path,
    tiny_backbone: Path,
    tiny_splits: tuple[Split, Split],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _config(tiny_backbone)
    whole = train(
        tmp_path / "whole", variant="full", config=config, data=tiny_splits, progress=False
    )

    real = _training._validation_loss
    calls = []

    def crash_in_epoch_two(*args: object, **kwargs: object) -> float:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_training, "_validation_loss", crash_in_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "cut", variant="full", config=config, data=tiny_splits, progress=False)
    assert json.loads((tmp_path / "cut" / "state.json").read_text()) == {"latest": "state-1"}
    monkeypatch.setattr(_training, "_validation_loss", real)
    resumed = train(
        tmp_path / "cut", variant="full", config=config, data=tiny_splits, progress=False
    )

    def history(run: str) -> list[dict[str, float]]:
        return json.loads((tmp_path / run / "predictor.json").read_text())["history"]

    assert history("cut") == history("whole")
    problems = tiny_splits[1].problems
    np.testing.assert_array_equal(resumed.predict(problems), whole.predict(problems))


def test_resuming_with_other_settings_is_refused(
    tmp_path: Path, tiny_backbone: Path, tiny_splits: tuple[Split, Split]
) -> None:
    config = _config(tiny_backbone, epochs=1)
    train(tmp_path / "run", variant="full", config=config, data=tiny_splits, progress=False)
    with pytest.raises(ValueError, match="other settings"):
        train(
            tmp_path / "run",
            variant="full",
            config=_config(tiny_backbone, epochs=2, learning_rate=1e-2),
            data=tiny_splits,
            progress=False,
        )


@pytest.mark.parametrize(("patience", "epochs_run"), [(1, 3), (2, 4)])
def test_early_stopping_stops_after_patience_epochs_without_progress(
    tmp_path: Path,
    tiny_backbone: Path,
    tiny_splits: tuple[Split, Split],
    monkeypatch: pytest.MonkeyPatch,
    patience: int,
    epochs_run: int,
) -> None:
    scripted = iter([0.5, 0.4, 0.45, 0.42, 0.43, 0.1])
    monkeypatch.setattr(_training, "_validation_loss", lambda *args: next(scripted))
    config = _config(tiny_backbone, epochs=6, patience=patience)
    train(tmp_path / "run", variant="full", config=config, data=tiny_splits, progress=False)
    manifest = json.loads((tmp_path / "run" / "predictor.json").read_text())
    assert [h["val_loss"] for h in manifest["history"]] == [0.5, 0.4, 0.45, 0.42, 0.43][:epochs_run]
    assert manifest["best_epoch"] == 2


def test_epoch_batches_cover_every_row_once_in_similar_lengths(rng: np.random.Generator) -> None:
    lengths = rng.integers(1, 300, 203)
    batches = _training.epoch_batches(lengths, 8, [3, 1], pool=4)
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(203))
    again = _training.epoch_batches(lengths, 8, [3, 1], pool=4)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))
    other = _training.epoch_batches(lengths, 8, [3, 2], pool=4)
    assert not np.array_equal(np.concatenate(other), rows)
    # Inside a pool rows are sorted by length, so a batch spans less than a random one would.
    spans = [np.ptp(lengths[b]) for b in batches if len(b) == 8]
    random_spans = [np.ptp(lengths[rng.permutation(203)[:8]]) for _ in range(len(spans))]
    assert np.mean(spans) < np.mean(random_spans) / 2
