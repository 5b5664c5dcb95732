"""Airflow plugin: the Ofsted ratings view (etl/web) in the Airflow UI, at /ofsted-ratings/.

Airflow imports every file in plugins/ in every component, so this one stays light: the app is
built on its first request. Airflow mounts a plugin's app without authentication; the app puts
Airflow's own authentication on every route (etl.web.auth.airflow_viewer).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


class LazyViewApp:
    """An ASGI app that builds the real one (FastAPI, Jinja2, the warehouse code) when first called."""

    def __init__(self) -> None:
        self._app = None

    async def __call__(self, scope, receive, send) -> None:
        if self._app is None:
            from etl.web.airflow import create_airflow_app

            self._app = create_airflow_app()
        await self._app(scope, receive, send)


class OfstedRatingsPlugin(AirflowPlugin):
    name = "ofsted_ratings"
    fastapi_apps = [{"app": LazyViewApp(), "url_prefix": "/ofsted-ratings", "name": "Ofsted ratings"}]
    external_views = [
        {
            "name": "Ofsted ratings",
            "href": "ofsted-ratings/",  # relative, trailing slash: resolved against the UI's base URL
            "destination": "nav",
            "url_route": "ofsted-ratings",  # opens inside the UI's frame
            "nav_top_level": True,  # its own entry in the navigation bar, not under a menu
        }
    ]
