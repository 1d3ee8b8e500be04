"""Which live stop rule a request gets: optscale-baselines' factory, with the server's defaults.

Every method of [`make_live_rule`][optscale_baselines.make_live_rule] is served. The server's
``--target``, ``--percentile`` and ``--peek`` flags are defaults of the ``"optscale"`` method
(the [`Allocator`][optscale_math.Allocator]); other methods take their settings from the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from optscale_baselines import LiveRule

SERVER_DEFAULTS: dict[str, tuple[str, ...]] = {"optscale": ("target", "percentile", "peek")}
"""Per method, the settings whose server-wide defaults apply when a request leaves them out."""


def make_rule(method: str, max_n: int, settings: Mapping[str, object]) -> LiveRule:
    """Build a fresh live rule for one problem.

    Raises
    ------
    ValueError
        On an unknown method, an unknown setting, or a bad value.
    """
    from optscale_baselines import make_live_rule

    return make_live_rule(method, max_n, **settings)
