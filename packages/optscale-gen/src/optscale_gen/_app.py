"""The ASGI app behind ``optscale-gen serve``: routes, per-request sampling, limits, metrics.

Imported only when an app is built, so that importing optscale_gen does not import the web stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from optscale_gen._adaptive import AdaptiveResult, Scored, Wave, adaptive_sample
from optscale_gen._capacity import SampleLimiter
from optscale_gen._chat import (
    ChatRequest,
    chat_response,
    parse_request,
    parse_wave,
    wave_body,
)
from optscale_gen._errors import ServeError
from optscale_gen._metrics import ServeMetrics
from optscale_gen._upstream import Replicas, post_json

if TYPE_CHECKING:
    from optscale_gen._scoring import ScoreProblem
    from optscale_gen._server import ScorerFactory, ServeConfig

LOG = logging.getLogger("optscale_gen.serve")


class Service:
    """Per-app state: the HTTP client, replicas, limiter, metrics and scorer."""

    def __init__(self, config: ServeConfig, make_scorer: ScorerFactory) -> None:
        self.config = config
        self.make_scorer = make_scorer
        self.metrics = ServeMetrics()
        self.replicas = Replicas(config.upstreams, config.load_balancing)
        self.limiter = SampleLimiter(config.max_samples_in_flight)
        self.client: httpx.AsyncClient | None = None
        self.scorer: ScoreProblem | None = None

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        headers = {}
        if self.config.upstream_api_key:
            headers["Authorization"] = f"Bearer {self.config.upstream_api_key}"
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=256)
        timeout = httpx.Timeout(self.config.upstream_timeout, pool=None)
        async with httpx.AsyncClient(timeout=timeout, limits=limits, headers=headers) as client:
            self.client = client
            self.scorer = self.make_scorer(client, self.metrics)
            yield
        self.client = None

    async def chat(self, request: Request) -> Response:
        started = time.perf_counter()
        self.metrics.requests_in_flight.inc()
        try:
            response = await self._chat(request)
        except ServeError as error:
            response = JSONResponse(error.body(), status_code=error.status)
        except Exception as error:  # a bug must still answer JSON, and the server goes on
            LOG.exception("chat request failed")
            failure = ServeError(500, f"internal error: {type(error).__name__}", "internal_error")
            response = JSONResponse(failure.body(), status_code=500)
        finally:
            self.metrics.requests_in_flight.dec()
        self.metrics.requests.labels(status=str(response.status_code)).inc()
        self.metrics.latency.observe(time.perf_counter() - started)
        return response

    async def _chat(self, request: Request) -> Response:
        self._authorize(request)
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            message = f"the request body is not JSON: {error}"
            raise ServeError(400, message, "invalid_request_error") from error
        config = self.config
        parsed = parse_request(body, config.names, config.model, config.defaults)
        if self.limiter.full:
            message = "the server is at its limit of samples in flight; retry later"
            raise ServeError(429, message, "rate_limit_error")
        work = asyncio.ensure_future(self._sample(parsed))
        gone = asyncio.ensure_future(_disconnected(request))
        try:
            await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:  # also when this handler is cancelled: no sampling outlives its request
            gone.cancel()
            if not work.done():
                work.cancel()
        if not work.done() or work.cancelled():  # the client left: its upstream calls stop
            with contextlib.suppress(asyncio.CancelledError, ServeError):
                await work
            self.metrics.disconnects.inc()
            return Response(status_code=499)
        result = work.result()
        self._count(result)
        return JSONResponse(chat_response(parsed, result))

    async def _sample(self, parsed: ChatRequest) -> AdaptiveResult:
        drawn = 0

        async def generate(n: int) -> Wave:
            nonlocal drawn
            body = wave_body(parsed, n, drawn)
            drawn += n
            assert self.client is not None
            payload = await post_json(
                self.client,
                self.replicas,
                "/chat/completions",
                body,
                what="upstream",
                record=self.metrics.record_call,
            )
            return parse_wave(payload, n)

        async def score(texts: Sequence[str]) -> Scored:
            assert self.scorer is not None
            return await self.scorer(parsed.problem, texts)

        try:
            return await adaptive_sample(
                generate,
                score,
                parsed.rule(),
                max_n=parsed.max_n,
                max_wave=self.config.max_wave,
                min_wave=self.config.min_wave,
                hold=self._hold,
            )
        except ValueError as error:  # a scorer answering the wrong number of scores
            raise ServeError(502, str(error), "scorer_error") from error

    @contextlib.asynccontextmanager
    async def _hold(self, n: int) -> AsyncIterator[None]:
        async with self.limiter.hold(n):
            self.metrics.samples_in_flight.inc(n)
            try:
                yield
            finally:
                self.metrics.samples_in_flight.dec(n)

    def _count(self, result: AdaptiveResult) -> None:
        self.metrics.samples.inc(result.n_drawn)
        self.metrics.tokens.labels(kind="prompt").inc(result.prompt_tokens)
        self.metrics.tokens.labels(kind="completion").inc(result.completion_tokens)
        self.metrics.tokens.labels(kind="scoring").inc(result.score_tokens)

    def _authorize(self, request: Request) -> None:
        key = self.config.api_key
        if key and request.headers.get("authorization") != f"Bearer {key}":
            raise ServeError(401, "missing or wrong API key", "authentication_error")

    async def models(self, request: Request) -> Response:
        try:
            self._authorize(request)
        except ServeError as error:
            return JSONResponse(error.body(), status_code=error.status)
        cards = [
            {"id": name, "object": "model", "created": 0, "owned_by": "optscale", "root": name}
            for name in self.config.names
        ]
        return JSONResponse({"object": "list", "data": cards})

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics_text(self, request: Request) -> Response:
        return Response(self.metrics.render(), media_type="text/plain; version=0.0.4")


def build(config: ServeConfig, make_scorer: ScorerFactory) -> Starlette:
    """Build the Starlette app for ``config`` (see [`create_app`][optscale_gen.create_app])."""
    service = Service(config, make_scorer)
    routes = [
        Route("/v1/chat/completions", service.chat, methods=["POST"]),
        Route("/v1/models", service.models, methods=["GET"]),
        Route("/health", service.health, methods=["GET"]),
        Route("/metrics", service.metrics_text, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=service.lifespan)
    app.state.metrics = service.metrics
    app.state.limiter = service.limiter
    return app


async def _disconnected(request: Request) -> None:
    """Return when the client disconnects (the body has been read: only that message remains)."""
    while True:
        message: Any = await request.receive()
        if message["type"] == "http.disconnect":
            return
