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
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

# the DAG whose editors may correct its data (accept a review, set grades)
PIPELINE_DAG_ID = "ofsted_ingest"
TOKEN_COOKIE = "ofsted_view_token"


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
        can_edit = get_auth_manager().is_authorized_dag(
            method="PUT", details=DagDetails(id=PIPELINE_DAG_ID), user=user)
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
            raise HTTPException(303, headers={
                "Location": request.url.path + (f"?{urlencode(params)}" if params else ""),
                "Set-Cookie": f"{TOKEN_COOKIE}={cookie}; HttpOnly; SameSite=Strict; Path=/"})
        raise HTTPException(401, "Not authenticated: send the token (see `ofsted serve --help`)",
                            headers={"WWW-Authenticate": "Bearer"})

    return viewer


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def same_origin(request: Request) -> None:
    """Refuse a state-changing request sent from another site's page (cross-site form posts
    carry the session cookie in some browsers); requests without Origin (API clients) pass."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, "cross-site request refused")
