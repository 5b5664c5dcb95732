"""Who may look, and who may edit: one FastAPI dependency per way the app is served.

Every route of the app depends on a `viewer` dependency (set once, on the app), so no page can
be added without authentication. Under Airflow it is Airflow's own user (bearer token or the UI's
session cookie); under `ofsted serve` it is a shared token when the server is reachable from
other machines, and the local user on loopback. Review actions need `Viewer.can_edit`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

# the DAG whose editors may correct its data (accept a review, set grades)
PIPELINE_DAG_ID = "ofsted_ingest"
TOKEN_COOKIE = "ofsted_view_token"
CSRF_COOKIE = "ofsted_csrf"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Viewer:
    name: str
    can_edit: bool


def airflow_viewer():
    """Airflow's authentication: the user behind the bearer token or the UI's `_token` cookie
    (401 without one). Editing needs permission to edit the pipeline's DAG (`PUT` on
    ofsted_ingest: the simple auth manager's USER role and above, or FAB's DAG edit right)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails
    from airflow.api_fastapi.core_api.security import get_user

    # a default, not an Annotated type: this module's annotations are strings FastAPI resolves
    # in module globals, where the lazily imported Airflow names are not
    def viewer(user=Depends(get_user)) -> Viewer:
        can_edit = get_auth_manager().is_authorized_dag(method="PUT", details=DagDetails(id=PIPELINE_DAG_ID), user=user)
        return Viewer(user.get_name(), bool(can_edit))

    return viewer


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_viewer(token: str | None):
    """`ofsted serve`: with no token (loopback only) the local user, who may edit; with a token,
    a request must carry it as `Authorization: Bearer`, or in the cookie that `?token=` sets once
    (then the page reloads without it, so the token does not stay in the address bar)."""
    bearer = HTTPBearer(auto_error=False)
    # the cookie holds a digest of the token: cookie-safe characters, and not the token itself
    cookie = hashlib.sha256(token.encode()).hexdigest() if token else None

    def viewer(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Viewer:
        if token is None:
            return Viewer("local user", True)
        if credentials and _same(credentials.credentials, token):
            return Viewer("token", True)
        if _same(request.cookies.get(TOKEN_COOKIE), cookie):
            return Viewer("token", True)
        if _same(request.query_params.get("token"), token):
            params = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            raise HTTPException(
                303,
                headers={
                    "Location": request.url.path + (f"?{urlencode(params)}" if params else ""),
                    "Set-Cookie": f"{TOKEN_COOKIE}={cookie}; HttpOnly; SameSite=Strict; Path=/",
                },
            )
        raise HTTPException(
            401, "Not authenticated: send the token (see `ofsted serve --help`)", headers={"WWW-Authenticate": "Bearer"}
        )

    return viewer


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def same_origin(request: Request) -> None:
    """Refuse a state-changing request sent from another site's page: a browser always sends
    Origin on a cross-site POST, and `null` from a sandboxed frame, a data: page or a redirect,
    so only our own origin passes (API clients, which send none, pass too: they cannot ride on a
    browser's cookie). The Host it is compared with is checked by `host_guard` under `ofsted
    serve`, and by Airflow's own server configuration under Airflow."""
    origin = request.headers.get("origin")
    if origin is not None and (origin == "null" or urlsplit(origin).netloc != request.headers.get("host")):
        raise HTTPException(403, "cross-site request refused")
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        raise HTTPException(403, "cross-site request refused")


# -- CSRF: a double-submit token tied to the viewer -------------------------------------------
# The browser holds a random value in an HttpOnly, SameSite=Strict cookie; each review form
# carries HMAC(value, viewer name). Another site's page can neither read the cookie nor the
# form, so it cannot make the pair; no server secret is needed, so any API worker can check it.
def csrf_cookie(request: Request) -> tuple[str, bool]:
    """The viewer's CSRF cookie value, and whether it is new (to be set on the response)."""
    value = request.cookies.get(CSRF_COOKIE)
    if value and len(value) == 43:
        return value, False
    return secrets.token_urlsafe(32), True


def csrf_token(cookie: str, viewer_name: str) -> str:
    return hmac.new(cookie.encode(), viewer_name.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, given: str | None, viewer_name: str) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not given or not hmac.compare_digest(csrf_token(cookie, viewer_name), given):
        raise HTTPException(403, "the form has expired or came from another page: reload the page and try again")


def host_guard(bound_host: str):
    """`ofsted serve`: the Host names a request may carry, against DNS rebinding (a foreign
    name made to resolve to our address, so that its pages count as our origin). On loopback,
    the loopback names; on a named address, that name; on a wildcard address (0.0.0.0, ::),
    any name: the token is required there, and its cookie is never sent to another name."""
    bound = bound_host.strip("[]").lower()
    if bound in ("0.0.0.0", "::", ""):
        return lambda host: True
    allowed = set(LOOPBACK_NAMES) if is_loopback(bound) else {bound}

    def allowed_host(host: str | None) -> bool:
        if not host:
            return False
        name = urlsplit(f"//{host}").hostname or ""
        return name.lower() in allowed

    return allowed_host
