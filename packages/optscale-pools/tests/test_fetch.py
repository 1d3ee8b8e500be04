"""Checksummed fetch from a real HTTP server on 127.0.0.1, a mirror folder and file:// URLs."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from optscale_pools import ChecksumError, NoSourceError, data_file, fetch, load_manifest
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


@pytest.fixture
def server(mirror: Path) -> Iterator[str]:
    handler = partial(CountingHandler, directory=str(mirror))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    CountingHandler.requests = []
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


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
    assert main(["fetch", "--only", "data/*", "--cache", str(tmp_path / "c")]) == 0
    assert "1 files verified" in capsys.readouterr().out
    (mirror / "BoN_OptScale/TINY_BoN_results.json").write_bytes(b"{}")
    assert main(["fetch", "--cache", str(tmp_path / "c")]) == 1
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
