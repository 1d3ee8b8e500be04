"""``serve`` when things go wrong: every failure is an OpenAI error object with the right status,
and the server keeps serving; disconnects cancel upstream work; back-pressure; load balancing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import openai
import pytest
from optscale_baselines import make_live_rule
from optscale_gen import (
    HttpRewardScorer,
    LocalPrmScorer,
    RuleDefaults,
    Scored,
    ServeConfig,
    create_app,
)
from optscale_gen._upstream import Replicas
from serve_upstreams import (
    FakeUpstream,
    ServerThread,
    fake_score,
    free_port,
    reward_endpoint,
    wait_for,
)

MESSAGES = [{"role": "user", "content": "What is 2 + 3?"}]
BON = RuleDefaults(method="bon", max_n=2)


def fake_scorer(client: Any, metrics: Any) -> Callable[[str, Sequence[str]], Any]:
    async def score(problem: str, texts: Sequence[str]) -> Scored:
        return Scored([fake_score(t) for t in texts], sum(len(t.split()) for t in texts))

    return score


@contextmanager
def serving(
    urls: list[str], make_scorer: Any = fake_scorer, **config: Any
) -> Iterator[ServerThread]:
    settings = {"upstreams": urls, "model": "fake", "defaults": BON} | config
    with ServerThread(create_app(ServeConfig(**settings), make_scorer)) as server:
        yield server


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream()
    with ServerThread(fake.app) as server:
        fake.url = server.url + "/v1"  # type: ignore[attr-defined]
        yield fake


def api(server: ServerThread, timeout: float = 30) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="x", timeout=timeout, max_retries=0)


def ask(server: ServerThread, **extra: Any) -> Any:
    return api(server).chat.completions.create(model="fake", messages=MESSAGES, extra_body=extra)


def expect_error(server: ServerThread, status: int, kind: str) -> str:
    with pytest.raises(openai.APIStatusError) as caught:
        ask(server)
    assert caught.value.status_code == status
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["type"] == kind
    return str(body["message"])


@pytest.mark.parametrize(
    ("break_it", "status", "kind", "words"),
    [
        (lambda f: setattr(f, "status", 500), 502, "upstream_error", "answered 500"),
        (lambda f: setattr(f, "status", 503), 502, "upstream_error", "upstream broke"),
        (lambda f: setattr(f, "malformed", True), 502, "upstream_error", "malformed JSON"),
        (lambda f: setattr(f, "status", 400), 400, "invalid_request_error", "upstream broke"),
        (lambda f: setattr(f, "delay", 30.0), 504, "upstream_timeout", "timed out"),
    ],
)
def test_upstream_failures_answer_an_error_and_the_server_goes_on(
    upstream: Any, break_it: Callable[[FakeUpstream], None], status: int, kind: str, words: str
) -> None:
    with serving([upstream.url], upstream_timeout=0.5) as server:
        break_it(upstream)
        assert words in expect_error(server, status, kind)
        upstream.status, upstream.malformed, upstream.delay = 200, False, 0.0
        assert ask(server).choices[0].message.content
        metrics = httpx.get(server.url + "/metrics", timeout=10).text
    assert f'optscale_requests_total{{status="{status}"}} 1.0' in metrics
    assert 'optscale_requests_total{status="200"} 1.0' in metrics


def test_a_refused_connection_moves_on_to_the_next_replica(upstream: Any) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with serving([dead]) as server:
        assert "no upstream accepted" in expect_error(server, 502, "upstream_unavailable")
    with serving([dead, upstream.url]) as server:
        for _ in range(4):
            assert ask(server).choices[0].message.content
    assert upstream.calls == 4


def test_failing_scorers_answer_an_error_and_the_server_goes_on(upstream: Any) -> None:
    class Broken:
        def score(self, problems: Any, completions: Any) -> Any:
            raise RuntimeError("CUDA out of memory")

    with serving([upstream.url], lambda c, m: LocalPrmScorer(Broken())) as server:  # type: ignore[arg-type]
        assert "CUDA out of memory" in expect_error(server, 500, "scorer_error")
    with ServerThread(reward_endpoint(None, status=500)) as down:
        make = lambda c, m: HttpRewardScorer(c, [down.url], "prm")  # noqa: E731
        with serving([upstream.url], make) as server:
            assert "reward model down" in expect_error(server, 502, "scorer_error")
    with ServerThread(reward_endpoint(None)) as up:
        make = lambda c, m: HttpRewardScorer(c, [up.url], "prm")  # noqa: E731
        with serving([upstream.url], make) as server:
            assert ask(server).model_extra["optscale"]["samples_drawn"] == 2


def test_a_client_that_disconnects_cancels_its_upstream_call(upstream: Any) -> None:
    upstream.delay = 30.0
    with serving([upstream.url]) as server:
        with pytest.raises(openai.APITimeoutError):
            api(server, timeout=0.5).chat.completions.create(model="fake", messages=MESSAGES)
        wait_for(lambda: upstream.disconnects == 1, "the upstream to see the disconnect")
        metrics = httpx.get(server.url + "/metrics", timeout=10).text
        assert "optscale_client_disconnects_total 1.0" in metrics
        assert "optscale_samples_in_flight 0.0" in metrics
        upstream.delay = 0.0
        assert ask(server).choices[0].message.content  # and it goes on serving
    assert upstream.in_flight == 0


def test_samples_in_flight_are_bounded_per_request_and_overall(upstream: Any) -> None:
    with serving([upstream.url], max_wave=3, max_samples_in_flight=3) as server:
        answer = ask(server, max_n=10)
        assert answer.model_extra["optscale"]["waves"] == [3, 3, 3, 1]
        assert upstream.ns == [3, 3, 3, 1]
        upstream.delay = 1.0
        first: list[Any] = []
        worker = threading.Thread(target=lambda: first.append(ask(server, max_n=3)))
        worker.start()
        wait_for(lambda: upstream.in_flight == 1, "the first request to be in flight")
        with pytest.raises(openai.RateLimitError) as caught:
            ask(server, max_n=3)
        assert "samples in flight" in caught.value.message
        worker.join(30)
        assert first
        assert first[0].model_extra["optscale"]["samples_drawn"] == 3
        assert ask(server, max_n=1).choices  # room again


def test_round_robin_and_least_outstanding_spread_the_calls() -> None:
    fakes = [FakeUpstream(), FakeUpstream()]
    with ServerThread(fakes[0].app) as a, ServerThread(fakes[1].app) as b:
        urls = [a.url + "/v1", b.url + "/v1"]
        with serving(urls, defaults=RuleDefaults(method="bon", max_n=1)) as server:
            for _ in range(6):
                ask(server)
        assert [f.calls for f in fakes] == [3, 3]
    replicas = Replicas(["http://a", "http://b", "http://c"], "least-outstanding")
    replicas.outstanding.update({"http://a": 2, "http://b": 0, "http://c": 1})
    assert replicas.order() == ["http://b", "http://c", "http://a"]
    with replicas.using("http://b"), replicas.using("http://b"):
        assert replicas.order()[0] == "http://c"
    assert replicas.outstanding["http://b"] == 0


@pytest.mark.parametrize(
    ("method", "settings"),
    [("sc", {}), ("threshold", {"tau": 0.8}), ("hybrid", {}), ("deepconf", {})],
)
def test_every_live_rule_serves_and_stops_where_it_says(
    upstream: Any, method: str, settings: dict[str, float]
) -> None:
    with serving([upstream.url], max_wave=4) as server:
        answer = ask(server, method=method, max_n=12, settings=settings)
    info = answer.model_extra["optscale"]
    oracle = make_live_rule(method, 12, **settings)  # the same samples, one at a time
    for value, answer_id in zip(info["scores"], info["answer_ids"], strict=True):
        if oracle.stop:
            break
        oracle.observe(value, answer_id)
    assert info["samples_used"] == oracle.n_seen
    assert info["rule_choice"] == oracle.choice()
    assert info["samples_drawn"] == sum(info["waves"]) <= 12
    assert max(info["waves"]) <= 4
    assert upstream.ns == info["waves"]


def test_a_seeded_request_is_reproducible_and_its_waves_differ(upstream: Any) -> None:
    with serving([upstream.url], max_wave=2) as server:
        first = ask(server, max_n=6, seed=3).model_extra["optscale"]
        again = ask(server, max_n=6, seed=3).model_extra["optscale"]
        other = ask(server, max_n=6, seed=4).model_extra["optscale"]
    assert first["waves"] == [2, 2, 2]
    assert first["scores"] == again["scores"]
    assert first["scores"] != other["scores"]
    assert len(set(first["scores"])) == 6  # no wave repeats another's samples


def test_least_outstanding_sends_calls_around_a_busy_replica() -> None:
    slow, fast = FakeUpstream(), FakeUpstream()
    slow.delay = 3.0
    with ServerThread(slow.app) as a, ServerThread(fast.app) as b:
        urls = [a.url + "/v1", b.url + "/v1"]
        defaults = RuleDefaults(method="bon", max_n=1)
        with serving(urls, defaults=defaults, load_balancing="least-outstanding") as server:
            worker = threading.Thread(target=lambda: ask(server))
            worker.start()
            wait_for(lambda: slow.in_flight == 1, "the first call to reach the first replica")
            for _ in range(5):
                ask(server)
            assert (slow.calls, fast.calls) == (1, 5)
            worker.join(30)


def test_a_method_prefix_in_the_model_name_chooses_the_rule(upstream: Any) -> None:
    defaults = RuleDefaults(method="optscale", max_n=6, peek=2)
    with serving([upstream.url], defaults=defaults) as server:
        client = api(server)
        chosen = client.chat.completions.create(model="bon/fake", messages=MESSAGES)
        assert chosen.model == "fake"
        assert chosen.model_extra["optscale"]["method"] == "bon"
        assert chosen.model_extra["optscale"]["samples_drawn"] == 6
        plain = client.chat.completions.create(model="fake", messages=MESSAGES)
        assert plain.model_extra["optscale"]["method"] == "optscale"
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(model="bon/other", messages=MESSAGES)
