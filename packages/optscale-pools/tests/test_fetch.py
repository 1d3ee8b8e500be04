"""Checksummed fetch from a real HTTP server on 127.0.0.1, a mirror folder and file:// URLs."""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from optscale_pools import (
    ChecksumError,
    FetchError,
    NoSourceError,
    PoolFormatError,
    UnsafePathError,
    data_file,
    fetch,
    load_manifest,
)
from optscale_pools.cli import main

FILES = {
    "data/test_prompts/tiny.json": b'[{"problem": "p", "answer": "1"}]',
    "BoN_OptScale/TINY_BoN_results.json": b'{"1": 0.5}',
    "notebook_figures/TINY.json": b'{"full_mu": [0.1]}',
}


class CountingHandler(SimpleHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        CountingHandler.requests.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    for relpath, data in FILES.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_bytes(data)
    return root


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    entries = [
        {
            "path": relpath,
            "url": f"https://upstream.invalid/{relpath}",
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        for relpath, data in FILES.items()
    ]
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"files": entries}))
    return path


@contextmanager
def serving(handler: Callable[..., BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free port of 127.0.0.1 in a thread; yield the base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def server(mirror: Path) -> Iterator[str]:
    CountingHandler.requests = []
    with serving(partial(CountingHandler, directory=str(mirror))) as url:
        yield url


def test_fetch_over_http_verifies_and_skips_verified_files(
    tmp_path: Path, manifest: Path, server: str
) -> None:
    cache = tmp_path / "cache"
    paths = fetch(cache=cache, manifest=manifest, mirror=server, progress=False)
    assert [p.read_bytes() for p in paths] == list(FILES.values())
    assert paths[0] == cache / "upstream" / "data/test_prompts/tiny.json"
    assert len(CountingHandler.requests) == len(FILES)
    again = fetch(cache=cache, manifest=manifest, mirror=server, progress=False)
    assert again == paths
    assert len(CountingHandler.requests) == len(FILES)


def test_only_glob(tmp_path: Path, manifest: Path, server: str) -> None:
    paths = fetch("BoN_OptScale/*", cache=tmp_path / "c", manifest=manifest, mirror=server)
    assert [p.name for p in paths] == ["TINY_BoN_results.json"]
    with pytest.raises(ValueError, match="no manifest entry matches"):
        fetch("nothing/*", cache=tmp_path / "c", manifest=manifest, mirror=server)


def test_corrupt_file_is_rejected_and_not_kept(
    tmp_path: Path, manifest: Path, mirror: Path, server: str
) -> None:
    (mirror / "notebook_figures/TINY.json").write_bytes(b'{"full_mu": [9.9]}')
    cache = tmp_path / "cache"
    with pytest.raises(ChecksumError, match=r"notebook_figures/TINY\.json.*not kept"):
        fetch(cache=cache, manifest=manifest, mirror=server, progress=False)
    kept = sorted(
        p.relative_to(cache / "upstream").as_posix() for p in cache.rglob("*") if p.is_file()
    )
    assert kept == sorted(set(FILES) - {"notebook_figures/TINY.json"})


def test_cached_file_that_went_bad_is_fetched_again(
    tmp_path: Path, manifest: Path, mirror: Path
) -> None:
    cache = tmp_path / "cache"
    (path,) = fetch("data/*", cache=cache, manifest=manifest, mirror=str(mirror))
    path.write_bytes(b"garbage")
    (again,) = fetch("data/*", cache=cache, manifest=manifest, mirror=mirror.as_uri())
    assert again.read_bytes() == FILES["data/test_prompts/tiny.json"]


def test_file_without_url_needs_a_mirror(
    tmp_path: Path, manifest: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads(manifest.read_text())
    data["files"][2]["url"] = None
    manifest.write_text(json.dumps(data))
    monkeypatch.delenv("OPTSCALE_DATA_MIRROR", raising=False)
    with pytest.raises(NoSourceError, match="no public URL"):
        fetch("notebook_figures/*", cache=tmp_path / "c", manifest=manifest)
    (path,) = fetch(
        "notebook_figures/*", cache=tmp_path / "c", manifest=manifest, mirror=str(mirror)
    )
    assert path.read_bytes() == FILES["notebook_figures/TINY.json"]


def test_data_file_uses_the_environment(
    tmp_path: Path, manifest: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPTSCALE_MANIFEST", str(manifest))
    monkeypatch.setenv("OPTSCALE_CACHE", str(tmp_path / "env-cache"))
    monkeypatch.setenv("OPTSCALE_DATA_MIRROR", str(mirror))
    path = data_file("notebook_figures/TINY.json")
    assert path == tmp_path / "env-cache/upstream/notebook_figures/TINY.json"
    assert path.read_bytes() == FILES["notebook_figures/TINY.json"]
    with pytest.raises(KeyError, match="not in the manifest"):
        data_file("nope.json")


def test_cli_fetch_reports_a_bad_checksum(
    tmp_path: Path,
    manifest: Path,
    mirror: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPTSCALE_MANIFEST", str(manifest))
    monkeypatch.setenv("OPTSCALE_DATA_MIRROR", str(mirror))
    assert main(["fetch", "--only", "data/*", "--cache-dir", str(tmp_path / "c")]) == 0
    assert "1 files verified" in capsys.readouterr().out
    (mirror / "BoN_OptScale/TINY_BoN_results.json").write_bytes(b"{}")
    assert main(["fetch", "--cache-dir", str(tmp_path / "c")]) == 1
    lines = capsys.readouterr().err.splitlines()
    errors = [line for line in lines if line.startswith("optscale-pools fetch: error:")]
    assert len(errors) == 1
    assert "sha256" in errors[0]


def test_repository_manifest_matches_the_mirror() -> None:
    entries = load_manifest(Path(__file__).parents[3] / "data" / "manifest.json")
    paths = {entry.path for entry in entries}
    for required in (
        "data/test_prompts/aime24.json",
        "data/test_prompts/gsm8k_test.json",
        "train_predictor/val_mu_sigma.json",
        "BoN_OptScale/MATH500_train_mu_sigma.json",
        "BoN_OptScale/AIME25_BoN_results.json",
        "SC/GSM8K_maj_vote_results.json",
        "Seq/AMC23_MR-Thinking.json",
        "notebook_figures/MATH500.json",
        "results/results_table.csv",
    ):
        assert required in paths
    assert all(e.url.endswith(e.path) for e in entries if not e.path.startswith("notebook_"))
    folder = os.environ.get("OPTSCALE_DATA_MIRROR")
    if not folder or not Path(folder).is_dir():
        pytest.skip("OPTSCALE_DATA_MIRROR does not name the upstream mirror folder")
    upstream = json.loads((Path(folder) / "MANIFEST.json").read_text())["files"]
    by_path = {f["path"]: f["sha256"] for f in upstream}
    assert all(by_path[entry.path] == entry.sha256 for entry in entries)


class HostileHandler(BaseHTTPRequestHandler):
    """Misbehaving mirror: drips, floods, or fails, by path prefix."""

    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        HostileHandler.requests.append(self.path)
        kind = self.path.strip("/").split("/")[0]
        if kind in ("missing", "broken"):
            self.send_error(404 if kind == "missing" else 500)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(2**31))
        self.end_headers()
        try:
            while True:  # "drip": one byte per 0.2 s; "flood": 2 GB in blocks
                self.wfile.write(b"x" if kind == "drip" else b"x" * 65536)
                self.wfile.flush()
                if kind == "drip":
                    time.sleep(0.2)
        except OSError:
            return

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def hostile() -> Iterator[str]:
    HostileHandler.requests = []
    with serving(HostileHandler) as url:
        yield url


def one_entry_manifest(tmp_path: Path, relpath: str, data: bytes = b"x" * 34) -> Path:
    entry = {
        "path": relpath,
        "url": None,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"files": [entry]}))
    return path


def bounded(call: Callable[[], object], guard: float = 60.0) -> BaseException | None:
    """Run ``call`` in a thread; fail the test if it is still running after ``guard`` seconds."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            call()
        except BaseException as error:
            outcome.append(error)
        else:
            outcome.append(None)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(guard)
    assert not thread.is_alive(), f"still running after the {guard} s guard"
    return outcome[0]


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_a_dripping_server_ends_at_the_deadline(tmp_path: Path, hostile: str) -> None:
    manifest = one_entry_manifest(tmp_path, "drip/file.json")
    cache = tmp_path / "cache"
    error = bounded(
        lambda: fetch(
            cache=cache,
            manifest=manifest,
            mirror=hostile,
            progress=False,
            read_timeout=5,
            deadline=1.0,
            retries=2,
        )
    )
    assert isinstance(error, FetchError)
    message = str(error)
    assert "deadline" in message
    assert f"{hostile}/drip/file.json" in message
    assert "drip/file.json" in message.split(" from ")[0]
    assert files_under(tmp_path / "cache") == []


def test_a_flooding_server_is_cut_at_the_manifest_size(tmp_path: Path, hostile: str) -> None:
    manifest = one_entry_manifest(tmp_path, "flood/file.json")
    error = bounded(
        lambda: fetch(cache=tmp_path / "cache", manifest=manifest, mirror=hostile, progress=False)
    )
    assert isinstance(error, ChecksumError)
    assert "more than the manifest's 34 bytes" in str(error)
    assert files_under(tmp_path / "cache") == []


@pytest.mark.parametrize(
    ("kind", "cause", "tries"), [("missing", "HTTP 404", 1), ("broken", "HTTP 500", 3)]
)
def test_http_errors_name_url_and_file(
    tmp_path: Path, hostile: str, kind: str, cause: str, tries: int
) -> None:
    manifest = one_entry_manifest(tmp_path, f"{kind}/file.json")
    with pytest.raises(FetchError) as caught:
        fetch(
            cache=tmp_path / "cache",
            manifest=manifest,
            mirror=hostile,
            progress=False,
            retries=2,
            pause=0.01,
        )
    message = str(caught.value)
    assert cause in message
    assert f"cannot download {kind}/file.json from {hostile}/{kind}/file.json" in message
    assert "OPTSCALE_DATA_MIRROR" in message
    assert len(HostileHandler.requests) == tries
    assert "\n" not in message


def test_a_refused_connection_names_url_and_file(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    manifest = one_entry_manifest(tmp_path, "data/file.json")
    mirror = f"http://127.0.0.1:{port}"
    with pytest.raises(
        FetchError, match=rf"data/file\.json from {mirror}/data/file\.json: .*refused"
    ):
        fetch(cache=tmp_path / "c", manifest=manifest, mirror=mirror, progress=False, pause=0.01)


@pytest.mark.parametrize(
    "relpath", ["../escape.json", "a/../../escape.json", "/tmp/abs.json", "C:/x.json", "a//b", ""]
)
def test_manifest_paths_leaving_the_cache_are_refused(
    tmp_path: Path,
    mirror: Path,
    relpath: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manifest = one_entry_manifest(tmp_path, relpath)
    cache = tmp_path / "deep" / "cache"
    with pytest.raises(PoolFormatError, match=r"one\.json: record 0: field 'path': unsafe"):
        fetch(cache=cache, manifest=manifest, mirror=str(mirror), progress=False)
    monkeypatch.setenv("OPTSCALE_MANIFEST", str(manifest))
    assert main(["fetch", "--cache-dir", str(cache)]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    assert [p for p in files_under(tmp_path) if p.name not in ("one.json",)] == files_under(mirror)


def test_a_symlink_out_of_the_cache_is_refused(
    tmp_path: Path, manifest: Path, mirror: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    cache = tmp_path / "cache"
    (cache / "upstream").mkdir(parents=True)
    (cache / "upstream" / "data").symlink_to(outside)
    with pytest.raises(UnsafePathError, match="resolves outside"):
        fetch("data/*", cache=cache, manifest=manifest, mirror=str(mirror), progress=False)
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(
    ("option", "value"),
    [("read_timeout", 0), ("read_timeout", math.inf), ("deadline", math.nan), ("retries", -1)],
)
def test_limits_must_be_sane(tmp_path: Path, manifest: Path, option: str, value: float) -> None:
    with pytest.raises(ValueError, match=rf"^{option} must be "):
        fetch(cache=tmp_path, manifest=manifest, mirror="unused", **{option: value})
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]
