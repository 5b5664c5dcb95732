"""ofsted_export: the analysts' files (xlsx, CSV, Parquet; `etl.export`) rewritten whenever
ofsted_ingest has refreshed the rating history, written to OFSTED_EXPORT_URL.

Data-aware: scheduled on the warehouse Assets that ofsted_ingest's detect_changes task updates
(both are updated together), and emits an Asset of its own for whatever reads the files.
Thin on purpose: `etl` is imported inside the task.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import Asset, dag, task

# the same Assets ofsted_ingest declares (matched by name and URI; tests/test_dag_integrity.py checks)
RATING_ASSETS = [Asset(name=f"ofsted_warehouse.{name}", uri=f"ofsted-warehouse://warehouse/{name}", group="ofsted")
                 for name in ("rating_history", "rating_changes")]
EXPORT_ASSET = Asset(name="ofsted_export.files", uri="ofsted-export://exports/ofsted-ratings", group="ofsted")


@dag(
    dag_id="ofsted_export",
    schedule=RATING_ASSETS,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["ofsted"],
    doc_md=__doc__,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(seconds=float(os.environ.get("OFSTED_RETRY_DELAY", "30"))),
        "execution_timeout": timedelta(minutes=15),
    },
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
