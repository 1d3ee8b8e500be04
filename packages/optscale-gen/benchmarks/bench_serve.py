"""Load on ``optscale-gen serve``: 200 requests at concurrency 32 against a fast upstream.

Three processes: a fake OpenAI upstream (a real HTTP server answering at once), the OptScale
server (scoring in-process with a deterministic fake scorer, so the upstream is its only
network hop), and this load generator. Reports every request answered (none lost), p50/p99
latency, the server's own overhead (latency through it minus latency of the same upstream call
made directly, at concurrency 32 and 1), and tokens spent by OptScale against fixed-N best-of-N
on the same prompts.
Run: ``python packages/optscale-gen/benchmarks/bench_serve.py [--requests R] [--concurrency C]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

TESTS = Path(__file__).resolve().parents[1] / "tests"
GUARD = 120.0


def serve_role(role: str, port: int, upstream: str) -> None:
    """Run one of the two servers in this process (the benchmark starts them as subprocesses)."""
    sys.path.insert(0, str(TESTS))
    import uvicorn
    from optscale_gen import Scored, ServeConfig, create_app
    from serve_upstreams import FakeUpstream

    if role == "upstream":
        app: Any = FakeUpstream().app
    else:

        def scorer(client: Any, metrics: Any) -> Any:
            async def score(problem: str, texts: list[str]) -> Scored:
                # easy and hard problems: the score law's location depends on the problem
                ease = 1.0 + 9.0 * random.Random(problem).random()
                values = [random.Random(problem + t).betavariate(ease, 2.0) for t in texts]
                return Scored(values, sum(len(t.split()) for t in texts))

            return score

        config = ServeConfig(upstreams=[upstream], model="fake", max_samples_in_flight=1024)
        app = create_app(config, scorer)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def start(role: str, port: int, upstream: str = "") -> subprocess.Popen[bytes]:
    """Start a server role in a subprocess and wait for it to answer."""
    command = [sys.executable, __file__, "--role", role, "--port", str(port)]
    process = subprocess.Popen([*command, "--upstream", upstream])
    deadline = time.monotonic() + GUARD
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the {role} did not start")
        time.sleep(0.05)


async def load(
    url: str, bodies: list[dict[str, Any]], concurrency: int
) -> tuple[list[float], list[dict[str, Any]], int]:
    """Send every body at ``concurrency``; latencies (s), answers, and how many failed."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    answers: list[dict[str, Any]] = []
    failed = 0
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=GUARD, limits=limits) as client:

        async def one(body: dict[str, Any]) -> None:
            nonlocal failed
            async with gate:
                started = time.perf_counter()
                response = await client.post(url + "/v1/chat/completions", json=body)
                latencies.append(time.perf_counter() - started)
            if response.status_code == 200:
                answers.append(response.json())
            else:
                failed += 1

        await asyncio.gather(*(one(body) for body in bodies))
    return latencies, answers, failed


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    """CPU time (user + system) a process has used so far: its own work, whatever else runs."""
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantile(values: list[float], q: float) -> float:
    """Empirical quantile (statistics' inclusive method)."""
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def prompts(count: int) -> list[list[dict[str, str]]]:
    """Distinct one-message chats."""
    return [[{"role": "user", "content": f"Problem {i}: what is {i} + {i}?"}] for i in range(count)]


def main() -> None:
    """Start the servers, run the load, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--role", choices=["upstream", "server"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--upstream", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        serve_role(args.role, args.port, args.upstream)
        return
    sys.path.insert(0, str(TESTS))
    from serve_upstreams import free_port

    up_port, serve_port = free_port(), free_port()
    upstream = start("upstream", up_port)
    server = start("server", serve_port, f"http://127.0.0.1:{up_port}/v1")
    try:
        report(f"http://127.0.0.1:{up_port}", f"http://127.0.0.1:{serve_port}", args, server)
    finally:
        for process in (server, upstream):
            process.terminate()
            process.wait(GUARD)


def report(
    upstream: str, server: str, args: argparse.Namespace, process: subprocess.Popen[bytes]
) -> None:
    """Run every measurement and print it."""
    chats = prompts(args.requests)
    n = 4  # one wave of four samples through the server, the same call made directly
    direct = [{"model": "fake", "messages": m, "n": n} for m in chats]
    via = [{"model": "fake", "messages": m, "method": "bon", "max_n": n} for m in chats]
    print(f"{args.requests} requests, fake upstream, one wave of n = {n} per request")
    asyncio.run(load(upstream, direct[:32], 32))  # warm both paths
    asyncio.run(load(server, via[:32], 32))
    # Concurrency C: three alternating runs of each (the machine's load drifts between them).
    runs: dict[str, list[list[float]]] = {"direct": [], "serve": []}
    cpu = 0.0
    for _ in range(3):
        latencies, answers, failed = asyncio.run(load(upstream, direct, args.concurrency))
        runs["direct"].append(latencies)
        before = cpu_seconds(process)
        latencies, answers, failed = asyncio.run(load(server, via, args.concurrency))
        cpu += cpu_seconds(process) - before
        runs["serve"].append(latencies)
        lost = args.requests - len(answers) - failed
        print(
            f"concurrency {args.concurrency}: answered {len(answers)}/{args.requests}, "
            f"errors {failed}, lost {lost}"
        )
    for name, lats in runs.items():
        p50 = statistics.median(quantile(lat, 0.5) for lat in lats)
        p99 = statistics.median(quantile(lat, 0.99) for lat in lats)
        print(f"  {name:6s} p50 {1e3 * p50:7.2f} ms  p99 {1e3 * p99:7.2f} ms (median of 3 runs)")
    print(f"  server CPU time: {1e3 * cpu / (3 * args.requests):.2f} ms per request")
    # Concurrency 1, paired: each prompt directly, then through the server, back to back.
    paired = asyncio.run(pairs(upstream, server, direct, via))
    print(
        f"server overhead, paired at concurrency 1: p50 {1e3 * quantile(paired, 0.5):.2f} ms, "
        f"p99 {1e3 * quantile(paired, 0.99):.2f} ms per request"
    )
    budget = 16
    for method in ("optscale", "bon"):
        bodies = [
            {"model": "fake", "messages": m, "method": method, "max_n": budget} for m in chats
        ]
        _, answers, failed = asyncio.run(load(server, bodies, args.concurrency))
        tokens = sum(a["usage"]["total_tokens"] for a in answers)
        drawn = [a["optscale"]["samples_drawn"] for a in answers]
        best = [a["optscale"]["scores"][a["optscale"]["selected"]] for a in answers]
        print(
            f"{method:8s} max_n {budget}: tokens {tokens} ({tokens / len(answers):.0f}/request), "
            f"samples {statistics.mean(drawn):.2f}/request, selected score "
            f"{statistics.mean(best):.3f}, errors {failed}"
        )


async def pairs(
    upstream: str, server: str, direct: list[dict[str, Any]], via: list[dict[str, Any]]
) -> list[float]:
    """Latency through the server minus latency of the same call made directly, per prompt."""
    differences = []
    async with httpx.AsyncClient(timeout=GUARD) as client:
        for plain, adaptive in zip(direct, via, strict=True):
            started = time.perf_counter()
            (await client.post(upstream + "/v1/chat/completions", json=plain)).raise_for_status()
            middle = time.perf_counter()
            (await client.post(server + "/v1/chat/completions", json=adaptive)).raise_for_status()
            differences.append((time.perf_counter() - middle) - (middle - started))
    return differences


if __name__ == "__main__":
    main()
