"""OpenAI chat requests in, OpenAI chat responses out: parsing, per-request settings, the answer.

A request is an ordinary ``/v1/chat/completions`` body; the extra fields ``method``, ``max_n``,
``settings`` (the method's settings, an object) and the shortcuts ``target``, ``percentile`` and
``peek`` set the stop rule for this request and are removed before the body goes upstream. A model
name ``"<method>/<served name>"`` chooses the method too (an explicit ``method`` field wins).
Every problem with the body is a 400 naming the field.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optscale_gen._adaptive import AdaptiveResult, Wave
from optscale_gen._backend import sample_seed
from optscale_gen._errors import ServeError

if TYPE_CHECKING:
    from optscale_baselines import LiveRule
from optscale_gen._rules import SERVER_DEFAULTS, make_rule

SHORTCUTS = ("target", "percentile", "peek")
"""Settings of the ``"optscale"`` method a request may give as top-level fields."""
OWN_FIELDS = ("method", "max_n", "settings", *SHORTCUTS)
"""Request fields this server reads and never forwards."""


@dataclass(frozen=True)
class RuleDefaults:
    """Server-wide defaults of the per-request settings, and the cap on ``max_n``.

    Attributes
    ----------
    method
        Stop rule of a request that names none (a method of
        [`make_live_rule`][optscale_baselines.make_live_rule]).
    max_n
        Most samples of a request that sets no ``max_n``.
    target, percentile, peek
        Defaults of the ``"optscale"`` method's settings.
    max_n_limit
        Largest ``max_n`` a request may ask for.
    """

    method: str = "optscale"
    max_n: int = 16
    target: float = 0.9
    percentile: float = 0.05
    peek: int = 3
    max_n_limit: int = 256


@dataclass(frozen=True)
class ChatRequest:
    """A parsed request: the body to forward, the problem the scorer reads, the rule settings."""

    upstream_body: dict[str, Any]
    model: str
    problem: str
    method: str
    max_n: int
    settings: dict[str, object]
    seed: int | None

    def rule(self) -> LiveRule:
        """Build a fresh stop rule for this request."""
        return make_rule(self.method, self.max_n, self.settings)


def parse_request(
    body: object, served: tuple[str, ...], upstream_model: str, defaults: RuleDefaults
) -> ChatRequest:
    """Check a chat body and split it into what goes upstream and what sets the rule.

    Raises
    ------
    ServeError
        400 for a malformed body or setting, 404 for a model this server does not serve.
    """
    if not isinstance(body, dict):
        raise _bad("the request body must be a JSON object", None)
    model = body.get("model")
    prefix, _, rest = str(model).partition("/")
    named = None  # the model-name convention "<method>/<served name>", e.g. "bon/r1-7b"
    if model not in served and rest in served:
        named, model = prefix, rest
    if model not in served:
        raise ServeError(404, f"The model `{model}` does not exist.", "NotFoundError", "model")
    if body.get("stream"):
        raise _bad("streaming is not supported: the answer is chosen after sampling", "stream")
    if body.get("n", 1) != 1:
        raise _bad("n must be 1: the server returns the selected sample (set max_n instead)", "n")
    problem = _problem(body.get("messages"))
    method = body.get("method", named or defaults.method)
    if not isinstance(method, str):
        raise _bad(f"method must be a string, got {method!r}", "method")
    max_n = body.get("max_n", defaults.max_n)
    if isinstance(max_n, bool) or not isinstance(max_n, int) or max_n < 1:
        raise _bad(f"max_n must be a positive integer, got {max_n!r}", "max_n")
    if max_n > defaults.max_n_limit:
        raise _bad(f"max_n must be <= {defaults.max_n_limit} on this server", "max_n")
    extra = body.get("settings", {})
    if not isinstance(extra, dict):
        raise _bad(f"settings must be an object, got {extra!r}", "settings")
    given = {name: body[name] for name in SHORTCUTS if name in body}
    settings = {name: getattr(defaults, name) for name in SERVER_DEFAULTS.get(method, ())}
    settings |= given | extra
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise _bad(f"seed must be a non-negative integer, got {seed!r}", "seed")
    forward = {k: v for k, v in body.items() if k not in OWN_FIELDS} | {"model": upstream_model}
    request = ChatRequest(forward, str(model), problem, method, max_n, settings, seed)
    try:
        request.rule()
    except (ValueError, TypeError) as error:
        raise _bad(f"method {method!r}: {error}", "method") from error
    return request


def wave_body(request: ChatRequest, n: int, start: int) -> dict[str, Any]:
    """Build the upstream body asking for ``n`` samples, from sample ``start`` of the request on.

    With a ``seed`` each wave gets its own, derived from (seed, start): repeating the seed would
    repeat the first wave's samples.
    """
    body = dict(request.upstream_body, n=n)
    if request.seed is not None:
        body["seed"] = sample_seed(request.seed, 0, start)
    return body


def parse_wave(payload: Mapping[str, Any], n: int, url_hint: str = "upstream") -> Wave:
    """Texts, choices and usage of an upstream chat answer; a 502 if it is not one."""
    try:
        choices = sorted(payload["choices"], key=lambda c: int(c.get("index", 0)))
        texts = [str(choice["message"]["content"] or "") for choice in choices]
        usage = payload.get("usage") or {}
        prompt = int(usage.get("prompt_tokens") or 0)
        completion = int(usage.get("completion_tokens") or 0)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        message = f"{url_hint} answered no chat completion ({type(error).__name__}: {error})"
        raise ServeError(502, message, "upstream_error") from error
    if len(texts) != n:
        message = f"{url_hint} answered {len(texts)} choices for n={n}"
        raise ServeError(502, message, "upstream_error")
    return Wave(texts, prompt, completion, choices)


def chat_response(request: ChatRequest, result: AdaptiveResult) -> dict[str, Any]:
    """Build the OpenAI answer: the selected choice, ``usage`` over everything, ``optscale``."""
    selected = result.choice
    if selected < 0:  # a rule that found nothing to choose: fall back to the best score drawn
        selected = max(range(result.n_drawn), key=lambda i: (result.scores[i], -i))
    choice = result.choices[selected]
    answer = dict(choice) if isinstance(choice, dict) else {"message": {"content": choice}}
    answer["index"] = 0
    prompt = result.prompt_tokens + result.score_tokens
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model,
        "choices": [answer],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": result.completion_tokens,
            "total_tokens": prompt + result.completion_tokens,
        },
        "optscale": {
            "method": request.method,
            "settings": request.settings,
            "max_n": request.max_n,
            "samples_drawn": result.n_drawn,
            "samples_used": result.n_used,
            "planned_n": result.planned_n,
            "waves": result.waves,
            "scores": result.scores,
            "answer_ids": result.answer_ids,
            "selected": selected,
            "rule_choice": result.choice,
            "usage": {
                "generation_prompt_tokens": result.prompt_tokens,
                "generation_completion_tokens": result.completion_tokens,
                "scoring_tokens": result.score_tokens,
            },
        },
    }


def _problem(messages: object) -> str:
    """Return the last user message's text: what the scorer judges the completions against."""
    if not isinstance(messages, list) or not messages:
        raise _bad("messages must be a non-empty list", "messages")
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):  # content parts: keep the text ones
                parts = [p.get("text", "") for p in content if isinstance(p, dict)]
                return "".join(str(p) for p in parts)
    raise _bad("messages hold no user message with text content", "messages")


def _bad(message: str, param: str | None) -> ServeError:
    return ServeError(400, message, "invalid_request_error", param)
