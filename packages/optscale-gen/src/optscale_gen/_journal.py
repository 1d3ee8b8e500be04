"""The run directory: an append-only JSONL journal of finished samples and the run's settings.

Every finished sample (generated, counted, scored) is one JSON line, written in one ``write``
with the rest of its chunk, flushed and fsynced. A process killed at any moment leaves at worst a
torn last line, which the next start cuts off; every complete line is a sample that will never
be recomputed. Several writers (data-parallel shards) write one file each in the same directory,
and a reader takes the union.
"""

from __future__ import annotations

import json
import math
import os
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


def parse_record(line: str, source: str, number: int) -> SampleRecord:
    """Parse and check one journal line (``number`` is 1-based, for the error message)."""
    where = f"{source}: line {number}"
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise JournalError(f"{where}: invalid JSON ({error})") from error
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
        self._cut_torn_tail()

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        """Record the run's settings, or check them against those already recorded.

        Raises
        ------
        JournalError
            When the directory holds a run with other settings (naming the first that differs):
            resuming it with these would mix samples of two different runs.
        """
        path = self.directory / SETTINGS_FILE
        wanted = json.loads(json.dumps(dict(settings)))
        if path.exists():
            try:
                found = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as error:
                raise JournalError(f"{path}: invalid JSON ({error})") from error
            for name in sorted(set(found) | set(wanted)):
                if found.get(name) != wanted.get(name):
                    raise JournalError(
                        f"{path}: field {name!r} is {found.get(name)!r} in the existing run but "
                        f"{wanted.get(name)!r} now; use another run directory or the same settings"
                    )
            return
        write_text_atomic(path, json.dumps(wanted, indent=2, sort_keys=True) + "\n")

    def load(self) -> dict[tuple[int, int], SampleRecord]:
        """Every sample journaled in the directory by any writer; the first copy of a key wins."""
        records: dict[tuple[int, int], SampleRecord] = {}
        for path in sorted(self.directory.glob("*.jsonl")):
            lines = path.read_text(encoding="utf-8").split("\n")
            # The part after the last newline is a torn write (or ""): never a finished sample.
            for number, line in enumerate(lines[:-1], start=1):
                if line.strip():
                    record = parse_record(line, str(path), number)
                    records.setdefault(record.key, record)
        return records

    def append(self, records: Iterable[SampleRecord]) -> None:
        """Append records in one write, then flush and fsync: on disk before the call returns."""
        text = "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in records)
        if not text:
            return
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
