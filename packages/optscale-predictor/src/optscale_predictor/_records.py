"""Reading problems and (mu, sigma) labels, aligning them, and writing priors files.

Everything here is plain JSON + numpy, checked at the boundary: a bad record raises a
``ValueError`` naming the file, the record index and the field, and a priors file is written to a
temporary file in the same directory and moved into place, so a failure never leaves half a file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from optscale_pools import write_text_atomic

PROBLEM_KEYS = ("problem", "question")
"""Keys holding the problem text in upstream prompt files, tried in this order."""


@dataclass(frozen=True)
class Split:
    """Problems with their labels, in file order.

    Attributes
    ----------
    problems : list of str
        Problem texts.
    labels : ndarray, shape (P, 2)
        ``[mu, sigma]`` per problem: mean and standard deviation of its PRM scores.
    levels : list of int or None
        MATH difficulty level per problem where the problems file has one, else ``None``.
    """

    problems: list[str]
    labels: NDArray[np.float64]
    levels: list[int | None]


def read_json(path: Path) -> Any:
    """Decode a JSON file; bad UTF-8, bad JSON or absurd nesting is one ValueError naming it."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None
    except RecursionError:
        raise ValueError(f"{path}: not valid JSON (nested too deeply)") from None


def _load_json_list(path: Path) -> list[Any]:
    data = read_json(path)
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of records, got {type(data).__name__}")
    return data


def _problem_text(record: Any, path: Path, index: int) -> str:
    if isinstance(record, str):
        text = record
    elif isinstance(record, dict):
        key = next((k for k in PROBLEM_KEYS if k in record), None)
        if key is None:
            raise ValueError(f"{path}: record {index}: field 'problem': missing (nor 'question')")
        text = record[key]
        if not isinstance(text, str):
            raise ValueError(f"{path}: record {index}: field '{key}': not a string")
    else:
        raise ValueError(f"{path}: record {index}: neither an object nor a string")
    if not text.strip():
        raise ValueError(f"{path}: record {index}: field 'problem': empty text")
    return text


def read_problems(path: Path) -> list[str]:
    """Read the problem texts of a prompts file, in file order.

    Parameters
    ----------
    path : Path
        A JSON list of records holding the text under ``problem`` or ``question`` (the upstream
        prompt files of all five datasets), or a JSON list of strings.

    Returns
    -------
    list of str
        One text per record.

    Raises
    ------
    ValueError
        If the file is not a JSON list, or a record has no (or an empty) problem text.
    """
    path = Path(path)
    return [_problem_text(record, path, i) for i, record in enumerate(_load_json_list(path))]


def read_labels(path: Path, *, negative_sigma: bool = False) -> NDArray[np.float64]:
    """Read a ``[[mu, sigma], ...]`` file (the upstream ``*_mu_sigma.json`` shape).

    Parameters
    ----------
    path : Path
        The file.
    negative_sigma : bool
        Accept negative sigma. Labels (standard deviations) never are, but the published priors
        for MATH500 hold some, and are read as they are to be scored.

    Raises
    ------
    ValueError
        If a record is not a pair of finite numbers or sigma is negative, naming the record and
        the field.
    """
    path = Path(path)
    records = _load_json_list(path)
    labels = np.empty((len(records), 2))
    for i, record in enumerate(records):
        if not isinstance(record, list | tuple) or len(record) != 2:
            raise ValueError(f"{path}: record {i}: not a [mu, sigma] pair")
        for j, field in enumerate(("mu", "sigma")):
            value = record[j]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{path}: record {i}: field '{field}': not a number")
            try:
                number = float(value)
            except OverflowError:  # an integer beyond float range (10**400)
                number = math.inf
            if not math.isfinite(number):
                raise ValueError(f"{path}: record {i}: field '{field}': {value} is not finite")
            labels[i, j] = number
        if labels[i, 1] < 0 and not negative_sigma:
            raise ValueError(f"{path}: record {i}: field 'sigma': negative ({labels[i, 1]})")
    return labels


def read_split(problems_path: Path, labels_path: Path) -> Split:
    """Read a problems file and its labels file, which must match record for record.

    Raises
    ------
    ValueError
        If the two files hold different numbers of records, or either file has a bad record.
    """
    problems_path, labels_path = Path(problems_path), Path(labels_path)
    records = _load_json_list(problems_path)
    problems = [_problem_text(record, problems_path, i) for i, record in enumerate(records)]
    labels = read_labels(labels_path)
    if len(problems) != len(labels):
        raise ValueError(
            f"{labels_path} holds {len(labels)} records but {problems_path} holds "
            f"{len(problems)}: labels must match the problems one for one, in order"
        )
    levels = [
        record.get("level")
        if isinstance(record, dict) and isinstance(record.get("level"), int)
        else None
        for record in records
    ]
    return Split(problems=problems, labels=labels, levels=levels)


def align(problems: list[str], reference: list[str], *, name: str = "problems") -> list[int]:
    """Positions in ``problems`` of each text of ``reference``, matched by exact text.

    Upstream files hold the same problems in different orders (the MATH500 validation labels and
    the MATH500 prompts), so order is never assumed.

    Parameters
    ----------
    problems, reference : list of str
        The texts to look up, and the texts whose order is wanted.
    name : str
        What ``problems`` is, for the error message.

    Returns
    -------
    list of int
        ``index`` with ``problems[index[i]] == reference[i]``.

    Raises
    ------
    ValueError
        If a text is duplicated in ``problems`` or a reference text is missing from it.
    """
    position: dict[str, int] = {}
    for i, text in enumerate(problems):
        if text in position:
            raise ValueError(f"{name}: record {i} repeats the problem of record {position[text]}")
        position[text] = i
    index = []
    for i, text in enumerate(reference):
        if text not in position:
            raise ValueError(f"{name}: no record matches reference record {i} ({text[:60]!r})")
        index.append(position[text])
    return index


def write_priors(priors: NDArray[np.float64], path: Path) -> None:
    """Write priors as a JSON list of ``[mu, sigma]``, atomically.

    Parameters
    ----------
    priors : ndarray, shape (P, 2)
        Per-problem ``[mu, sigma]``, in prompt order.
    path : Path
        Destination; written via a temporary file in the same directory and ``os.replace``.
    """
    priors = np.asarray(priors, dtype=np.float64)
    if priors.ndim != 2 or priors.shape[1] != 2 or not np.isfinite(priors).all():
        raise ValueError(f"priors must be a finite (P, 2) array, got shape {priors.shape}")
    write_text_atomic(path, json.dumps([[float(mu), float(sigma)] for mu, sigma in priors]))


def write_json(data: dict[str, Any], path: Path) -> None:
    """Write a JSON object to ``path`` atomically (``optscale_pools.write_text_atomic``)."""
    write_text_atomic(path, json.dumps(data, indent=1))


TRAIN_PROBLEMS = "train_predictor/train_data.json"
TRAIN_LABELS = "train_predictor/train_mu_sigma.json"
VAL_PROBLEMS = "train_predictor/val_data.json"
VAL_LABELS = "train_predictor/val_mu_sigma.json"
MATH500_PROMPTS = "data/test_prompts/math500_test.json"
PUBLISHED_PRIORS = "BoN_OptScale/MATH500_train_mu_sigma.json"


def math_splits() -> tuple[Split, Split]:
    """Load the upstream training set (4501 MATH problems) and MATH500 validation, in prompt order.

    Files come through ``optscale_pools.data_file`` (fetched and verified, or read from the
    mirror named by ``OPTSCALE_DATA_MIRROR``). The validation labels are stored in another order
    than the MATH500 prompts file; they are reordered to the prompts by problem text, so that row
    ``i`` of validation is prompt ``i`` (the order the published priors use).
    """
    from optscale_pools import data_file

    train = read_split(data_file(TRAIN_PROBLEMS), data_file(TRAIN_LABELS))
    val = read_split(data_file(VAL_PROBLEMS), data_file(VAL_LABELS))
    index = align(val.problems, read_problems(data_file(MATH500_PROMPTS)), name=VAL_PROBLEMS)
    val = Split(
        problems=[val.problems[i] for i in index],
        labels=val.labels[index],
        levels=[val.levels[i] for i in index],
    )
    return train, val
