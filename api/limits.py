"""Per-client rate limits, as a FastAPI dependency for expensive endpoints.

Add it to a route (or a router) and each client address gets at most the configured number of
calls in a moving window; over it, 429 with ``Retry-After`` in the one JSON error shape::

    from api.limits import per_client

    @router.post("/api/expensive", dependencies=[per_client("expensive")])           # GUJI_CLIENT_RATE_LIMIT
    @router.post("/auth/token", dependencies=[per_client("login", "login_limit_per_client")])

``scope`` names the counter (routes sharing a scope share the budget); ``setting`` names the
Settings field holding the rate (``"60/minute"``, the ``limits`` notation), so operators tune it
with ``GUJI_...`` variables. The client is ``request.client.host``: behind a reverse proxy, run
uvicorn with ``--proxy-headers --forwarded-allow-ips=<proxy>`` so that it is the caller and not
the proxy. Counts live in this process (accounts/throttle.py).
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam

from api.deps import ContextDep


def per_client(scope: str, setting: str = "client_rate_limit") -> DependsParam:
    def limit(request: Request, ctx: ContextDep) -> None:
        client = request.client.host if request.client else "unknown"
        ctx.rate_limiter.hit(getattr(ctx.settings, setting), scope, client, what=f"requests to {scope} from {client}")

    return Depends(limit)
