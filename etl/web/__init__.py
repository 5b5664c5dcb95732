"""The Ofsted ratings view: England's hex map, every council's grades and story, the changes
(with Atom feeds) and the review queue, as one FastAPI app.

`create_app` builds it for either host: the Airflow plugin (`plugins/ofsted_ratings.py`, mounted
at /ofsted-ratings with Airflow's authentication) and `ofsted serve` (uvicorn, a shared token).
Pages are server-rendered with Jinja2 (autoescaped) and SVG; CSS and JS are served from
`static/`, so nothing is fetched from the internet.

What the view trusts (docs/view.md): nothing the site or a report says. Text is autoescaped;
every URL from the site is rendered through the link rule (etl.links); and each answer carries
a Content-Security-Policy (scripts only from `static/`, no inline script or handler, no
plugins, forms only to this app, framed only where `frame_ancestors` says) and nosniff.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parent


class SecurityHeaders:
    """ASGI middleware: the policy headers on every answer (pages, errors, static files)."""

    def __init__(self, app, policy: str):
        self.app = app
        self.headers = [
            (b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {name for name, _ in self.headers}
                message["headers"] = [h for h in message.get("headers", []) if h[0].lower() not in names] + self.headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def content_security_policy(frame_ancestors: str) -> str:
    # styles: view.css and the grade colours' <style> block (no user text reaches either)
    return (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
        f"frame-ancestors {frame_ancestors}"
    )


def create_app(
    *, viewer: Callable, warehouse_url: Callable[[], str], allowed_hosts=None, frame_ancestors: str = "'none'"
) -> FastAPI:
    """`viewer`: the authentication dependency (etl.web.auth), applied to every route;
    `warehouse_url`: called per request, so a connection defined later is picked up;
    `allowed_hosts`: the hosts a link from the site may point to (etl.links; default, the
    settings'); `frame_ancestors`: who may frame the pages (Airflow's own origin: 'self')."""
    from etl.config import Settings
    from etl.web import pages

    def authenticate(request: Request, who=Depends(viewer)) -> None:
        request.state.viewer = who

    app = FastAPI(
        title="Ofsted ratings", dependencies=[Depends(authenticate)], docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.warehouse_url = warehouse_url
    app.state.allowed_hosts = tuple(Settings.from_env().allowed_hosts if allowed_hosts is None else allowed_hosts)
    app.add_middleware(SecurityHeaders, policy=content_security_policy(frame_ancestors))
    # static files are public (no data in them), as Airflow mounts them
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    app.include_router(pages.router)
    return app
