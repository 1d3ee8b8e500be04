"""Scorers for the server: a reward endpoint over HTTP (vLLM's pooling API) or a local PRM.

Both score a problem's completions as the PRM reads them (system prompt, problem, steps tagged
with ``<extra_0>``) and return the mean step reward with the tokens the PRM read, so ``usage``
can count scoring too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from optscale_gen._adaptive import Scored
from optscale_gen._errors import ServeError
from optscale_gen._prm import PrmScorer
from optscale_gen._prompts import prm_messages
from optscale_gen._upstream import Record, Replicas, post_json

if TYPE_CHECKING:
    import httpx

ScoreProblem = Callable[[str, Sequence[str]], Awaitable[Scored]]
"""``await scorer(problem, texts)``: one score per completion of ``problem``."""


class HttpRewardScorer:
    """A PRM behind vLLM's pooling API (``POST /pooling`` with chat ``messages``).

    Each completion is one request (they run concurrently); the endpoint must answer one row per
    step, either ``[p_wrong, p_right]`` (vLLM's step pooler for Qwen2.5-Math-PRM) or one number.
    The score is the mean positive-class value over the steps (0 with no step, as upstream).

    Parameters
    ----------
    client
        Shared HTTP client (an ``httpx.AsyncClient``; its timeout applies).
    urls
        Root URLs of the reward server replicas (``http://host:port``, no ``/v1``).
    model
        Model name the reward server serves.
    record
        Optional metrics callback ``record(url, outcome)``.
    load_balancing
        ``"round-robin"`` or ``"least-outstanding"`` over ``urls``.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        urls: Sequence[str],
        model: str,
        record: Record | None = None,
        load_balancing: str = "round-robin",
    ) -> None:
        self.client = client
        self.replicas = Replicas(urls, load_balancing)
        self.model = model
        self.record = record

    async def __call__(self, problem: str, texts: Sequence[str]) -> Scored:
        """Score every completion of ``problem``; see the class docstring."""
        tasks = [asyncio.ensure_future(self._one(problem, text)) for text in texts]
        try:
            results = await asyncio.gather(*tasks)
        except BaseException:  # one failed (or we were cancelled): stop the others too
            for task in tasks:
                task.cancel()
            raise
        return Scored([score for score, _ in results], sum(tokens for _, tokens in results))

    async def _one(self, problem: str, text: str) -> tuple[float, int]:
        body = {"model": self.model, "messages": prm_messages(problem, text)}
        payload = await post_json(
            self.client, self.replicas, "/pooling", body, what="scorer", record=self.record
        )
        try:
            rows = payload["data"][0]["data"]
            values = [float(row[-1]) if isinstance(row, list) else float(row) for row in rows]
            tokens = int(payload.get("usage", {}).get("prompt_tokens", 0))
        except (KeyError, IndexError, TypeError, ValueError) as error:
            message = f"scorer answered no per-step rewards ({type(error).__name__}: {error})"
            raise ServeError(502, message, "scorer_error") from error
        return (sum(values) / len(values) if values else 0.0), tokens


class LocalPrmScorer:
    """A [`PrmScorer`][optscale_gen.PrmScorer] in this process, one batch at a time.

    The forward pass runs in a worker thread so the server keeps answering; calls are serialised
    (one model, one batch at a time). A failure of the model becomes an HTTP 500 error.
    """

    def __init__(self, scorer: PrmScorer) -> None:
        self.scorer = scorer
        self._lock = asyncio.Lock()

    async def __call__(self, problem: str, texts: Sequence[str]) -> Scored:
        """Score every completion of ``problem`` with the local PRM."""
        problems = [problem] * len(texts)
        async with self._lock:
            try:
                scores, tokens = await asyncio.to_thread(self._score, problems, texts)
            except Exception as error:
                message = f"scorer failed: {type(error).__name__}: {error}"
                raise ServeError(500, message, "scorer_error") from error
        return Scored(scores, tokens)

    def _score(self, problems: list[str], texts: Sequence[str]) -> tuple[list[float], int]:
        scores, _ = self.scorer.score(problems, texts)
        return [float(s) for s in scores], sum(self.scorer.input_tokens(problems, texts))
