"""The view as Airflow serves it: Airflow's authentication, and the warehouse named by the
`ofsted_warehouse` connection when one is defined (else OFSTED_WAREHOUSE_URL)."""

from __future__ import annotations

from fastapi import FastAPI

from etl.web import create_app
from etl.web.auth import airflow_viewer


def warehouse_url() -> str:
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection

    from etl.config import Settings, normalise_db_url

    try:
        return normalise_db_url(Connection.get_connection_from_secrets("ofsted_warehouse").get_uri())
    except AirflowNotFoundException:
        return Settings.from_env().warehouse_url


def create_airflow_app() -> FastAPI:
    # mounted inside Airflow's own app, which frames it: Airflow's origin, and only it, may
    return create_app(viewer=airflow_viewer(), warehouse_url=warehouse_url, frame_ancestors="'self'")
