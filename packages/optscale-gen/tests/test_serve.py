"""``serve`` end to end: the official openai client -> OptScale server -> a real HTTP upstream
backed by the transformers backend and the tiny model, scored by the tiny PRM."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import openai
import pytest
from optscale_gen import (
    HttpRewardScorer,
    LocalPrmScorer,
    PrmScorer,
    RuleDefaults,
    ServeConfig,
    TransformersBackend,
    create_app,
)
from optscale_math import Allocator
from serve_upstreams import (
    MESSAGES,
    QUESTION,
    ServerThread,
    check_best_of_n,
    direct,
    reward_endpoint,
    transformers_upstream,
)


@pytest.fixture(scope="module")
def upstream(generator: TransformersBackend) -> Iterator[ServerThread]:
    with ServerThread(transformers_upstream(generator, "tiny-upstream")) as server:
        yield server


def serve(upstream_url: str, make_scorer: Any, **config: Any) -> ServerThread:
    settings = {"upstreams": [upstream_url + "/v1"], "model": "tiny-upstream"} | config
    return ServerThread(create_app(ServeConfig(**settings), make_scorer))


def client(server: ServerThread) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="none", timeout=60, max_retries=0)


def test_best_of_n_answers_the_best_scored_sample_and_counts_every_token(
    upstream: ServerThread, scorer: PrmScorer
) -> None:
    check_best_of_n(upstream.url, "tiny-upstream", scorer)


def test_optscale_stops_where_the_allocator_says(upstream: ServerThread, scorer: PrmScorer) -> None:
    defaults = RuleDefaults(max_n=12, target=0.6, percentile=0.1, peek=3)
    with serve(upstream.url, lambda c, m: LocalPrmScorer(scorer), defaults=defaults) as s:
        answer = client(s).chat.completions.create(model="tiny-upstream", messages=MESSAGES)
    info = answer.model_extra["optscale"]
    oracle = Allocator(target=0.6, percentile=0.1, peek=3, max_n=12)
    for value in info["scores"][:3]:
        oracle.observe(value)
    planned = oracle.decision().planned_n
    assert info["method"] == "optscale"
    assert info["planned_n"] == planned
    assert info["samples_drawn"] == info["samples_used"] == planned
    assert info["waves"] == ([3, planned - 3] if planned > 3 else [3])
    assert info["settings"] == {"target": 0.6, "percentile": 0.1, "peek": 3}


def test_http_reward_scorer_agrees_with_the_local_prm(
    upstream: ServerThread, scorer: PrmScorer
) -> None:
    texts = [
        c["message"]["content"] for c in direct(upstream.url, "tiny-upstream", 3, 11)["choices"]
    ]
    with ServerThread(reward_endpoint(scorer)) as rewards:

        async def both() -> tuple[Any, Any]:
            async with httpx.AsyncClient(timeout=60) as http:
                remote = HttpRewardScorer(http, [rewards.url], "tiny-prm")
                return await remote(QUESTION, texts), await LocalPrmScorer(scorer)(QUESTION, texts)

        import asyncio

        remote, local = asyncio.run(both())
    expected, _ = scorer.score([QUESTION] * 3, texts)
    assert list(remote.scores) == pytest.approx(list(expected))
    assert list(local.scores) == pytest.approx(list(expected))
    assert remote.tokens == local.tokens == sum(scorer.input_tokens([QUESTION] * 3, texts))


def test_models_health_metrics_and_request_errors(
    upstream: ServerThread, scorer: PrmScorer
) -> None:
    names = ["tiny", "tiny-alias"]
    with serve(
        upstream.url, lambda c, m: LocalPrmScorer(scorer), served_model_names=names, api_key="k"
    ) as s:
        api = openai.OpenAI(base_url=s.url + "/v1", api_key="k", timeout=60, max_retries=0)
        assert [m.id for m in api.models.list()] == names
        assert httpx.get(s.url + "/health", timeout=10).status_code == 200
        api.chat.completions.create(model="tiny-alias", messages=MESSAGES, extra_body={"max_n": 1})
        cases: list[tuple[dict[str, Any], int, str]] = [
            ({"model": "other"}, 404, "does not exist"),
            ({"stream": True}, 400, "streaming"),
            ({"n": 2}, 400, "max_n"),
            ({"extra_body": {"max_n": 0}}, 400, "max_n"),
            ({"extra_body": {"max_n": 10_000}}, 400, "max_n"),
            ({"extra_body": {"method": "bon", "target": 0.5}}, 400, "target"),
            ({"extra_body": {"method": "nope"}}, 400, "unknown method"),
            ({"extra_body": {"target": 1.5}}, 400, "target"),
        ]
        for extra, status, words in cases:
            kwargs = {"model": "tiny", "messages": MESSAGES} | extra
            with pytest.raises(openai.APIStatusError) as caught:
                api.chat.completions.create(**kwargs)
            assert caught.value.status_code == status, extra
            assert words in caught.value.message, extra
        wrong_key = openai.OpenAI(base_url=s.url + "/v1", api_key="x", timeout=60, max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            wrong_key.chat.completions.create(model="tiny", messages=MESSAGES)
        metrics = httpx.get(s.url + "/metrics", timeout=10).text
    assert 'optscale_requests_total{status="200"} 1.0' in metrics
    assert 'optscale_requests_total{status="400"} 7.0' in metrics
    assert 'optscale_requests_total{status="404"} 1.0' in metrics
    assert "optscale_samples_total 1.0" in metrics


def test_adaptive_sample_with_the_async_openai_client(
    upstream: ServerThread, scorer: PrmScorer
) -> None:
    from optscale_baselines import make_live_rule
    from optscale_gen import Scored, Wave, adaptive_sample

    usage: list[tuple[int, int]] = []

    async def score(texts: Sequence[str]) -> Scored:
        values, _ = await asyncio.to_thread(scorer.score, [QUESTION] * len(texts), list(texts))
        return Scored(list(values))

    async def run() -> Any:
        async with openai.AsyncOpenAI(
            base_url=upstream.url + "/v1", api_key="none", timeout=60, max_retries=0
        ) as client:

            async def generate(n: int) -> Wave:
                reply = await client.chat.completions.create(
                    model="tiny-upstream", messages=MESSAGES, n=n
                )
                assert reply.usage is not None
                usage.append((reply.usage.prompt_tokens, reply.usage.completion_tokens))
                texts = [choice.message.content or "" for choice in reply.choices]
                return Wave(texts, reply.usage.prompt_tokens, reply.usage.completion_tokens)

            rule = make_live_rule("optscale", 8, target=0.6, percentile=0.1, peek=2)
            return await adaptive_sample(generate, score, rule, max_n=8)

    result = asyncio.run(asyncio.wait_for(run(), 300))
    oracle = Allocator(target=0.6, percentile=0.1, peek=2, max_n=8)
    for value in result.scores[:2]:
        oracle.observe(value)
    assert result.n_drawn == result.n_used == oracle.decision().planned_n
    assert result.prompt_tokens == sum(p for p, _ in usage)
    assert result.completion_tokens == sum(c for _, c in usage)
    expected, _ = scorer.score([QUESTION] * result.n_drawn, result.texts)
    assert result.scores == pytest.approx(list(expected))
    best = max(range(result.n_drawn), key=lambda i: (expected[i], -i))
    assert result.text == result.texts[best]
