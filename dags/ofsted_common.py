"""What the project's DAGs share: their defaults and the Assets between them. Not a DAG file
(.airflowignore keeps Airflow from parsing it as one); Airflow puts the DAGs folder on the
import path of every process that parses a DAG, so the DAG files import it by name. Like them,
it imports nothing of `etl` and touches no network or database.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import Asset

# the DAG(...) arguments both DAGs take as they are
DAG_DEFAULTS = {"start_date": datetime(2026, 1, 1), "catchup": False, "max_active_runs": 1, "tags": ["ofsted"]}


def default_args(**task_defaults) -> dict:
    """Every task's defaults: retried twice, OFSTED_RETRY_DELAY seconds apart (30), and what a
    DAG adds."""
    return {
        "retries": 2,
        "retry_delay": timedelta(seconds=float(os.environ.get("OFSTED_RETRY_DELAY", "30"))),
        **task_defaults,
    }


# Warehouse tables as Assets: ofsted_ingest updates them, exports and dashboards are scheduled on them.
WAREHOUSE_ASSETS = {
    name: Asset(name=f"ofsted_warehouse.{name}", uri=f"ofsted-warehouse://warehouse/{name}", group="ofsted")
    for name in ("publications", "reports", "judgements", "rating_history", "rating_changes")
}
# the analysts' files, written by ofsted_export
EXPORT_ASSET = Asset(name="ofsted_export.files", uri="ofsted-export://exports/ofsted-ratings", group="ofsted")
