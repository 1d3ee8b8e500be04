"""The run directory: an append-only JSONL journal of finished samples and the run's settings.

Every finished sample (generated, counted, scored) is one JSON line, written in one ``write``
with the rest of its chunk, flushed and fsynced. A process killed at any moment leaves at worst a
torn last line, which the next start cuts off; every complete line is a sample that will never
be recomputed. Several writers (data-parallel shards) write one file each in the same directory,
and a reader takes the union.

Every journal file opens with a header line ``{"settings": {...}}`` holding the settings of the
run that wrote it, so a journal can never be resumed under other settings, even when
``run.json`` is gone. Two lines for the same sample must be identical (a repeated identical line
is harmless and read once); two different ones, or a shard journal holding a problem of another
shard, make the whole run directory unusable until a person looks at it.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from optscale_pools import write_text_atomic

SETTINGS_FILE = "run.json"
"""Settings of the run that created the directory; a resume must use the same ones."""


class JournalError(ValueError):
    """A journal line or the run settings cannot be used; the message names file, line and field."""


@dataclass(frozen=True)
class SampleRecord:
    """One finished sample.

    Attributes
    ----------
    problem, sample
        0-based problem index (in the prompts file) and sample index within the problem.
    completion
        Completion text.
    tokens
        Its length in generator tokens (upstream's count).
    score, last_score
        Mean and last PRM step reward.
    """

    problem: int
    sample: int
    completion: str
    tokens: int
    score: float
    last_score: float

    @property
    def key(self) -> tuple[int, int]:
        """``(problem, sample)``."""
        return (self.problem, self.sample)


_FIELDS: dict[str, tuple[type, ...]] = {
    "problem": (int,),
    "sample": (int,),
    "completion": (str,),
    "tokens": (int,),
    "score": (int, float),
    "last_score": (int, float),
}


def _json(text: str, where: str) -> Any:
    """Decode JSON text; malformed or absurdly nested input is a JournalError naming ``where``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise JournalError(f"{where}: invalid JSON ({error})") from None
    except RecursionError:
        raise JournalError(f"{where}: invalid JSON (nested too deeply)") from None


def parse_record(line: str, source: str, number: int) -> SampleRecord:
    """Parse and check one journal line (``number`` is 1-based, for the error message)."""
    where = f"{source}: line {number}"
    data = _json(line, where)
    if not isinstance(data, dict):
        raise JournalError(f"{where}: expected a JSON object")
    for name, kinds in _FIELDS.items():
        value = data.get(name)
        if not isinstance(value, kinds) or isinstance(value, bool):
            raise JournalError(f"{where}: field {name!r} missing or of the wrong type: {value!r}")
    if data["problem"] < 0 or data["sample"] < 0 or data["tokens"] < 0:
        raise JournalError(f"{where}: field 'problem', 'sample' or 'tokens' is negative")
    for name in ("score", "last_score"):
        if not (math.isfinite(data[name]) and 0.0 <= data[name] <= 1.0):
            raise JournalError(f"{where}: field {name!r} is not in [0, 1]: {data[name]!r}")
    return SampleRecord(
        problem=data["problem"],
        sample=data["sample"],
        completion=data["completion"],
        tokens=data["tokens"],
        score=float(data["score"]),
        last_score=float(data["last_score"]),
    )


class Journal:
    """A run directory: settings file plus one JSONL journal per writer.

    Parameters
    ----------
    directory
        Created when missing.
    writer
        File name of this process's journal (``samples.jsonl``; shards use their own names).
    """

    def __init__(self, directory: str | Path, writer: str = "samples.jsonl") -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / writer
        self._header: str | None = None  # written with the first samples of a new journal
        self._cut_torn_tail()

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        """Record the run's settings, or check them against those already recorded.

        The settings are compared with ``run.json`` and with the header of every journal in the
        directory, then written to ``run.json``, and to this writer's journal header with its
        first samples.
        Settings bind once a sample is journaled under them: a run that stopped before its first
        sample (a model that failed to load, a rejected option) holds nothing to mix, and its
        settings are replaced.

        Raises
        ------
        JournalError
            When the directory holds a run with other settings (naming the first that differs):
            resuming it with these would mix samples of two different runs.
        """
        path = self.directory / SETTINGS_FILE
        wanted = json.loads(json.dumps(dict(settings)))
        binding = [j for j in sorted(self.directory.glob("*.jsonl")) if _holds_samples(j)]
        for journal in binding:
            _same_settings(_header(journal), wanted, f"{journal}: line 1")
        if path.exists() and binding:
            found = _json(path.read_text(encoding="utf-8"), str(path))
            _same_settings(found, wanted, str(path))
        else:
            write_text_atomic(path, json.dumps(wanted, indent=2, sort_keys=True) + "\n")
        if self.path not in binding:
            self._header = json.dumps({"settings": wanted}, sort_keys=True, ensure_ascii=False)
            if self.path.exists():  # a header of settings that never bound: replace it
                write_text_atomic(self.path, self._header + "\n")

    def load(self) -> dict[tuple[int, int], SampleRecord]:
        """Every sample journaled in the directory by any writer.

        Raises
        ------
        JournalError
            When two lines for one sample differ, or a shard's journal holds a problem that is
            not its shard's (naming both places): the journals were edited or mixed.
        """
        records: dict[tuple[int, int], SampleRecord] = {}
        where: dict[tuple[int, int], str] = {}
        for path in sorted(self.directory.glob("*.jsonl")):
            shard = _SHARD.fullmatch(path.name)
            lines = path.read_text(encoding="utf-8").split("\n")
            # The part after the last newline is a torn write (or ""): never a finished sample.
            for number, line in enumerate(lines[:-1], start=1):
                if not line.strip() or (number == 1 and _is_header(line)):
                    continue
                record = parse_record(line, str(path), number)
                here = f"{path}: line {number}"
                if shard and int(shard[2]) > 0 and record.problem % int(shard[2]) != int(shard[1]):
                    raise JournalError(
                        f"{here}: field 'problem': {record.problem} does not belong to shard "
                        f"{shard[1]} of {shard[2]}"
                    )
                if record.key in records and records[record.key] != record:
                    raise JournalError(
                        f"{here}: sample {record.key} differs from the one at {where[record.key]}"
                    )
                records.setdefault(record.key, record)
                where.setdefault(record.key, here)
        return records

    def append(self, records: Iterable[SampleRecord]) -> None:
        """Append records in one write, then flush and fsync: on disk before the call returns."""
        text = "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in records)
        if not text:
            return
        if self._header is not None and (not self.path.exists() or not self.path.stat().st_size):
            text = self._header + "\n" + text
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    def _cut_torn_tail(self) -> None:
        """Drop a partial last line left by a killed writer, so the next append starts clean."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end != len(data):
            with self.path.open("r+b") as handle:
                handle.truncate(end)


_SHARD = re.compile(r"samples-shard(\d+)of(\d+)\.jsonl")


def _is_header(line: str) -> bool:
    """Whether a first journal line is the settings header rather than a sample."""
    return line.startswith('{"settings":')


def _holds_samples(path: Path) -> bool:
    """Whether a journal has a complete line after its first one (or a sample as its first)."""
    with path.open(encoding="utf-8") as handle:
        first = handle.readline()
        if first.endswith("\n") and not _is_header(first) and first.strip():
            return True
        return handle.readline().endswith("\n")


def _header(path: Path) -> Any:
    """Return the settings in a journal's header line (an error if it has none)."""
    with path.open(encoding="utf-8") as handle:
        first = handle.readline()
    if not first.strip():
        return None
    if not _is_header(first):
        raise JournalError(f"{path}: line 1: no settings header; this journal cannot be resumed")
    data = _json(first, f"{path}: line 1")
    return data["settings"] if isinstance(data, dict) else None


def _same_settings(found: Any, wanted: dict[str, Any], where: str) -> None:
    """Raise when recorded settings differ from ``wanted`` (naming the first field that does)."""
    if found is None:
        return
    if not isinstance(found, dict):
        raise JournalError(f"{where}: expected the run settings as a JSON object")
    for name in sorted(set(found) | set(wanted)):
        if found.get(name) != wanted.get(name):
            raise JournalError(
                f"{where}: field {name!r} is {found.get(name)!r} in the existing run but "
                f"{wanted.get(name)!r} now; use another run directory or the same settings"
            )
