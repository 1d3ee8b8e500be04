"""Training either variant, loading a checkpoint, and predicting priors from problem texts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from optscale_predictor._config import FullConfig, LightConfig
from optscale_predictor._records import Split, math_splits, read_json, write_json

Variant = Literal["light", "full"]
DEFAULT_CHECKPOINT = Path(__file__).parent / "weights" / "light"
"""The light predictor trained by ``optscale-predictor train`` with default settings, shipped."""


def _check_problems(problems: Sequence[str]) -> None:
    if isinstance(problems, str):
        raise TypeError("problems must be a list of strings, not one string")
    for i, text in enumerate(problems):
        if not isinstance(text, str):
            raise ValueError(f"problem {i} is a {type(text).__name__}, not a string")
        if not text.strip():
            raise ValueError(f"problem {i} is empty: nothing to predict from")


class PriorPredictor:
    """A trained (mu, sigma) prior predictor of either variant, read from a checkpoint.

    Parameters
    ----------
    checkpoint : Path, optional
        A directory written by [`train`][optscale_predictor.train]. ``None``: the light predictor
        shipped with the package (trained on the 4501 upstream MATH problems with the default
        settings).
    cache : Path, optional
        Light variant only: a directory caching backbone features per problem text.

    Examples
    --------
    >>> predictor = PriorPredictor()  # doctest: +SKIP
    >>> predictor.predict(["What is $1+1$?"]).shape  # doctest: +SKIP
    (1, 2)
    """

    def __init__(self, checkpoint: Path | None = None, *, cache: Path | None = None) -> None:
        self.path = Path(checkpoint) if checkpoint is not None else DEFAULT_CHECKPOINT
        manifest_path = self.path / "predictor.json"
        if not manifest_path.is_file():
            raise ValueError(f"{self.path} is not a predictor checkpoint (no predictor.json)")
        manifest = read_json(manifest_path)
        if not isinstance(manifest, dict):
            raise ValueError(f"{manifest_path}: expected a JSON object")
        self.manifest: dict[str, Any] = manifest
        self.variant: Variant = manifest.get("variant")  # type: ignore[assignment]
        if self.variant not in ("light", "full"):
            raise ValueError(f"{manifest_path}: field 'variant': unknown {self.variant!r}")
        config = manifest.get("config")
        length = config.get("max_length") if isinstance(config, dict) else None
        if not (
            isinstance(config, dict)
            and isinstance(config.get("backbone"), str)
            and isinstance(length, int)
            and not isinstance(length, bool)
            and length >= 1
        ):
            raise ValueError(
                f"{manifest_path}: field 'config': needs 'backbone' (text) and 'max_length' "
                "(an integer >= 1)"
            )
        self.cache = cache
        self._full: Any = None

    def predict(
        self, problems: list[str], *, batch_size: int = 32, progress: bool = False
    ) -> NDArray[np.float64]:
        """Predict ``[mu, sigma]`` for each problem text.

        Parameters
        ----------
        problems : list of str
            Problem texts (any dataset); longer ones are truncated with a warning.
        batch_size : int
            Problems per forward pass.
        progress : bool
            Show a progress bar.

        Returns
        -------
        ndarray, shape (P, 2)
            ``[mu, sigma]`` per problem, in input order; sigma > 0.

        Raises
        ------
        ValueError
            If a problem is empty or not a string (naming its index).
        """
        _check_problems(problems)
        if not problems:
            return np.empty((0, 2))
        config = self.manifest["config"]
        if self.variant == "light":
            from optscale_predictor._light import Ridge, embed

            features = embed(
                problems,
                config["backbone"],
                config["max_length"],
                batch_size,
                cache=self.cache,
                progress=progress,
            )
            return Ridge.load(self.path / "ridge.npz").predict(features)
        from optscale_predictor._backbone import tokenize
        from optscale_predictor._training import load_full, predict_rows

        if self._full is None:
            self._full = load_full(self.path)
        net, tokenizer, full = self._full
        rows = tokenize(tokenizer, problems, full.max_length)
        return predict_rows(net, tokenizer, rows, batch_size, progress=progress)


def train(
    out: Path,
    *,
    variant: Variant = "light",
    config: LightConfig | FullConfig | None = None,
    data: tuple[Split, Split] | None = None,
    cache: Path | None = None,
    progress: bool = True,
) -> PriorPredictor:
    """Train a predictor into the checkpoint directory ``out`` (resuming what is there).

    Parameters
    ----------
    out : Path
        Checkpoint directory. For the full variant, a run found there is resumed from its last
        finished epoch (same settings required).
    variant : {"light", "full"}
        ``"light"`` (default): frozen mean-pooled backbone features + ridge, penalty chosen by
        cross-validation on the training set. ``"full"``: the paper's network, last layers
        fine-tuned, early stopping on validation loss.
    config : LightConfig or FullConfig, optional
        Settings; the variant's defaults when omitted.
    data : (Split, Split), optional
        Training and validation problems with labels; default: the upstream MATH training set and
        MATH500 ([`math_splits`][optscale_predictor.math_splits]).
    cache : Path, optional
        Light variant: directory caching backbone features (re-training then takes seconds).
    progress : bool
        Show progress bars.

    Returns
    -------
    PriorPredictor
        The trained predictor, read back from ``out``.
    """
    if variant not in ("light", "full"):
        raise ValueError(f"variant must be 'light' or 'full', got {variant!r}")
    train_split, val_split = data if data is not None else math_splits()
    out = Path(out)
    if variant == "full":
        from optscale_predictor._training import fit_full

        full = config if config is not None else FullConfig()
        if not isinstance(full, FullConfig):
            raise TypeError("the full variant takes a FullConfig")
        fit_full(train_split, val_split, out, full, progress=progress)
        return PriorPredictor(out)
    from optscale_predictor._light import embed, fit_ridge

    light = config if config is not None else LightConfig()
    if not isinstance(light, LightConfig):
        raise TypeError("the light variant takes a LightConfig")
    features = embed(
        train_split.problems + val_split.problems,
        light.backbone,
        light.max_length,
        light.batch_size,
        cache=cache,
        progress=progress,
    )
    n = len(train_split.problems)
    ridge, cv_mse = fit_ridge(
        features[:n], train_split.labels, light.alphas, folds=light.folds, seed=light.seed
    )
    out.mkdir(parents=True, exist_ok=True)
    ridge.save(out / "ridge.npz")
    val_mse = float(np.mean((ridge.predict(features[n:]) - val_split.labels) ** 2))
    manifest = {
        "variant": "light",
        "config": asdict(light),
        "alpha": ridge.alpha,
        "cv_mse": cv_mse,
        "val_mse": val_mse,
    }
    write_json(manifest, out / "predictor.json")
    return PriorPredictor(out, cache=cache)


def predict_priors(problems: list[str], checkpoint: Path | None = None) -> NDArray[np.float64]:
    """Predict the OptScale^t prior ``[mu, sigma]`` of each problem text.

    Parameters
    ----------
    problems : list of str
        Problem texts, in the order the priors are wanted (prompt order).
    checkpoint : Path, optional
        A directory written by [`train`][optscale_predictor.train]; ``None`` uses the shipped light
        predictor.

    Returns
    -------
    ndarray, shape (P, 2)
        ``[mu, sigma]`` per problem, the shape of the upstream ``<DS>_train_mu_sigma.json``.
    """
    return PriorPredictor(checkpoint).predict(problems)
