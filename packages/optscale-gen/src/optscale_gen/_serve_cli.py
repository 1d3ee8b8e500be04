"""``optscale-gen serve``: the command line of the OpenAI-compatible server.

Flags that mean what vLLM's mean carry vLLM's names (``--host``, ``--port``,
``--served-model-name``, ``--api-key``); the rest say what they bound.
"""

from __future__ import annotations

import argparse
from typing import Any

from optscale_gen._chat import RuleDefaults
from optscale_gen._upstream import POLICIES


def add_serve_parser(commands: Any) -> None:
    """Add the ``serve`` subcommand to the ``optscale-gen`` subparsers."""
    serve = commands.add_parser(
        "serve",
        help="OpenAI-compatible server: adaptive sampling in front of generator endpoints",
        description="Serve /v1/chat/completions by adaptive sampling: waves of samples from "
        "OpenAI-compatible generator endpoints, scored by a PRM, stopped by a rule.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--upstream",
        action="append",
        required=True,
        metavar="URL",
        help="generator base URL, e.g. http://localhost:8001/v1 (repeat for replicas)",
    )
    serve.add_argument("--model", required=True, help="model name the upstreams serve")
    serve.add_argument(
        "--served-model-name", nargs="+", default=None, help="names clients use (default: --model)"
    )
    serve.add_argument("--api-key", default=None, help="require this bearer token from clients")
    serve.add_argument("--upstream-api-key", default=None, help="bearer token for the upstreams")
    serve.add_argument(
        "--load-balancing", choices=POLICIES, default="round-robin", help="replica choice"
    )
    serve.add_argument(
        "--upstream-timeout", type=float, default=600.0, help="seconds per upstream call (504)"
    )
    scoring = serve.add_argument_group("scorer (one of)")
    which = scoring.add_mutually_exclusive_group(required=True)
    which.add_argument("--prm", help="local PRM directory or name (transformers)")
    which.add_argument(
        "--scorer-url", action="append", metavar="URL", help="reward server root (vLLM /pooling)"
    )
    scoring.add_argument("--scorer-model", default=None, help="model name of the reward server")
    scoring.add_argument("--prm-device", default="cpu")
    scoring.add_argument("--prm-batch-size", type=int, default=8)
    scoring.add_argument("--dtype", default="auto", help="local PRM weights dtype")
    scoring.add_argument("--trust-remote-code", action="store_true")
    rule = serve.add_argument_group("stop rule: defaults of the per-request fields")
    base = RuleDefaults()
    rule.add_argument(
        "--method", default=base.method, help="optscale, bon, sc, threshold, sequential, ..."
    )
    rule.add_argument("--max-n", type=int, default=base.max_n, help="most samples per request")
    rule.add_argument("--target", type=float, default=base.target, help="optscale target score")
    rule.add_argument("--percentile", type=float, default=base.percentile)
    rule.add_argument("--peek", type=int, default=base.peek, help="samples before the first fit")
    rule.add_argument(
        "--max-n-limit", type=int, default=base.max_n_limit, help="largest max_n a request may set"
    )
    limits = serve.add_argument_group("limits")
    limits.add_argument("--max-wave", type=int, default=16, help="samples per upstream call, cap")
    limits.add_argument("--min-wave", type=int, default=1, help="samples per upstream call, floor")
    limits.add_argument(
        "--max-samples-in-flight", type=int, default=256, help="over all requests; 429 when full"
    )
    limits.add_argument(
        "--timeout-graceful-shutdown",
        type=float,
        default=600.0,
        help="seconds in-flight requests may take to finish after SIGTERM",
    )
    serve.add_argument("--uvicorn-log-level", default="info")
    serve.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> None:
    """Build the app from the flags and serve it until SIGINT or SIGTERM."""
    import uvicorn

    from optscale_gen._server import ServeConfig, create_app

    if args.scorer_url and not args.scorer_model:
        raise ValueError("--scorer-url needs --scorer-model (the reward server's model name)")
    defaults = RuleDefaults(
        args.method, args.max_n, args.target, args.percentile, args.peek, args.max_n_limit
    )
    config = ServeConfig(
        upstreams=args.upstream,
        model=args.model,
        served_model_names=args.served_model_name or (),
        defaults=defaults,
        max_wave=args.max_wave,
        min_wave=args.min_wave,
        max_samples_in_flight=args.max_samples_in_flight,
        upstream_timeout=args.upstream_timeout,
        load_balancing=args.load_balancing,
        api_key=args.api_key,
        upstream_api_key=args.upstream_api_key,
    )
    app = create_app(config, _scorer_factory(args))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            log_level=args.uvicorn_log_level,
            timeout_graceful_shutdown=args.timeout_graceful_shutdown,
        )
    )
    server.run()


def _scorer_factory(args: argparse.Namespace) -> Any:
    from optscale_gen._scoring import HttpRewardScorer, LocalPrmScorer
    from optscale_gen._upstream import Replicas

    if args.prm:
        from optscale_gen._prm import PrmScorer

        prm = PrmScorer.from_pretrained(
            args.prm,
            batch_size=args.prm_batch_size,
            device=args.prm_device,
            dtype=args.dtype,
            trust_remote_code=args.trust_remote_code,
        )
        return lambda client, metrics: LocalPrmScorer(prm)
    Replicas(args.scorer_url, args.load_balancing)  # bad URLs fail now, not at startup
    return lambda client, metrics: HttpRewardScorer(
        client, args.scorer_url, args.scorer_model, metrics.record_call, args.load_balancing
    )
