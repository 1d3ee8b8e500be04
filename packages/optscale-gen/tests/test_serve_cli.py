"""``optscale-gen serve`` as a process: it serves, and SIGTERM lets requests in flight finish."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from optscale_gen.cli import main
from serve_upstreams import FakeUpstream, ServerThread, free_port, reward_endpoint, wait_for

GUARD = 120


@pytest.fixture
def upstream() -> Iterator[tuple[FakeUpstream, str, str]]:
    fake = FakeUpstream()
    with ServerThread(fake.app) as chat, ServerThread(reward_endpoint(None)) as rewards:
        yield fake, chat.url + "/v1", rewards.url


def serve_command(upstream_url: str, rewards_url: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "optscale_gen.cli",
        "serve",
        "--port",
        str(port),
        "--upstream",
        upstream_url,
        "--model",
        "fake",
        "--served-model-name",
        "served",
        "--scorer-url",
        rewards_url,
        "--scorer-model",
        "prm",
        "--method",
        "bon",
        "--max-n",
        "2",
        "--uvicorn-log-level",
        "warning",
    ]


def healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_sigterm_finishes_the_requests_in_flight(upstream: tuple[Any, str, str]) -> None:
    fake, chat_url, rewards_url = upstream
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        serve_command(chat_url, rewards_url, port), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        wait_for(lambda: healthy(url) or process.poll() is not None, "the server", GUARD)
        assert process.poll() is None, process.communicate()[1]
        client = openai.OpenAI(base_url=url + "/v1", api_key="x", timeout=GUARD, max_retries=0)
        messages = [{"role": "user", "content": "hi"}]
        assert client.chat.completions.create(model="served", messages=messages)
        fake.delay = 1.5
        answers: list[Any] = []

        def ask() -> None:
            answers.append(client.chat.completions.create(model="served", messages=messages))

        worker = threading.Thread(target=ask)
        worker.start()
        wait_for(lambda: fake.in_flight == 1, "the request to reach the upstream")
        process.send_signal(signal.SIGTERM)
        worker.join(GUARD)
        assert answers, "the request in flight was dropped"
        assert answers[0].model_extra["optscale"]["samples_drawn"] == 2
        # uvicorn exits 0 or, in recent releases, re-raises the signal once it has shut down
        assert process.wait(GUARD) in (0, -signal.SIGTERM)
        assert b"Traceback" not in process.communicate(timeout=GUARD)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(GUARD)


def test_usage_errors_exit_2_and_bad_settings_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["serve", "--upstream", "http://127.0.0.1:1/v1", "--model", "m"])  # no scorer
    assert usage.value.code == 2
    base = ["serve", "--upstream", "http://127.0.0.1:1/v1", "--model", "m", "--scorer-url", "u"]
    assert main(base) == 1
    assert "--scorer-model" in capsys.readouterr().err
    assert main([*base, "--scorer-model", "p", "--target", "2"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("optscale-gen: error: bad rule defaults")
    assert "target" in err
    assert main([*base, "--scorer-model", "p", "--max-wave", "0"]) == 1
    assert "max_wave" in capsys.readouterr().err
