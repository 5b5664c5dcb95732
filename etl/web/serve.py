"""`ofsted serve`: the view without Airflow, under uvicorn. Loopback only unless a token is set."""
from __future__ import annotations

import os
import sys

from fastapi import FastAPI

from etl.web import create_app
from etl.web.auth import is_loopback, token_viewer

TOKEN_ENV = "OFSTED_VIEW_TOKEN"


def create_standalone_app(settings, token: str | None) -> FastAPI:
    return create_app(viewer=token_viewer(token), warehouse_url=lambda: settings.warehouse_url)


def serve_command(args, settings) -> int:
    token = os.environ.get(TOKEN_ENV) or None
    if not is_loopback(args.host) and token is None:
        print(f"ofsted serve: binding {args.host} makes the view reachable from other machines; "
              f"set {TOKEN_ENV} to a long random token first (clients send it as "
              f"`Authorization: Bearer ...`, or open the page once with ?token=...)", file=sys.stderr)
        return 2
    import uvicorn

    print(f"Ofsted ratings view on http://{args.host}:{args.port}/ (warehouse: {settings.warehouse_url.split('@')[-1]})"
          + ("; token required" if token else ""), file=sys.stderr)
    uvicorn.run(create_standalone_app(settings, token), host=args.host, port=args.port, log_level="info")
    return 0
