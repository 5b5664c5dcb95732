"""`ofsted serve`: the view without Airflow, under uvicorn. Loopback only unless a token is set.

No other page may drive it: a request whose Host is not the bound address's is refused (DNS
rebinding), review actions need this origin and the form's token (etl.web.auth), and the
access log never shows a query string (where `?token=` would be).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from etl.web import create_app
from etl.web.auth import host_guard, token_viewer

TOKEN_ENV = "OFSTED_VIEW_TOKEN"


def create_standalone_app(settings, token: str | None, host: str = "127.0.0.1") -> FastAPI:
    app = create_app(
        viewer=token_viewer(token), warehouse_url=lambda: settings.warehouse_url, allowed_hosts=settings.allowed_hosts
    )
    app.add_middleware(HostGuard, allowed_host=host_guard(host))
    return app


class HostGuard:
    """ASGI middleware: a request whose Host is not the bound address's is answered 421."""

    def __init__(self, app, allowed_host):
        self.app, self.allowed_host = app, allowed_host

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            if not self.allowed_host(host):
                answer = PlainTextResponse("this view answers only to the address it was started on", status_code=421)
                return await answer(scope, receive, send)
        await self.app(scope, receive, send)


class _PathOnly(logging.Filter):
    """uvicorn's access log line without the query string (a `?token=` must never be logged)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def quiet_access_log() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _PathOnly) for f in logger.filters):
        logger.addFilter(_PathOnly())
