"""Defensive JSON decoding shared by every reader of this package.

Input files are untrusted: hand-edited, truncated, or made to break a reader. Every way a JSON
text can be bad ends here in a [`PoolFormatError`][optscale_pools.PoolFormatError] naming the
file, the record and, where known, the field, instead of an exception from deep inside ``json``:

* invalid UTF-8, with the byte offset in the file; a UTF-8 byte order mark is accepted at the
  start of a file (what some editors write) and nowhere else, the same for JSON and JSON lines;
* nesting deeper than the interpreter's recursion limit (``json`` raises ``RecursionError``);
* the same key twice in one object (``json`` silently keeps the last one);
* an integer longer than Python's digit limit for ``int`` parsing (``ValueError``).

A top-level list is read one record at a time (``iter_json_list``), so memory is bounded by
the record being read, not by the file: a syntax error is reported where it is found, without
first reading the rest of the file.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import IO, Any

from optscale_pools.pool import PoolFormatError

_CHUNK = 1 << 22
_BOM = codecs.BOM_UTF8.decode("utf-8")
_TAIL = 16
"""A decode error this close to the end of the text read so far may be a cut token: read on."""


class DuplicateKeyError(ValueError):
    """An object holds the same key twice (raised by the decoder's pairs hook)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build an object from its key-value pairs, refusing a repeated key."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKeyError(key)
        result[key] = value
    return result


DECODER = json.JSONDecoder(object_pairs_hook=_unique_pairs)
"""The decoder every reader uses: standard JSON, no repeated keys."""


def decode_error(error: Exception, source: str, record: int | None) -> PoolFormatError:
    """Turn an exception raised while decoding into a one-line ``PoolFormatError``."""
    if isinstance(error, DuplicateKeyError):
        return PoolFormatError(source, record, error.key, "duplicate key in one object")
    if isinstance(error, RecursionError):
        detail = "invalid JSON: nested too deeply"
    elif isinstance(error, json.JSONDecodeError):
        detail = f"invalid JSON: {error.msg} at char {error.pos}"
    else:
        detail = f"invalid JSON: {error}"
    return PoolFormatError(source, record, None, detail)


def loads(data: bytes, source: str, record: int | None = None, *, start: int = 0) -> Any:
    """Decode one JSON document (a whole small file, or one JSON line).

    Parameters
    ----------
    data
        The document's bytes, UTF-8; a leading byte order mark is skipped when ``start`` is 0.
    source, record
        File and record index for error messages.
    start
        Offset of ``data`` in its file, for the byte offset of a UTF-8 error.

    Raises
    ------
    PoolFormatError
        On invalid UTF-8 (naming the byte offset in the file) or invalid JSON.
    """
    skip = len(codecs.BOM_UTF8) if start == 0 and data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = start + skip + error.start
        raise _utf8_error(source, record, offset, error.reason) from None
    if text.startswith(_BOM):
        detail = "byte order mark not at the start of the file"
        raise PoolFormatError(source, record, None, detail)
    try:
        return DECODER.decode(text)
    except (ValueError, RecursionError) as error:
        raise decode_error(error, source, record) from None


def _utf8_error(source: str, record: int | None, offset: int, reason: str) -> PoolFormatError:
    """Return the error for bytes that are not UTF-8, at ``offset`` in the file."""
    detail = f"invalid UTF-8 at byte {offset} of the file ({reason})"
    return PoolFormatError(source, record, None, detail)


def iter_json_list(stream: IO[bytes], source: str, hasher: Any = None) -> Iterator[Any]:
    """Yield the items of a top-level JSON list one at a time, without loading the whole file.

    Parameters
    ----------
    stream
        Binary stream positioned at the start of the document.
    source
        File name for error messages.
    hasher
        Optional ``hashlib`` object updated with every byte read.

    Raises
    ------
    PoolFormatError
        When the document is not a list, is truncated or invalid (see the module docstring),
        naming the item index.
    """
    reader = _Buffer(stream, hasher, source)
    first = reader.next_char(peek=True)
    if first == "":
        raise reader.problem("empty file: expected a JSON list")
    if first != "[":
        value = reader.decode()  # raises when the file is not JSON at all
        kind = {dict: "an object", str: "a string", bool: "a boolean"}.get(type(value), "a number")
        detail = f"top level must be a JSON list, got {'null' if value is None else kind}"
        raise PoolFormatError(source, None, None, detail)
    reader.next_char()
    index = 0
    if reader.next_char(peek=True) == "]":
        reader.next_char()
    else:
        while True:
            reader.record = index
            if reader.next_char(peek=True) == "":
                raise reader.problem("truncated JSON: file ends inside the list")
            item = reader.decode()
            yield item
            index += 1
            reader.record = index
            separator = reader.next_char()
            if separator == "]":
                break
            if separator != ",":
                raise reader.problem(
                    "truncated JSON: file ends inside the list"
                    if separator == ""
                    else f"invalid JSON: expected ',' or ']' after the item, got {separator!r}"
                )
    if reader.next_char() != "" or reader.failure is not None:
        raise reader.problem("invalid JSON: data after the closing ']'")


class _Buffer:
    """Decoded text of a byte stream, refilled on demand; knows the record being read.

    Bytes that are not UTF-8 end the text just before them, like the end of the file; the
    error is raised for the record that reaches them (see ``problem``), not for the record
    being read when the block holding them came in.
    """

    def __init__(self, stream: IO[bytes], hasher: Any, source: str) -> None:
        self.stream = stream
        self.hasher = hasher
        self.source = source
        self.record: int | None = None
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        self.pos = 0
        self.eof = False
        self.offset = 0
        self.failure: tuple[int, str] | None = None

    def problem(self, detail: str) -> PoolFormatError:
        """Return the error of the current record at the end of the text (bad UTF-8, or detail)."""
        if self.failure is not None:
            return _utf8_error(self.source, self.record, *self.failure)
        return PoolFormatError(self.source, self.record, None, detail)

    def refill(self, size: int = 0) -> bool:
        """Append up to ``size`` (default: one chunk) more bytes; False at end of the text."""
        if self.eof:
            return False
        data = self._read(size or _CHUNK)
        pending = self.decoder.getstate()[0]
        try:
            decoded = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as error:
            # Keep the valid text before the bad bytes; the reader stops there.
            decoded = (pending + data)[: error.start].decode("utf-8")
            self.failure = (self.offset - len(pending) + error.start, error.reason)
            data = b""
        self.offset += len(data)
        self.text = self.text[self.pos :] + decoded
        self.pos = 0
        self.eof = not data
        return True

    def _read(self, size: int) -> bytes:
        """Read up to ``size`` bytes, hashing them; skip a byte order mark at the file's start."""
        data = self.stream.read(size)
        if self.offset == 0 and self.text == "":
            while 0 < len(data) < len(codecs.BOM_UTF8):
                more = self.stream.read(len(codecs.BOM_UTF8) - len(data))
                if not more:
                    break
                data += more
            if self.hasher is not None:
                self.hasher.update(data)
            if data.startswith(codecs.BOM_UTF8):
                self.offset = len(codecs.BOM_UTF8)
                return data[len(codecs.BOM_UTF8) :]
            return data
        if self.hasher is not None:
            self.hasher.update(data)
        return data

    def next_char(self, *, peek: bool = False) -> str:
        """Next non-whitespace character ("" at end of the text), consumed unless ``peek``."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.text):
                char = self.text[self.pos]
                self.pos += 0 if peek else 1
                return char
            if not self.refill():
                return ""

    def decode(self) -> Any:
        """Decode one JSON value at the cursor, reading more text only while it may be cut."""
        size = _CHUNK
        while True:
            try:
                value, end = DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as error:
                cut = _may_be_cut(error, len(self.text))
                if cut and self.refill(size):
                    size *= 2
                    continue
                where = f"{error.msg} at char {error.pos - self.pos} of the record"
                if cut and self.eof:
                    raise self.problem(f"truncated or invalid JSON: {where}") from None
                detail = f"invalid JSON: {where}"
                raise PoolFormatError(self.source, self.record, None, detail) from None
            except (ValueError, RecursionError) as error:
                raise decode_error(error, self.source, self.record) from None
            # A number may go on past the text read so far ("0." of "0.5"): read on first.
            if end >= len(self.text) - _TAIL and self.refill(size):
                continue
            self.pos = end
            return value


def _may_be_cut(error: json.JSONDecodeError, length: int) -> bool:
    """Whether a decode error may come from the text ending mid-value rather than bad JSON.

    Errors right at the end of the text read so far, and unterminated strings (reported at the
    string's start), may vanish with more text; anything else is an error in the record itself.
    """
    return error.pos >= length - _TAIL or error.msg.startswith("Unterminated string")
