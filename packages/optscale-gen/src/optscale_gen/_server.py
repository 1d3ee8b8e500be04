"""The OpenAI-compatible server: adaptive sampling in front of generator replicas and a scorer.

Routes: ``POST /v1/chat/completions``, ``GET /v1/models``, ``GET /health``, ``GET /metrics``.
A chat request runs [`adaptive_sample`][optscale_gen.adaptive_sample] with waves sent upstream
(``n`` = wave size) and scored; the answer is the selected completion. The work runs in a task
that is cancelled when the client disconnects, which closes its upstream connections. This module
holds the configuration; the web stack (Starlette, httpx) loads only when an app is built.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from optscale_gen._adaptive import Scored
from optscale_gen._chat import RuleDefaults, parse_request
from optscale_gen._errors import ServeError
from optscale_gen._upstream import Replicas

if TYPE_CHECKING:
    import httpx
    from starlette.applications import Starlette

    from optscale_gen._metrics import ServeMetrics

ScorerFactory = Callable[
    ["httpx.AsyncClient", "ServeMetrics"], Callable[[str, Sequence[str]], Awaitable[Scored]]
]
"""Builds the scorer once the server's HTTP client exists (a local PRM may ignore both)."""


@dataclass(frozen=True)
class ServeConfig:
    """Everything the server needs besides the scorer.

    Attributes
    ----------
    upstreams
        Base URLs of the generator replicas (``http://host:port/v1``).
    model
        Model name the upstreams serve (sent upstream as ``model``).
    served_model_names
        Names clients may ask for (default: ``model``).
    defaults
        Default rule settings and the cap on a request's ``max_n``.
    max_wave
        Most samples one upstream call asks for (the bound per request).
    min_wave
        Fewest samples one upstream call asks for.
    max_samples_in_flight
        Most samples generated or scored at once over all requests; new requests get 429 when
        there is no room.
    upstream_timeout
        Seconds an upstream call may take (reading, connecting, writing) before a 504.
    load_balancing
        ``"round-robin"`` or ``"least-outstanding"``.
    api_key
        When set, clients must send ``Authorization: Bearer <api_key>``.
    upstream_api_key
        Sent to the upstreams as a bearer token.
    """

    upstreams: Sequence[str]
    model: str
    served_model_names: Sequence[str] = ()
    defaults: RuleDefaults = field(default_factory=RuleDefaults)
    max_wave: int = 16
    min_wave: int = 1
    max_samples_in_flight: int = 256
    upstream_timeout: float = 600.0
    load_balancing: str = "round-robin"
    api_key: str | None = None
    upstream_api_key: str | None = None

    def __post_init__(self) -> None:
        if self.max_wave < 1 or self.min_wave < 1 or self.min_wave > self.max_wave:
            raise ValueError(f"need 1 <= min_wave <= max_wave, got {self.min_wave, self.max_wave}")
        if self.max_samples_in_flight < self.max_wave:
            raise ValueError("max_samples_in_flight must be >= max_wave")
        if not self.upstream_timeout > 0:
            raise ValueError(f"upstream_timeout must be > 0, got {self.upstream_timeout}")
        Replicas(self.upstreams, self.load_balancing)  # checks URLs and policy
        # Bad rule defaults fail here, not in every request (and the rules load now, not then).
        probe = {"model": self.names[0], "messages": [{"role": "user", "content": "?"}]}
        try:
            parse_request(probe, self.names, self.model, self.defaults)
        except ServeError as error:
            raise ValueError(f"bad rule defaults: {error.message}") from error

    @property
    def names(self) -> tuple[str, ...]:
        """Model names clients may use."""
        return tuple(self.served_model_names) or (self.model,)


def create_app(config: ServeConfig, make_scorer: ScorerFactory) -> Starlette:
    """Build the ASGI app (run it with uvicorn, or ``optscale-gen serve``).

    Parameters
    ----------
    config
        Upstreams, defaults and limits.
    make_scorer
        Called once at startup with the server's HTTP client and metrics; returns an async
        ``(problem, texts) -> Scored`` callable.

    Returns
    -------
    starlette.applications.Starlette
        The app; its ``state.metrics`` holds the server's Prometheus metrics.
    """
    from optscale_gen._app import build

    return build(config, make_scorer)
