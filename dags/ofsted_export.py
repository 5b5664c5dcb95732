"""ofsted_export: the analysts' files (xlsx, CSV, Parquet; `etl.export`) rewritten whenever
ofsted_ingest has refreshed the rating history, written to OFSTED_EXPORT_URL.

Data-aware: scheduled on the warehouse Assets that ofsted_ingest's detect_changes task updates
(both are updated together), and emits an Asset of its own for whatever reads the files.
Thin on purpose: `etl` is imported inside the task.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task
from ofsted_common import DAG_DEFAULTS, EXPORT_ASSET, WAREHOUSE_ASSETS, default_args

RATING_ASSETS = [WAREHOUSE_ASSETS[name] for name in ("rating_history", "rating_changes")]  # both updated at once


@dag(
    dag_id="ofsted_export",
    schedule=RATING_ASSETS,
    **DAG_DEFAULTS,
    doc_md=__doc__,
    default_args=default_args(execution_timeout=timedelta(minutes=15)),
)
def ofsted_export():
    @task(outlets=[EXPORT_ASSET])
    def export(*, outlet_events) -> dict:
        from etl.config import airflow_settings
        from etl.export import export as write_files

        result = write_files(airflow_settings())
        outlet_events[EXPORT_ASSET].extra = {"location": result.location, "files": result.files}
        return {"location": result.location, "files": result.files, "rows": result.rows}

    export()


ofsted_export()
