"""Real HTTP servers on 127.0.0.1 for the serve tests and the serving benchmark.

- ``ServerThread`` runs any ASGI app under uvicorn in a background thread on a free port.
- ``transformers_upstream``: an OpenAI-compatible chat endpoint backed by the transformers backend
  (the tiny test model), honouring ``n`` and ``seed``.
- ``FakeUpstream``: a fast chat endpoint whose behaviour a test switches at run time (delay,
  HTTP status, malformed JSON), counting calls, ``n`` per call, and client disconnects.
- ``reward_endpoint``: vLLM's ``/pooling`` shape backed by a ``PrmScorer``, or a failing one.

and ``check_best_of_n``, the end-to-end check run against any real upstream (transformers, vLLM).
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import uvicorn
from optscale_gen import STEP_TAG, sample_seed
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

GUARD = 60.0
"""Seconds any wait in these helpers may take before it fails (a guard against hangs)."""


def free_port() -> int:
    """A port nothing listens on right now (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """Serve ``app`` on 127.0.0.1 in a daemon thread; a context manager that stops it on exit."""

    def __init__(self, app: Any, **config: Any) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        options = {"log_level": "warning", "lifespan": "on", **config}
        self.server = uvicorn.Server(uvicorn.Config(app, **options))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        wait_for(lambda: self.server.started, "server start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(GUARD)
        self.sock.close()
        assert not self.thread.is_alive(), "server thread did not stop"


def wait_for(condition: Callable[[], bool], what: str, guard: float = GUARD) -> None:
    """Poll ``condition`` until true; fail after ``guard`` seconds."""
    deadline = time.monotonic() + guard
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


async def until_disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


def last_user(body: dict[str, Any]) -> str:
    return str([m for m in body["messages"] if m["role"] == "user"][-1]["content"])


def chat_answer(
    model: str, texts: list[str], prompt_tokens: int, counts: list[int]
) -> dict[str, Any]:
    choices = [
        {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"}
        for i, t in enumerate(texts)
    ]
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": sum(counts),
        "total_tokens": prompt_tokens + sum(counts),
    }
    return {
        "id": "up",
        "object": "chat.completion",
        "model": model,
        "choices": choices,
        "usage": usage,
    }


def models_route(model: str) -> Route:
    async def models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": model, "object": "model"}]})

    return Route("/v1/models", models)


def transformers_upstream(backend: Any, model: str) -> Starlette:
    """OpenAI chat endpoint over a ``TransformersBackend``: sample j of a call uses seed
    ``sample_seed(seed, 0, j)`` (a fresh random seed per call when the body has none)."""
    from optscale_gen._backend import chat_prompt

    lock = asyncio.Lock()

    async def chat(request: Request) -> Response:
        body = await request.json()
        n = int(body.get("n", 1))
        seed = body.get("seed")
        seed = random.randrange(2**31) if seed is None else int(seed)
        message = last_user(body)
        seeds = [sample_seed(seed, 0, j) for j in range(n)]
        async with lock:
            texts = await asyncio.to_thread(backend.generate, [message] * n, seeds)
        counts = backend.count_tokens(texts)
        prompt = len(backend.tokenizer(chat_prompt(backend.tokenizer, message))["input_ids"])
        return JSONResponse(chat_answer(model, texts, prompt, counts))

    return Starlette(
        routes=[Route("/v1/chat/completions", chat, methods=["POST"]), models_route(model)]
    )


def fake_text(message: str, seed: int, j: int) -> str:
    """A short completion with a boxed answer, a function of (message, seed, j)."""
    rng = random.Random(f"{message}|{seed}|{j}")
    steps = rng.randint(1, 4)
    body = "\n\n".join(f"step {k} of {rng.randint(0, 99)}" for k in range(steps))
    return f"{body}\n\nso \\boxed{{{rng.randint(0, 3)}}}"


class FakeUpstream:
    """A fast OpenAI chat endpoint with switchable misbehaviour (see the module docstring)."""

    def __init__(self, model: str = "fake") -> None:
        self.model = model
        self.delay = 0.0
        self.status = 200
        self.malformed = False
        self.calls = 0
        self.ns: list[int] = []
        self.in_flight = 0
        self.disconnects = 0
        self.app = Starlette(
            routes=[Route("/v1/chat/completions", self.chat, methods=["POST"]), models_route(model)]
        )

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        self.calls += 1
        n = int(body.get("n", 1))
        self.ns.append(n)
        self.in_flight += 1
        try:
            if self.delay:
                sleep = asyncio.ensure_future(asyncio.sleep(self.delay))
                gone = asyncio.ensure_future(until_disconnect(request))
                await asyncio.wait({sleep, gone}, return_when=asyncio.FIRST_COMPLETED)
                sleep.cancel()
                gone.cancel()
                if gone.done() and not gone.cancelled():
                    self.disconnects += 1
                    return Response(status_code=499)
        finally:
            self.in_flight -= 1
        if self.status != 200:
            return JSONResponse({"error": {"message": "upstream broke"}}, status_code=self.status)
        if self.malformed:
            return PlainTextResponse('{"choices": [', media_type="application/json")
        seed = int(body.get("seed", 0) or 0)
        message = last_user(body)
        texts = [fake_text(message, seed, j) for j in range(n)]
        counts = [len(t.split()) for t in texts]
        return JSONResponse(chat_answer(self.model, texts, len(message.split()), counts))


def fake_score(text: str) -> float:
    """A deterministic score in (0, 1) per text."""
    return random.Random(text).betavariate(5, 2)


def reward_endpoint(prm: Any | None, status: int = 200) -> Starlette:
    """vLLM-style ``POST /pooling`` (chat messages in, one [p_wrong, p_right] row per step out),
    backed by ``prm`` (a ``PrmScorer``), or answering ``status`` with an error when not 200."""

    async def pooling(request: Request) -> Response:
        if status != 200:
            return JSONResponse({"error": {"message": "reward model down"}}, status_code=status)
        body = await request.json()
        messages = body["messages"]
        problem = messages[1]["content"]
        tagged = messages[2]["content"]  # steps joined by the tag, one more tag at the end
        completion = tagged.removesuffix(STEP_TAG).replace(STEP_TAG, "\n\n")
        if prm is None:
            rewards = [fake_score(completion)]
            tokens = len(completion.split())
        else:
            rewards = list(prm.step_rewards([problem], [completion])[0])
            tokens = prm.input_tokens([problem], [completion])[0]
        rows = [[1.0 - r, float(r)] for r in rewards]
        data = [{"index": 0, "object": "pooling", "data": rows}]
        return JSONResponse({"data": data, "usage": {"prompt_tokens": tokens}})

    return Starlette(routes=[Route("/pooling", pooling, methods=["POST"])])


QUESTION = "What is 2 + 3?"
MESSAGES = [{"role": "user", "content": QUESTION}]


def direct(url: str, model: str, n: int, seed: int) -> dict[str, Any]:
    """One chat call with ``n`` samples made straight to an upstream."""
    body = {"model": model, "messages": MESSAGES, "n": n, "seed": seed}
    response = httpx.post(url + "/v1/chat/completions", json=body, timeout=GUARD)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def check_best_of_n(upstream_url: str, model: str, scorer: Any) -> None:
    """Through the OptScale server with the openai client, best-of-4 answers the sample the PRM
    scores best among the wave the upstream returns for the same seeded call, and ``usage`` is
    the upstream's plus the PRM's input tokens."""
    import openai
    import pytest
    from optscale_gen import LocalPrmScorer, ServeConfig, create_app

    config = ServeConfig(upstreams=[upstream_url + "/v1"], model=model, served_model_names=["m"])
    with ServerThread(create_app(config, lambda c, m: LocalPrmScorer(scorer))) as server:
        client = openai.OpenAI(
            base_url=server.url + "/v1", api_key="none", timeout=GUARD, max_retries=0
        )
        answer = client.chat.completions.create(
            model="m", messages=MESSAGES, seed=5, extra_body={"method": "bon", "max_n": 4}
        )
    wave = direct(upstream_url, model, 4, sample_seed(5, 0, 0))
    texts = [c["message"]["content"] for c in wave["choices"]]
    scores, _ = scorer.score([QUESTION] * 4, texts)
    best = max(range(4), key=lambda i: (scores[i], -i))
    assert answer.choices[0].message.content == texts[best]
    assert answer.model == "m"
    info = answer.model_extra["optscale"]
    assert info["samples_drawn"] == info["samples_used"] == 4
    assert info["selected"] == best
    assert info["scores"] == pytest.approx(list(scores))
    scoring = sum(scorer.input_tokens([QUESTION] * 4, texts))
    assert answer.usage is not None
    assert answer.usage.completion_tokens == wave["usage"]["completion_tokens"]
    assert answer.usage.prompt_tokens == wave["usage"]["prompt_tokens"] + scoring
    assert answer.usage.total_tokens == wave["usage"]["total_tokens"] + scoring
