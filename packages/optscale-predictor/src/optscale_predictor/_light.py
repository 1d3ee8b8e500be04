"""The light variant: frozen mean-pooled backbone states, then ridge regression in closed form.

Features are the attention-mask-weighted means of the token states of every hidden layer
(embeddings included), concatenated: for MiniLM-L6, 7 x 384 = 2688 numbers per problem. The
backbone is never trained, so features can be cached; the ridge fit takes a second.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from optscale_pools import atomic_output
from tqdm.auto import tqdm

from optscale_predictor._backbone import load_backbone, pad_batch, resolve_backbone, tokenize


def _cache_file(cache: Path, backbone: str, max_length: int) -> Path:
    path = resolve_backbone(backbone)
    identity = f"{(path / 'config.json').read_text(encoding='utf-8')}|{path.resolve()}|{max_length}"
    return cache / f"features-{hashlib.sha256(identity.encode()).hexdigest()[:16]}.npz"


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _compute(
    problems: list[str], backbone: str, max_length: int, batch_size: int, progress: bool
) -> NDArray[np.float32]:
    import torch

    model, tokenizer = load_backbone(backbone)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = model.to(device).eval()  # type: ignore[arg-type]  # transformers wraps to()
    rows = tokenize(tokenizer, problems, max_length)
    order = np.argsort([len(row) for row in rows], kind="stable")
    out: NDArray[np.float32] | None = None
    with torch.inference_mode():
        for start in tqdm(range(0, len(rows), batch_size), disable=not progress, desc="embed"):
            index = order[start : start + batch_size]
            batch = pad_batch(tokenizer, [rows[i] for i in index], device)
            states = model(**batch, output_hidden_states=True).hidden_states
            mask = batch["attention_mask"].unsqueeze(-1).to(states[0].dtype)
            pooled = [(layer * mask).sum(1) / mask.sum(1) for layer in states]
            features = torch.cat(pooled, dim=-1).float().cpu().numpy()
            if out is None:
                out = np.empty((len(rows), features.shape[1]), dtype=np.float32)
            out[index] = features
    assert out is not None  # problems is not empty
    return out


def _read_cache(path: Path) -> dict[str, NDArray[np.float32]]:
    """Features cached in ``path``; a damaged cache (truncated, edited) reads as empty.

    The cache only saves time: what cannot be read is recomputed and the file rewritten whole.
    """
    try:
        # Opened here: np.load leaves its own handle open when the archive is damaged.
        with path.open("rb") as handle, np.load(handle) as stored:
            keys, features = stored["keys"].tolist(), stored["features"]
            return dict(zip(keys, features, strict=True))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return {}


def embed(
    problems: list[str],
    backbone: str,
    max_length: int,
    batch_size: int,
    *,
    cache: Path | None = None,
    progress: bool = False,
) -> NDArray[np.float32]:
    """Mean-pooled states of every layer per problem, shape ``(P, layers * hidden)``.

    With ``cache``, features are read from and added to a file in that directory keyed by the
    backbone, ``max_length`` and the sha256 of each problem text.
    """
    if not problems:
        raise ValueError("no problems to embed")
    if cache is None:
        return _compute(problems, backbone, max_length, batch_size, progress)
    path = _cache_file(Path(cache), backbone, max_length)
    known: dict[str, NDArray[np.float32]] = {}
    if path.is_file():
        known = _read_cache(path)
    keys = [_text_key(text) for text in problems]
    missing = sorted({k: i for i, k in enumerate(keys) if k not in known}.values())
    if missing:
        fresh = _compute([problems[i] for i in missing], backbone, max_length, batch_size, progress)
        known.update({keys[i]: row for i, row in zip(missing, fresh, strict=True)})
        with atomic_output(path, binary=True) as out:
            np.savez(out, keys=np.array(list(known)), features=np.stack(list(known.values())))
    return np.stack([known[k] for k in keys])


@dataclass(frozen=True)
class Ridge:
    r"""A fitted ridge regression of ``[mu, sigma]`` on standardised features.

    Notes
    -----
    With standardised features $Z$ and centred labels $Y_c$, the weights are
    $W = (Z^\top Z + \alpha I)^{-1} Z^\top Y_c = Z^\top (Z Z^\top + \alpha I)^{-1} Y_c$, computed
    from an eigendecomposition of the smaller of the two Gram matrices (one for all penalties).
    Predictions are clipped to the range of the training labels, which keeps sigma positive and
    out-of-distribution problems (other datasets) within seen values.
    """

    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    weights: NDArray[np.float64]
    intercept: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    alpha: float

    def predict(self, features: NDArray[np.floating]) -> NDArray[np.float64]:
        """``[mu, sigma]`` per row of ``features``."""
        z = (np.asarray(features, dtype=np.float64) - self.mean) / self.scale
        return np.clip(z @ self.weights + self.intercept, self.low, self.high)

    def save(self, path: Path) -> None:
        """Write the fit to an ``.npz`` file, atomically."""
        with atomic_output(path, binary=True) as out:
            np.savez(
                out,
                alpha=np.float64(self.alpha),
                **{
                    name: getattr(self, name)
                    for name in ("mean", "scale", "weights", "intercept", "low", "high")
                },
            )

    @classmethod
    def load(cls, path: Path) -> Ridge:
        """Read a fit written by `save`."""
        try:
            with Path(path).open("rb") as handle, np.load(handle) as stored:
                fields = {name: stored[name] for name in stored.files}
            return cls(**{**fields, "alpha": float(fields["alpha"])})
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(f"{path}: not a ridge fit written by this package ({error})") from None


def _solve(
    z: NDArray[np.float64], y: NDArray[np.float64], alphas: tuple[float, ...]
) -> list[NDArray[np.float64]]:
    """Ridge weights for each penalty from one eigendecomposition of the smaller Gram matrix."""
    if z.shape[1] <= z.shape[0]:
        values, vectors = np.linalg.eigh(z.T @ z)
        projected = vectors.T @ (z.T @ y)
        return [vectors @ (projected / (values + alpha)[:, None]) for alpha in alphas]
    values, vectors = np.linalg.eigh(z @ z.T)
    projected = vectors.T @ y
    return [z.T @ (vectors @ (projected / (values + alpha)[:, None])) for alpha in alphas]


def fit_ridge(
    features: NDArray[np.floating],
    labels: NDArray[np.float64],
    alphas: tuple[float, ...],
    *,
    folds: int,
    seed: int,
) -> tuple[Ridge, dict[str, float]]:
    """Fit ridge with the penalty of lowest ``folds``-fold cross-validated MSE on the training set.

    Returns
    -------
    Ridge, dict
        The fit on all rows, and the cross-validated MSE of each penalty (keyed by ``str(alpha)``).
    """
    x = np.asarray(features, dtype=np.float64)
    fold = np.random.default_rng(seed).permutation(len(x)) % folds
    errors = np.zeros(len(alphas))
    for k in range(folds):
        fit, held = fold != k, fold == k
        mean, scale = x[fit].mean(0), x[fit].std(0) + 1e-8
        centre = labels[fit].mean(0)
        for a, w in enumerate(_solve((x[fit] - mean) / scale, labels[fit] - centre, alphas)):
            guess = ((x[held] - mean) / scale) @ w + centre
            errors[a] += np.sum((guess - labels[held]) ** 2)
    errors /= labels.size
    best = alphas[int(np.argmin(errors))]
    mean, scale = x.mean(0), x.std(0) + 1e-8
    centre = labels.mean(0)
    (weights,) = _solve((x - mean) / scale, labels - centre, (best,))
    ridge = Ridge(
        mean=mean,
        scale=scale,
        weights=weights,
        intercept=centre,
        low=labels.min(0),
        high=labels.max(0),
        alpha=best,
    )
    return ridge, {str(alpha): float(e) for alpha, e in zip(alphas, errors, strict=True)}
