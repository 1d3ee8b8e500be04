"""Hostile input for every reader of optscale-pools: a correct result or one clean error.

"Clean" means a ``PoolFormatError`` (``ValueError`` for bad arguments) whose message is one
line naming the file: no other exception type escapes, nothing hangs (every test runs under an
alarm that fails it), and nothing is written outside the folder a call was given.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import json
import math
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optscale_pools import (
    Grades,
    Pool,
    PoolFormatError,
    PoolJsonlWriter,
    UnsafePathError,
    contained_path,
    load_manifest,
    make_view,
    read_pool_jsonl,
    read_prompts,
    read_search_and_learn,
    read_upstream_pool,
    upstream_record,
)
from optscale_pools.gradecache import load_entry
from optscale_pools.jsonread import iter_json_list
from optscale_pools.simulation_model import load_params

GUARD_SECONDS = 120
HYPOTHESIS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class Hung(Exception):
    """Raised by the alarm: the call under test did not end within the guard."""


@pytest.fixture(autouse=True)
def guard() -> Iterator[None]:
    """Fail (not hang) a test that runs past the guard."""

    def expire(signum: int, frame: object) -> None:
        raise Hung(f"still running after {GUARD_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(GUARD_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def clean(call: Callable[[], Any], source: Path | str) -> Any:
    """Run ``call``: return its result, or its PoolFormatError after checking the message."""
    try:
        return call()
    except PoolFormatError as error:
        message = str(error)
        assert "\n" not in message, message
        assert message.startswith(str(source)), message
        return error


def value_error(call: Callable[[], object]) -> str | None:
    """Run ``call``: the message of the ValueError it raised, or None when it returned."""
    try:
        call()
    except ValueError as error:
        return str(error)
    return None


# ---------------------------------------------------------------------------------------------
# A valid pool, and ways to break it.

PROMPTS = [{"problem": f"What is {i} + {i}?", "answer": str(2 * i)} for i in range(3)]
K = 4


def record(row: int) -> dict[str, Any]:
    return upstream_record(
        row + 1,
        PROMPTS[row]["problem"],
        [f"so \\boxed{{{2 * row + (k % 2)}}}" for k in range(K)],
        [0.25 * k for k in range(K)],
        [0.5] * K,
        [10 + k for k in range(K)],
    )


@pytest.fixture
def prompts_path(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.json"
    path.write_text(json.dumps(PROMPTS))
    return path


def write_pool(folder: Path, records: list[Any], jsonl: bool) -> Path:
    if jsonl:
        path = folder / "pool.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    else:
        path = folder / "pool.json"
        path.write_text(json.dumps(records))
    return path


def read(path: Path, prompts: Path) -> Any:
    reader = read_pool_jsonl if path.suffix == ".jsonl" else read_upstream_pool
    return clean(lambda: reader(path, prompts), path)


def check_pool(pool: Pool) -> None:
    """Invariants of every pool a reader returns."""
    assert pool.scores.dtype == np.float64
    assert np.isfinite(pool.scores).all()
    assert ((pool.scores >= 0) & (pool.scores <= 1)).all()
    assert ((pool.last_scores >= 0) & (pool.last_scores <= 1)).all()
    assert pool.tokens.dtype == np.int64
    assert (pool.tokens >= 0).all()
    assert pool.scores.shape == pool.tokens.shape == pool.empty.shape == (len(PROMPTS), K)
    assert all(gold.strip() for gold in pool.golds)


json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**62, max_value=2**70)
    | st.sampled_from([10**400, -(10**400), 2**63, 2**63 - 1, -1, 0, 1])
    | st.floats()
    | st.sampled_from([5e-324, 1.7976931348623157e308, -0.0, math.nan, math.inf, -math.inf])
    | st.text(max_size=6)
)
json_values = st.recursive(
    json_leaves,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELD_PATHS = [
    ("id",),
    ("n",),
    ("output",),
    ("score",),
    ("score", "problem"),
    ("score", "pred"),
    *(("score", name) for name in ("completions", "scores", "last_scores", "completion_tokens")),
    *(("score", name, 0) for name in ("completions", "scores", "last_scores", "completion_tokens")),
    *(("score", name, 0, 1) for name in ("scores", "last_scores", "completion_tokens")),
]


def put(item: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        item = item[key]
    item[path[-1]] = value


@HYPOTHESIS
@given(
    row=st.integers(0, len(PROMPTS) - 1),
    where=st.sampled_from(FIELD_PATHS),
    value=json_values,
    jsonl=st.booleans(),
)
def test_any_field_replaced_by_any_json_value(
    tmp_path: Path, prompts_path: Path, row: int, where: tuple[Any, ...], value: Any, jsonl: bool
) -> None:
    records = [record(r) for r in range(len(PROMPTS))]
    put(records[row], where, value)
    path = write_pool(tmp_path, records, jsonl)
    result = read(path, prompts_path)
    if not isinstance(result, PoolFormatError):
        check_pool(result)


NUMBER_CASES = [
    # field, record, sample, accepted range, accepted JSON number types
    ("scores", 1, 2, (0, 1), (int, float)),
    ("completion_tokens", 2, 0, (0, 2**40), (int,)),
]


@pytest.mark.parametrize(("field", "row", "col", "accepted", "kind"), NUMBER_CASES)
@HYPOTHESIS
@given(
    value=st.floats() | st.integers() | st.sampled_from([10**400, 2**63, 2**64, 2**40 + 1]),
    jsonl=st.booleans(),
)
def test_numbers_at_the_float_and_integer_limits(
    tmp_path: Path,
    prompts_path: Path,
    field: str,
    row: int,
    col: int,
    accepted: tuple[int, int],
    kind: tuple[type, ...],
    value: float,
    jsonl: bool,
) -> None:
    records = [record(r) for r in range(len(PROMPTS))]
    records[row]["score"][field][0][col] = value
    path = write_pool(tmp_path, records, jsonl)
    result = read(path, prompts_path)
    low, high = accepted
    if isinstance(value, kind) and low <= value <= high:
        check_pool(result)
        stored = result.scores if field == "scores" else result.tokens
        assert stored[row, col] == value
    else:
        assert isinstance(result, PoolFormatError)
        assert (result.record, result.field) == (row, f"score.{field}")


@HYPOTHESIS
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".json", ".jsonl"]))
def test_random_bytes_as_a_pool(
    tmp_path: Path, prompts_path: Path, data: bytes, suffix: str
) -> None:
    path = tmp_path / f"pool{suffix}"
    path.write_bytes(data)
    assert isinstance(read(path, prompts_path), PoolFormatError)


@HYPOTHESIS
@given(data=st.data(), jsonl=st.booleans())
def test_random_damage_to_a_valid_pool(
    tmp_path: Path, prompts_path: Path, data: st.DataObject, jsonl: bool
) -> None:
    path = write_pool(tmp_path, [record(r) for r in range(len(PROMPTS))], jsonl)
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            raw[at] ^= data.draw(st.integers(1, 255))
        elif action == "cut":
            del raw[at : at + data.draw(st.integers(1, 30))]
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    path.write_bytes(bytes(raw))
    result = read(path, prompts_path)
    if not isinstance(result, PoolFormatError):
        check_pool(result)


@HYPOTHESIS
@given(value=json_values | st.binary(max_size=50), key=st.sampled_from(["problem", "answer", "id"]))
def test_prompts_fields_replaced_by_anything(tmp_path: Path, value: Any, key: str) -> None:
    path = tmp_path / "prompts.json"
    records = [dict(p) for p in PROMPTS]
    if isinstance(value, bytes):
        path.write_bytes(value)
    else:
        records[1][key] = value
        path.write_text(json.dumps(records))
    result = clean(lambda: read_prompts(path), path)
    if not isinstance(result, PoolFormatError):
        assert all(g.strip() for g in result.golds)
        assert len(result) == len(PROMPTS)


@HYPOTHESIS
@given(files=json_values, raw=st.none() | st.binary(max_size=80))
def test_random_manifests(tmp_path: Path, files: Any, raw: bytes | None) -> None:
    path = tmp_path / "manifest.json"
    if raw is None:
        path.write_text(json.dumps({"files": files if isinstance(files, list) else [files]}))
    else:
        path.write_bytes(raw)
    result = clean(lambda: load_manifest(path), path)
    if not isinstance(result, PoolFormatError):
        for entry in result:
            assert not Path(entry.path).is_absolute()
            assert ".." not in Path(entry.path).parts


@HYPOTHESIS
@given(lines=st.lists(json_values | st.binary(max_size=20), max_size=3))
def test_random_search_and_learn_lines(tmp_path: Path, lines: list[Any]) -> None:
    path = tmp_path / "sal.jsonl"
    path.write_bytes(
        b"".join((v if isinstance(v, bytes) else json.dumps(v).encode()) + b"\n" for v in lines)
    )
    result = clean(lambda: read_search_and_learn(path), path)
    if not isinstance(result, PoolFormatError):
        assert np.isfinite(result.scores).all()


@HYPOTHESIS
@given(data=st.binary(max_size=200))
def test_random_simulation_parameters(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "AIME24.json").write_bytes(data)
    with pytest.raises(ValueError, match="cannot read simulation parameters") as caught:
        load_params("aime24", tmp_path)
    assert "\n" not in str(caught.value)


@HYPOTHESIS
@given(relpath=st.text(alphabet="ab./\\:\x00 ~", max_size=12))
def test_contained_path_never_leaves_its_root(tmp_path: Path, relpath: str) -> None:
    root = tmp_path / "root"
    try:
        target: Path | None = contained_path(root, relpath)
    except UnsafePathError as error:
        target, message = None, str(error)
    if target is None:
        assert "\n" not in message
    else:
        assert target.resolve().is_relative_to(root.resolve())
        assert target != root


@HYPOTHESIS
@given(
    prior=st.lists(
        st.floats() | st.sampled_from([10**400, 1e-300, -1.0, 0.0]), min_size=3, max_size=3
    ),
)
def test_make_view_priors_at_the_float_limits(prior: list[float]) -> None:
    rows = 3
    pool = Pool(
        problems=["p"] * rows,
        golds=["1"] * rows,
        ids=[1, 2, 3],
        scores=np.full((rows, 2), 0.5),
        last_scores=np.full((rows, 2), 0.5),
        tokens=np.ones((rows, 2), dtype=np.int64),
        preds=[["1", None]] * rows,
        empty=np.zeros((rows, 2), dtype=np.bool_),
    )
    ids = np.zeros((rows, 2), dtype=np.int64)
    grades = Grades(np.zeros((rows, 2), np.bool_), np.zeros((rows, 2), np.bool_), ids, ids)
    for name in ("prior_mu", "prior_sigma"):
        try:
            view = make_view(pool, grades, "paper", **{name: prior})
        except ValueError as error:
            message = str(error)
            view = None
        if view is None:
            assert name in message
            assert "\n" not in message
            continue
        values = getattr(view, name)
        np.testing.assert_array_equal(values, np.asarray(prior, dtype=np.float64))
        assert not np.isinf(values).any()


# ---------------------------------------------------------------------------------------------
# The cases of the issue, one by one, in every reader.

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("where", ["pool.json", "pool.jsonl", "prompts.json", "manifest.json"])
def test_json_nested_100000_deep(tmp_path: Path, prompts_path: Path, where: str) -> None:
    path = tmp_path / where
    if where == "pool.json":
        path.write_text("[" + json.dumps(record(0)) + "," + DEEP + "]")
        error = read(path, prompts_path)
        assert str(error) == f"{path}: record 1: invalid JSON: nested too deeply"
    elif where == "pool.jsonl":
        path.write_text(json.dumps(record(0)) + "\n" + DEEP + "\n")
        error = read(path, prompts_path)
        assert str(error) == f"{path}: record 1: invalid JSON: nested too deeply"
    elif where == "prompts.json":
        path.write_text("[" + DEEP + "]")
        with pytest.raises(PoolFormatError, match=r"record 0: invalid JSON: nested too deeply"):
            read_prompts(path)
    else:
        path.write_text('{"files": ' + DEEP + "}")
        with pytest.raises(PoolFormatError, match=r"manifest\.json: invalid JSON: nested too"):
            load_manifest(path)


@pytest.mark.parametrize("jsonl", [False, True])
def test_invalid_utf8_names_file_record_and_byte(
    tmp_path: Path, prompts_path: Path, jsonl: bool
) -> None:
    records = [record(r) for r in range(len(PROMPTS))]
    records[2]["output"] = "PLACEHOLDER"
    path = write_pool(tmp_path, records, jsonl)
    data = path.read_bytes()
    offset = data.index(b"PLACEHOLDER")
    path.write_bytes(data.replace(b"PLACEHOLDER", b"\xff" * 11))
    error = read(path, prompts_path)
    assert isinstance(error, PoolFormatError)
    assert error.record == 2
    assert f"invalid UTF-8 at byte {offset} of the file" in str(error)


def test_a_bom_is_accepted_at_the_start_of_json_and_jsonl_alike(
    tmp_path: Path, prompts_path: Path
) -> None:
    records = [record(r) for r in range(len(PROMPTS))]
    pools = []
    for jsonl in (False, True):
        path = write_pool(tmp_path, records, jsonl)
        path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
        pools.append(read(path, prompts_path))
    prompts_path.write_bytes(codecs.BOM_UTF8 + prompts_path.read_bytes())
    pools.append(read(write_pool(tmp_path, records, False), prompts_path))
    for pool in pools:
        check_pool(pool)
        np.testing.assert_array_equal(pool.scores, pools[0].scores)


@pytest.mark.parametrize("jsonl", [False, True])
def test_a_bom_elsewhere_is_an_error(tmp_path: Path, prompts_path: Path, jsonl: bool) -> None:
    records = [record(r) for r in range(len(PROMPTS))]
    path = write_pool(tmp_path, records, jsonl)
    data = path.read_bytes()
    cut = data.index(b'{"id": 2')
    path.write_bytes(data[:cut] + codecs.BOM_UTF8 + data[cut:])
    error = read(path, prompts_path)
    assert isinstance(error, PoolFormatError)
    assert error.record == 1


@pytest.mark.parametrize("jsonl", [False, True])
@pytest.mark.parametrize(
    ("old", "new", "field", "what"),
    [
        ('"n": 4', '"n": "4"', "n", "'4' is not the item's number of samples (4)"),
        ('"n": 4', '"n": 5', "n", "5 is not the item's number of samples (4)"),
        ('"id": 2', '"id": 2, "id": 2', "id", "duplicate key in one object"),
    ],
)
def test_string_n_and_duplicate_keys(
    tmp_path: Path, prompts_path: Path, jsonl: bool, old: str, new: str, field: str, what: str
) -> None:
    path = write_pool(tmp_path, [record(r) for r in range(len(PROMPTS))], jsonl)
    text = path.read_text()
    at = text.index(old, text.index('"id": 2'))  # in record 1
    path.write_text(text[:at] + new + text[at + len(old) :])
    error = read(path, prompts_path)
    assert isinstance(error, PoolFormatError)
    assert str(error) == f"{path}: record 1: field {field!r}: {what}"


@pytest.mark.parametrize("gold", ["", "   ", math.nan, math.inf, None, [], {"a": 1}, True])
def test_empty_or_nan_gold_answers_are_refused(tmp_path: Path, gold: Any) -> None:
    path = tmp_path / "prompts.json"
    records = [dict(p) for p in PROMPTS]
    records[1]["answer"] = gold
    path.write_text(json.dumps(records))
    with pytest.raises(PoolFormatError) as caught:
        read_prompts(path)
    assert (caught.value.record, caught.value.field) == (1, "answer")


class Endless(io.RawIOBase):
    """A stream of a bad first record followed by valid records forever; counts bytes read."""

    def __init__(self) -> None:
        self.read_bytes = 0
        self.head = b'[{"id": 1, "score": {"scores": [[0.5, }]]}},\n'
        self.filler = (json.dumps(record(0)) + ",\n").encode()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        data = (self.head + self.filler * (size // len(self.filler) + 1))[:size]
        self.head = self.head[size:]
        buffer[:size] = data
        self.read_bytes += size
        return size


def test_a_bad_first_record_is_reported_before_reading_on() -> None:
    stream = Endless()
    with pytest.raises(PoolFormatError, match="record 0: invalid JSON: Expecting value"):
        list(iter_json_list(io.BufferedReader(stream), "endless.json"))
    assert stream.read_bytes <= 3 * (1 << 22)


@pytest.mark.parametrize(
    ("content", "usage"),
    [
        (DEEP, False),
        ("[" + json.dumps(record(0)).replace("0.25", "1" + "0" * 400) + "]", False),
        (b"\xc3\x28[", False),
        ("[]", False),
        (None, True),
    ],
)
def test_the_cli_prints_one_line_and_exits_1_or_2(
    tmp_path: Path, prompts_path: Path, content: str | bytes | None, usage: bool
) -> None:
    pool = tmp_path / "pool.json"
    if isinstance(content, bytes):
        pool.write_bytes(content)
    elif content is not None:
        pool.write_text(content)
    argv = ["grade", str(pool), "--prompts", str(prompts_path), "--cache-dir", str(tmp_path / "c")]
    if usage:
        argv += ["--problem-deadline", "nan"]
    before = sorted(tmp_path.rglob("*"))
    done = subprocess.run(
        [sys.executable, "-m", "optscale_pools.cli", *argv],
        capture_output=True,
        text=True,
        timeout=GUARD_SECONDS,
        check=False,
    )
    assert done.returncode == (2 if usage else 1)
    assert "Traceback" not in done.stderr
    if not usage:
        assert done.stderr.startswith(f"optscale-pools grade: error: {pool}")
        assert done.stderr.count("\n") == 1
    assert sorted(tmp_path.rglob("*")) == before


def test_resuming_a_jsonl_pool_of_random_bytes_keeps_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "pool.jsonl"
    rng = np.random.default_rng(12)
    data = rng.integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    path.write_bytes(data)
    with PoolJsonlWriter(path) as writer:
        assert writer.done == data.count(b"\n")
    assert path.read_bytes() == data[: data.rfind(b"\n") + 1]


@HYPOTHESIS
@given(
    scores=st.lists(json_leaves, min_size=K, max_size=K),
    tokens=st.lists(json_leaves, min_size=K, max_size=K),
)
def test_writing_any_numbers_round_trips_or_fails_cleanly(
    tmp_path: Path, prompts_path: Path, scores: list[Any], tokens: list[Any]
) -> None:
    path = tmp_path / "pool.jsonl"
    path.unlink(missing_ok=True)
    problem = PROMPTS[1]["problem"]
    with PoolJsonlWriter(path) as writer:
        writer.write(record(0))
        message = value_error(
            lambda: writer.write(upstream_record(2, problem, ["a"] * K, scores, scores, tokens))
        )
    if message is not None:
        assert "\n" not in message
        assert path.read_bytes() == (json.dumps(record(0)) + "\n").encode()
        return
    prompts_path.write_text(json.dumps(PROMPTS[:2]))
    result = read(path, prompts_path)
    if not isinstance(result, PoolFormatError):
        assert result.scores[1].tolist() == [float(s) for s in scores]
        assert result.tokens[1].tolist() == [int(t) for t in tokens]


@HYPOTHESIS
@given(npz=st.binary(max_size=200), sidecar=json_values | st.binary(max_size=60))
def test_a_grade_cache_entry_of_random_bytes_is_ignored(
    tmp_path: Path, npz: bytes, sidecar: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "k" * 64
    (tmp_path / f"{key}.npz").write_bytes(npz)
    side = tmp_path / f"{key}.json"
    side.write_bytes(sidecar if isinstance(sidecar, bytes) else json.dumps(sidecar).encode())
    capsys.readouterr()
    assert load_entry(tmp_path, key, (3, 4)) is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"grade cache {tmp_path / key}.npz does not verify")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scores": [[0.5, 10**400], [0.5]]}, "scores"),
        ({"scores": [[0.5, math.nan], [0.5]]}, "scores"),
        ({"answer": ""}, "answer"),
        ({"answer": math.nan}, "answer"),
    ],
)
def test_search_and_learn_numbers_and_golds(
    tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    good = {
        "problem": "p",
        "answer": "1",
        "completions": ["\\boxed{1}", "\\boxed{2}"],
        "scores": [[0.5, 0.75], [0.25]],
        "completion_tokens": [3, 4],
    }
    path = tmp_path / "sal.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, **change}) + "\n")
    with pytest.raises(PoolFormatError) as caught:
        read_search_and_learn(path)
    assert (caught.value.record, caught.value.field) == (1, field)
    path.write_text(json.dumps(good) + "\n")
    assert read_search_and_learn(path).scores.tolist() == [[0.625, 0.25]]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe")
@pytest.mark.parametrize("kind", ["pool.jsonl", "pool.json", "prompts.json"])
def test_readers_stop_at_a_bad_first_record_of_an_endless_file(
    tmp_path: Path, prompts_path: Path, kind: str
) -> None:
    """An endless pipe stands for a huge file: a reader that read on past record 0 would hang."""
    path = tmp_path / f"endless-{kind}"
    os.mkfifo(path)
    bad = b'{"id": 1, "score": {"scores": [[0.5, ]]}}'
    filler = (json.dumps(record(0)) + ("\n" if kind.endswith("l") else ",\n")).encode()

    def feed() -> None:
        with contextlib.suppress(OSError), path.open("wb") as pipe:
            pipe.write(bad + b"\n" if kind.endswith("l") else b"[" + bad + b",\n")
            while True:
                pipe.write(filler * 100)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    if kind == "prompts.json":
        result = clean(lambda: read_prompts(path), path)
    else:
        result = read(path, prompts_path)
    assert isinstance(result, PoolFormatError)
    assert result.record == 0
    assert "invalid JSON: Expecting value" in str(result)
    writer.join(timeout=GUARD_SECONDS)
    assert not writer.is_alive()


@pytest.mark.parametrize("seed", [-1, 1.5, "7", True, None])
def test_simulate_refuses_a_seed_that_is_not_a_natural_number(seed: Any) -> None:
    from optscale_pools import simulate_pool

    with pytest.raises(ValueError, match=r"^seed must be an integer >= 0, got "):
        simulate_pool("aime24", seed=seed)
