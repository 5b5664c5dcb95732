"""A DAG run that fails leaves its pipeline_runs row marked failed, not 'running'."""

from __future__ import annotations

import pytest

from etl.http import EXIT_UNREACHABLE
from etl.warehouse import connect
from tests.support.airflow_fixtures import run_dag
from tests.support.webhook import WebhookReceiver

pytestmark = [pytest.mark.xdist_group("airflow_e2e"), pytest.mark.timeout(900)]


def test_a_failed_dag_run_is_marked_failed_in_the_warehouse(airflow_home, tmp_path):
    warehouse = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    with WebhookReceiver() as ops:
        env = {
            "OFSTED_DATA_DIR": str(tmp_path),
            "OFSTED_SITE_URL": "http://127.0.0.1:9",  # nothing listens
            "OFSTED_WAREHOUSE_URL": warehouse,
            "OFSTED_OPS_ALERT_URLS": ops.apprise_url,
            "OFSTED_RETRY_DELAY": "0.1",
            "OFSTED_MAX_RETRIES": "0",
        }
        # past the reachability check, so that discover meets the closed port itself
        done = run_dag(airflow_home, env, args=("--no-check",))
    assert done.returncode == EXIT_UNREACHABLE and "finished: failed" in done.stdout, done.stdout[-3000:]
    with connect(warehouse) as wh:
        assert wh.fetchall("SELECT status, finished_at IS NOT NULL FROM pipeline_runs") == [("failed", True)]
    assert [m["title"] for m in ops.messages] == ["ofsted_ingest failed: discover"]
    # the site cannot be reached: discover fails at once, without Airflow's retries, and the
    # operators' notice and the terminal say the same one line
    notice = ops.messages[0]["message"].replace("\u200b", "")  # (a notice breaks URLs as alerts do)
    assert "after 1 tries" in notice and "cannot reach http://127.0.0.1:9/search" in notice
    line = notice.split(": ", 1)[1]
    assert line in done.stderr and "refused" in line and "OFSTED_SITE_URL" in line
    assert "No tasks to run" not in done.stdout + done.stderr
