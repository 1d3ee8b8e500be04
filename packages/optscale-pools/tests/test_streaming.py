"""The streaming reader of a top-level JSON list agrees with ``json.loads`` on any document."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optscale_pools import PoolFormatError, jsonread

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)


def stream_items(data: bytes, chunk: int) -> tuple[list[Any], str]:
    hasher = hashlib.sha256()
    with mock.patch.object(jsonread, "_CHUNK", chunk):
        items = list(jsonread.iter_json_list(io.BytesIO(data), "doc.json", hasher))
    return items, hasher.hexdigest()


@settings(max_examples=80, deadline=None)
@given(
    items=st.lists(json_values, max_size=5),
    indent=st.sampled_from([None, 0, 2]),
    chunk=st.integers(1, 50),
)
def test_matches_json_loads(items: list[Any], indent: int | None, chunk: int) -> None:
    data = json.dumps(items, indent=indent, ensure_ascii=False).encode("utf-8")
    streamed, digest = stream_items(data, chunk)
    assert streamed == json.loads(data)
    assert digest == hashlib.sha256(data).hexdigest()


@settings(max_examples=40, deadline=None)
@given(items=st.lists(json_values, min_size=1, max_size=4), data=st.data())
def test_any_truncation_is_an_error(items: list[Any], data: st.DataObject) -> None:
    document = json.dumps(items).encode("utf-8")
    cut = data.draw(st.integers(0, len(document) - 1))
    with pytest.raises(PoolFormatError, match=r"doc\.json"):
        stream_items(document[:cut], data.draw(st.integers(1, 20)))
