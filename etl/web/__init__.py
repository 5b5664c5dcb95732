"""The Ofsted ratings view: England's hex map, every council's grades and story, the changes
(with Atom feeds) and the review queue, as one FastAPI app.

`create_app` builds it for either host: the Airflow plugin (`plugins/ofsted_ratings.py`, mounted
at /ofsted-ratings with Airflow's authentication) and `ofsted serve` (uvicorn, a shared token).
Pages are server-rendered with Jinja2 (autoescaped) and SVG; CSS and JS are served from
`static/`, so nothing is fetched from the internet.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parent


def create_app(*, viewer: Callable, warehouse_url: Callable[[], str]) -> FastAPI:
    """`viewer`: the authentication dependency (etl.web.auth), applied to every route;
    `warehouse_url`: called per request, so a connection defined later is picked up."""
    from etl.web import pages

    def authenticate(request: Request, who=Depends(viewer)) -> None:
        request.state.viewer = who

    app = FastAPI(title="Ofsted ratings", dependencies=[Depends(authenticate)],
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.warehouse_url = warehouse_url
    # static files are public (no data in them), as Airflow mounts them
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    app.include_router(pages.router)
    return app
